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

/** The linear layer that computes the logits, looking back through reshapes. */
function lastLinear(c: Compilation): Node {
  const g = c.graph;
  const prod = producers(g);
  let node = prod.get(c.logits);
  while (node && ['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Identity'].includes(node.op)) node = prod.get(node.inputs[0]!);
  if (!node || !['Conv', 'Gemm', 'MatMul'].includes(node.op) || !g.initializers.has(node.inputs[1]!)) {
    throw new BacklightError(`CLRP2 negates the weights of the layer that computes the logits, but '${c.logits}' does not come from a Conv/Gemm/MatMul with constant weights`);
  }
  return node;
}

/**
 * CLRP2's walk override: at the last linear layer, the seed half runs the layer's rule and the
 * dual half the same rule with the weights negated.
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
