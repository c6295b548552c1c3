/**
 * Mul and Div. By a constant (normalization, scaling) the signal is scaled the same way; between
 * two input-dependent tensors (squeeze-excitation gates, SiLU = x·σ(x), GELU = x·Φ(x), LayerNorm's
 * division by σ) the product rule applies: d(a·b) = R·b, R·a and d(a/b) = R/b, −R·(a/b)/b, each
 * summed over broadcast axes.
 *
 * LRP (../shared/papers/METHODS.md, "Modern blocks"): a gate — a factor computed by a bounded
 * activation (Sigmoid, HardSigmoid, Erf, Tanh, Clip), possibly shifted and scaled by constants — is
 * a constant of the forward pass: all relevance goes to the other factor, none to the gate. A
 * quotient sends all relevance to the numerator (the denominator is a normalizer). Any other
 * product of two signals splits relevance evenly (AttnLRP's uniform rule for multiplicative
 * interactions).
 * Design history: docs/design/modern-blocks.md
 */
import { producers, type Graph } from '../ir/graph.js';
import { mulFact, refuse, unbroadcast } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

function product(ctx: RuleContext): (string | undefined)[] {
  const { node } = ctx;
  const out = ctx.shape(node.outputs[0]!);
  return node.inputs.map((name, i) => {
    if (!ctx.needs[i]) return undefined;
    const other = node.inputs[1 - i]!;
    return unbroadcast(ctx, mulFact(ctx, ctx.signals[0]!, out, other, ctx.shape(other)), out, ctx.shape(name));
  });
}

function quotient(ctx: RuleContext): (string | undefined)[] {
  const { node, emit } = ctx;
  const out = ctx.shape(node.outputs[0]!);
  const [a, b] = node.inputs as [string, string];
  const bShape = ctx.shape(b);
  const da = ctx.needs[0] ? unbroadcast(ctx, mulFact(ctx, ctx.signals[0]!, out, b, bShape, 'Div'), out, ctx.shape(a)) : undefined;
  let db: string | undefined;
  if (ctx.needs[1]) {
    const ry = mulFact(ctx, ctx.signals[0]!, out, node.outputs[0]!, out);
    db = unbroadcast(ctx, emit.op('Neg', [mulFact(ctx, ry, out, b, bShape, 'Div')]), out, bShape);
  }
  return [da, db];
}

const GATE_ACTIVATIONS = new Set(['Sigmoid', 'HardSigmoid', 'Erf', 'Tanh', 'Clip']);
const SHAPE_ONLY = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Expand', 'Identity', 'Transpose']);

/**
 * Whether a tensor is a gate: a bounded activation's output, through constant shifts and scales
 * (Φ(x) = ½(1 + erf(x/√2)), relu6(x + 3)/6) and reshapes.
 */
export function isGate(graph: Graph, name: string): boolean {
  const prod = producers(graph);
  let t = name;
  for (let steps = 0; steps < 8; steps++) {
    const n = prod.get(t);
    if (!n) return false;
    if (GATE_ACTIVATIONS.has(n.op)) return true;
    if (SHAPE_ONLY.has(n.op)) {
      t = n.inputs[0]!;
      continue;
    }
    if (['Add', 'Sub', 'Mul', 'Div'].includes(n.op)) {
      const varying = n.inputs.filter((i) => !graph.initializers.has(i));
      if (varying.length !== 1) return false;
      t = varying[0]!;
      continue;
    }
    return false;
  }
  return false;
}

/** Relevance to the signal factor(s) of a product of two input-dependent tensors. */
function productRelevance(ctx: RuleContext): (string | undefined)[] {
  const { node, emit } = ctx;
  if (!(ctx.needs[0] && ctx.needs[1])) return node.inputs.map((_, i) => (ctx.needs[i] ? ctx.signals[0] : undefined));
  const out = ctx.shape(node.outputs[0]!);
  const gates = node.inputs.map((n) => isGate(ctx.graph, n));
  const toOne = (i: number): (string | undefined)[] => {
    if (ctx.shape(node.inputs[i]!).some((d, j, s) => d !== out[out.length - s.length + j]) || ctx.shape(node.inputs[i]!).length !== out.length) {
      refuse(ctx, 'LRP through a gate that broadcasts the gated signal is not defined');
    }
    return node.inputs.map((_, j) => (j === i ? ctx.signals[0] : undefined));
  };
  if (gates[1] && !gates[0]) return toOne(0);
  if (gates[0] && !gates[1]) return toOne(1);
  // Uniform rule: each factor receives half (both have the output's shape or broadcast into it).
  const half = emit.op('Mul', [ctx.signals[0]!, emit.scalar(0.5)], {}, 'uniformHalf');
  return node.inputs.map((name) => unbroadcast(ctx, half, out, ctx.shape(name)));
}

/** LRP: scaling by a constant is a diagonal linear layer, whose z-rule passes relevance unchanged. */
function scaleRelevance(ctx: RuleContext): (string | undefined)[] {
  return ctx.node.inputs.map((_, i) => (ctx.needs[i] ? ctx.signals[0] : undefined));
}

/** A quotient's relevance goes to its numerator: the denominator is a normalizer. */
function quotientRelevance(ctx: RuleContext): (string | undefined)[] {
  if (!ctx.needs[0]) refuse(ctx, 'LRP through the reciprocal of an activation is not defined');
  const out = ctx.shape(ctx.node.outputs[0]!);
  const a = ctx.shape(ctx.node.inputs[0]!);
  if (a.length !== out.length || a.some((d, i) => d !== out[i])) refuse(ctx, 'LRP through a quotient that broadcasts its numerator is not defined');
  return [ctx.signals[0], undefined];
}

export const mul: OpRules = { gradient: product, lrp: productRelevance };
export const div: OpRules = { gradient: quotient, lrp: (ctx) => (ctx.needs[1] ? quotientRelevance(ctx) : scaleRelevance(ctx)) };
