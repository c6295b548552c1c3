/**
 * Helpers shared by the LRP rules: stabilized division, relevance products x ⊙ c, and the facts
 * about the forward graph that rules rely on (non-negative tensors, the first linear layer).
 * Stabilization follows Zennit: stab(z) = z + ε·sign(z), sign(0) = +1.
 */
import { asFloat32 } from '../ir/tensor.js';
import { producers, type Graph } from '../ir/graph.js';
import { mulFact } from './signal.js';
import type { RuleContext } from './types.js';

/** z + ε·sign(z) with sign(0) = +1, on a forward tensor. */
export function stabilize(ctx: RuleContext, z: string, epsilon = ctx.stabilizer): string {
  const { emit } = ctx;
  const signed = emit.op('Where', [emit.op('Less', [z, emit.scalar(0)]), emit.scalar(-epsilon), emit.scalar(epsilon)]);
  return emit.op('Add', [z, signed], {}, 'stabilized');
}

/** x ⊙ c for a forward tensor x and a K-major signal c of x's shape, recorded as a product (Emitter.products). */
export function relevanceProduct(ctx: RuleContext, x: string, c: string, xs: readonly number[]): string {
  const r = mulFact(ctx, c, xs, x, xs);
  ctx.emit.products.set(r, { x, c, shape: xs });
  return r;
}

const sameShape = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);

/** The product x ⊙ c that a signal was emitted as, when it reaches this node's output unchanged. */
export function arrivingProduct(ctx: RuleContext, signal: string): { x: string; c: string } | undefined {
  const p = ctx.emit.products.get(signal);
  return p && sameShape(p.shape, ctx.shape(ctx.node.outputs[0]!)) ? p : undefined;
}

/**
 * R / stab(z) for a K-major signal R and a forward denominator z of the output's shape
 * (`stabilized`: z already includes the stabilizer). When R arrives as x ⊙ c (the relevance of
 * the next layer's input, passed unchanged through a rectifier), it is computed as c ⊙ (x / stab(z)):
 * one K-wide product instead of two, and x / stab(z) once for all seeds.
 */
export function divideByStabilized(ctx: RuleContext, signal: string, z: string, epsilon?: number, stabilized = false): string {
  const s = ctx.shape(ctx.node.outputs[0]!);
  const denominator = stabilized ? z : stabilize(ctx, z, epsilon);
  const product = arrivingProduct(ctx, signal);
  if (product) return mulFact(ctx, product.c, s, ctx.emit.op('Div', [product.x, denominator], {}, 'relevanceRatio'), s);
  return mulFact(ctx, signal, s, denominator, s, 'Div');
}

/** Whether a tensor is ≥ 0 by construction: the output of a rectifier, or a pooling/reshape of one. */
export function nonNegative(graph: Graph, name: string): boolean {
  const prod = producers(graph).get(name);
  if (!prod) return false;
  switch (prod.op) {
    case 'Relu':
      return true;
    case 'Clip': {
      const lo = prod.inputs[1] ? graph.initializers.get(prod.inputs[1]) : undefined;
      return !!lo && asFloat32(lo)[0]! >= 0;
    }
    case 'MaxPool': case 'AveragePool': case 'GlobalAveragePool': case 'GlobalMaxPool':
    case 'Flatten': case 'Reshape': case 'Squeeze': case 'Unsqueeze': case 'Transpose':
      return nonNegative(graph, prod.inputs[0]!);
    case 'Concat':
      return prod.inputs.every((i) => nonNegative(graph, i));
    default:
      return false;
  }
}

/** The first linear layer (Conv, Gemm or MatMul) in topological order: "the first layer" of composites. */
export function isFirstLinearLayer(graph: Graph, nodeName: string): boolean {
  const first = graph.nodes.find((n) => n.op === 'Conv' || n.op === 'Gemm' || n.op === 'MatMul');
  return first?.name === nodeName;
}

/**
 * Zennit's Norm rule for a parameter-free linear op (average pooling): R_in = x ⊙ ∇op(R / stab(y)),
 * with ∇op the op's gradient rule.
 */
export function proportionalThrough(ctx: RuleContext, gradient: (ctx: RuleContext) => (string | undefined)[]): (string | undefined)[] {
  const s = divideByStabilized(ctx, ctx.signals[0]!, ctx.node.outputs[0]!);
  const back = gradient({ ...ctx, signals: [s] })[0]!;
  const x = ctx.node.inputs[0]!;
  return [relevanceProduct(ctx, x, back, ctx.shape(x))];
}

/** Relevance passes through unchanged (activations, standalone normalization, scaling). */
export const passRelevance = (ctx: RuleContext): (string | undefined)[] => ctx.node.inputs.map((_, i) => (i === 0 && ctx.needs[0] ? ctx.signals[0] : undefined));
