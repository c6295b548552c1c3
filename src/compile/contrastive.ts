/**
 * Contrastive LRP (Gu et al. §4): a dual concept propagated for every seed in the same backward
 * batch (the K dual seeds follow the K seeds, K-major), and max(0, R − R_dual) at the end.
 * 'clrp1': the dual seeds all other classes with S_j/(C − 1); 'clrp2': the dual goes through the
 * last linear layer with its weights negated.
 */
import { BacklightError, UnsupportedOpError } from '../errors.js';
import { producers, type Node } from '../ir/graph.js';
import { asFloat32 } from '../ir/tensor.js';
import type { Compilation } from './compilation.js';
import type { Emitter } from '../ir/emitter.js';
import type { RuleOverride } from './walk.js';

export interface Contrastive {
  kind: 'clrp1' | 'clrp2';
  /** Divide R and R_dual by their sums before subtracting (the authors' code). */
  normalize?: boolean;
}

/** The seeds followed by their duals, [2·K·N, classes]. */
export function withDualSeeds(c: Compilation, seed: string, kind: Contrastive['kind'], emit = c.emit): string {
  let dual = seed;
  if (kind === 'clrp1') {
    // (Σ r − r)/(C − 1): a seed v·e_j becomes v/(C − 1) on every other class.
    const total = emit.op('ReduceSum', [seed, emit.int64s([1])], { keepdims: 1 });
    dual = emit.op('Div', [emit.op('Sub', [total, seed]), emit.scalar(c.classes - 1)], {}, 'dualSeed');
  }
  return emit.op('Concat', [seed, dual], { axis: 0 }, 'seedAndDual');
}

/**
 * Ops between the last weight layer and the logits that keep each class's channel to itself:
 * reshapes, the rectifier and the global poolings of a conv head (SqueezeNet: Conv 1×1 → ReLU →
 * GlobalAveragePool → Flatten).
 */
const CHANNEL_PRESERVING = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity', 'Relu', 'GlobalAveragePool', 'GlobalMaxPool']);

/**
 * The weight layer that computes the logits: the node writing them, or the Conv/Gemm/MatMul behind
 * a chain of channel-preserving ops, whose output channels must then be the classes.
 */
function lastLinear(c: Compilation): Node {
  const g = c.graph;
  const prod = producers(g);
  let node = prod.get(c.logits);
  const between: string[] = [];
  while (node && CHANNEL_PRESERVING.has(node.op)) {
    between.push(node.op);
    node = prod.get(node.inputs[0]!);
  }
  const through = between.length > 0 ? ` (looking back through ${between.join(', ')})` : '';
  if (!node || !['Conv', 'Gemm', 'MatMul'].includes(node.op) || !g.initializers.has(node.inputs[1]!)) {
    throw new BacklightError(`CLRP2 negates the weights of the layer that computes the logits, but '${c.logits}' does not come from a Conv/Gemm/MatMul with constant weights${through}`);
  }
  const shape = g.values.get(node.outputs[0]!)?.shape;
  const channels = node.op === 'Conv' ? shape?.[1] : shape?.[shape.length - 1];
  if (between.length > 0 && channels !== c.classes) {
    throw new BacklightError(`CLRP2 negates the target's weights in the last layer, but '${node.name}' (${node.op}) has ${String(channels)} output channels for ${c.classes} classes${through}`);
  }
  return node;
}

/**
 * CLRP2's walk override: at the last linear layer, the seed half runs the layer's rule and the
 * dual half the same rule with the weights negated (the bias kept: METHODS.md's w_·j → −w_·j).
 *
 * Where channel-preserving ops sit between that layer and the logits (a conv head's ReLU and
 * global pooling), the dual's relevance reaches the layer through them exactly as the target's
 * does — over the original network's activations, ReLU and pooling included — and only the
 * layer's own redistribution sees the negated filter. The alternative, a whole dual network whose
 * ReLU reads the negated filter's output, would zero that output wherever the target's is positive:
 * S_j would find (almost) no activation to flow through, R_dual would vanish and CLRP2 collapse to
 * LRP. This way R_dual conserves S_j like R (the paper's premise), and with only reshapes between
 * (a linear head) it is the paper's dual network exactly. Design history: docs/design/transformer-layer-maps.md.
 */
export function negatedLastLayer(c: Compilation, emit = c.emit): RuleOverride {
  const { k, batch } = c;
  let last: Node | undefined;
  let negName: string | undefined;
  return (node, ctx, rule) => {
    if (node !== (last ??= lastLinear(c))) return undefined;
    const half = k * batch;
    const [normal, dual] = emit.ops('Split', [ctx.signals[0]!, emit.int64s([half, half])], { axis: 0 }, 2, 'splitDual');
    const wName = node.inputs[1]!;
    const w = c.graph.initializers.get(wName);
    if (!w) throw new UnsupportedOpError(node.name, node.op, 'CLRP2 needs the last layer to have constant weights');
    negName ??= emit.constant({ dtype: 'float32', dims: [...w.dims], data: Float32Array.from(asFloat32(w), (v) => -v) }, `${node.name}/w_negated`);
    const negNode: Node = { ...node, inputs: node.inputs.map((n, i) => (i === 1 ? negName! : n)) };
    const a = rule({ ...ctx, k, signals: [normal] });
    const b = rule({ ...ctx, node: negNode, k, signals: [dual] });
    return a.map((x, i) => (x && b[i] ? emit.op('Concat', [x, b[i]!], { axis: 0 }, 'joinDual') : undefined));
  };
}

/**
 * max(0, R − R_dual) from a [2·rows, …] signal holding R then R_dual; with `normalize`, each map is
 * first divided by its sum over all but the batch axis.
 */
export function contrast(emit: Emitter, both: string, rows: number, inputShape: number[], normalize: boolean): string {
  let [r, dual] = emit.ops('Split', [both, emit.int64s([rows, rows])], { axis: 0 }, 2, 'splitContrast');
  if (normalize) {
    const axes = emit.int64s(inputShape.slice(1).map((_, i) => i + 1));
    // A map summing to zero cannot be normalized: it counts as zero (Where drops the 0/0).
    const byOwnSum = (x: string): string => {
      const total = emit.op('ReduceSum', [x, axes], { keepdims: 1 });
      const zero = emit.op('Equal', [total, emit.scalar(0)]);
      return emit.op('Where', [zero, emit.scalar(0), emit.op('Div', [x, total])], {}, 'sumNormalized');
    };
    r = byOwnSum(r!);
    dual = byOwnSum(dual!);
  }
  return emit.op('Relu', [emit.op('Sub', [r!, dual!])], {}, 'contrast');
}

/** The seeds' half of a [2·rows, …] signal (a tap shows the explained concept's signal). */
export function seedHalf(emit: Emitter, signal: string, rows: number): string {
  return emit.op('Slice', [signal, emit.int64s([0]), emit.int64s([rows]), emit.int64s([0])]);
}
