/**
 * Meta-saliency (Rebuffi et al. 2020): one SGD step on the cross-entropy of the target class with
 * respect to the weights, then the saliency of the updated network. All of it is emitted into the
 * compiled graph: the loss gradient on the logits, a gradient backward pass that also yields the
 * weight gradients of every Conv/Gemm, the updated weights W − lr·∇W, and a second forward pass with
 * them, which the method's backward pass then explains. The model file is never rewritten and the
 * original weights are untouched. The step is taken on the canonical parameters (BatchNorm folded
 * into its convolution), one image and one target per run.
 */
import { BacklightError } from '../errors.js';
import { windowAttributes } from '../ir/convGeometry.js';
import { attrFloat, attrInt, shapeOf, type Graph, type Node } from '../ir/graph.js';
import { RULES } from '../rules/index.js';
import type { Lowering, RuleContext } from '../rules/types.js';
import type { Emitter } from '../ir/emitter.js';

export interface MetaStep {
  /** The forward nodes of the updated network (outputs renamed, weights replaced). */
  nodes: Node[];
  /** The updated network's logits. */
  logits: string;
}

/** ∇W of a Conv for one image: correlate the input with the output signal (channels as batch). */
function convWeightGradient(emit: Emitter, g: Graph, node: Node, signal: string): string {
  const x = node.inputs[0]!;
  const xs = shapeOf(g, x);
  const ws = shapeOf(g, node.inputs[1]!);
  const ys = shapeOf(g, node.outputs[0]!);
  const { group, strides, dilations, pads } = windowAttributes(node, ws.length - 2);
  const kernel = ws.slice(2);
  // The signal plays the kernel: its stride is the layer's dilation and its dilation the stride.
  const attrs = { pads, strides: dilations, dilations: strides };
  let full: string;
  if (group === 1) {
    const xt = emit.op('Transpose', [x], { perm: [1, 0, ...kernel.map((_, i) => i + 2)] }); // [Cin, 1, H, W]
    const gt = emit.op('Transpose', [signal], { perm: [1, 0, ...kernel.map((_, i) => i + 2)] }); // [Cout, 1, h, w]
    const corr = emit.op('Conv', [xt, gt], { ...attrs, kernel_shape: ys.slice(2) }); // [Cin, Cout, k…]
    full = emit.op('Transpose', [corr], { perm: [1, 0, ...kernel.map((_, i) => i + 2)] });
  } else if (ws[1] === 1 && xs[1] === group) {
    // Depthwise: each output channel correlates only with its own input channel.
    const corr = emit.op('Conv', [x, emit.reshape(signal, [ws[0]!, 1, ...ys.slice(2)])], { ...attrs, group, kernel_shape: ys.slice(2) });
    full = emit.reshape(corr, [ws[0]!, 1, ...shapeAfterCorrelation(xs, ys, pads, strides, dilations)]);
  } else {
    throw new BacklightError(`meta-saliency: node '${node.name}' (Conv) has groups of several channels (group ${group}), which is not supported`, 'usage');
  }
  // The correlation can be a little larger than the kernel when the input has unused border rows.
  const size = shapeAfterCorrelation(xs, ys, pads, strides, dilations);
  if (size.every((s, i) => s === kernel[i])) return full;
  return emit.op('Slice', [full, emit.int64s(kernel.map(() => 0)), emit.int64s(kernel), emit.int64s(kernel.map((_, i) => i + 2))]);
}

function shapeAfterCorrelation(xs: number[], ys: number[], pads: number[], strides: number[], dilations: number[]): number[] {
  const r = xs.length - 2;
  return xs.slice(2).map((x, i) => Math.floor((x + pads[i]! + pads[i + r]! - strides[i]! * (ys[2 + i]! - 1) - 1) / dilations[i]!) + 1);
}

/** ∇W of a Gemm: gᵀx for W [out, in] (transB = 1), xᵀg otherwise. */
function gemmWeightGradient(emit: Emitter, node: Node, signal: string): string {
  if (attrInt(node, 'transA', 0) !== 0) throw new BacklightError(`meta-saliency: node '${node.name}' (Gemm) with transA=1 is not supported`, 'usage');
  const alpha = attrFloat(node, 'alpha', 1);
  const x = node.inputs[0]!;
  const grad = attrInt(node, 'transB', 0) ? emit.op('Gemm', [signal, x], { transA: 1 }) : emit.op('Gemm', [x, signal], { transA: 1 });
  return alpha === 1 ? grad : emit.op('Mul', [grad, emit.scalar(alpha)]);
}

/**
 * Emits the SGD step and the updated forward pass. `forward` are the model's nodes (already in the
 * compiled graph), `onehot` the target one-hot [1, classes].
 */
export function emitMetaStep(emit: Emitter, g: Graph, forward: Node[], input: string, logits: string, onehot: string, learningRate: number, lowering: Lowering): MetaStep {
  const classes = shapeOf(g, logits)[1]!;
  if (shapeOf(g, input)[0] !== 1) throw new BacklightError('meta-saliency explains one image per run', 'usage');
  // d CE / d logits = softmax(logits) − onehot
  const seed = emit.op('Sub', [emit.op('Softmax', [logits], { axis: 1 }), emit.reshape(onehot, [1, classes])], {}, 'ceGrad');

  const live = new Set<string>([input]);
  for (const n of forward) if (n.inputs.some((i) => live.has(i))) for (const o of n.outputs) if (o) live.add(o);
  const contributions = new Map<string, string[]>([[logits, [seed]]]);
  const signalOf = (t: string): string | undefined => {
    const parts = contributions.get(t);
    if (!parts) return undefined;
    if (parts.length > 1) contributions.set(t, [emit.op('Sum', parts)]);
    return contributions.get(t)![0];
  };
  const updated = new Map<string, string>();
  const step = (param: string, grad: string): void => {
    updated.set(param, emit.op('Sub', [param, emit.op('Mul', [grad, emit.scalar(learningRate)])], {}, 'sgdStep'));
  };
  for (let i = forward.length - 1; i >= 0; i--) {
    const node = forward[i]!;
    const signals = node.outputs.map((o) => (o ? signalOf(o) : undefined));
    if (signals.every((s) => s === undefined)) continue;
    const isLinear = (node.op === 'Conv' || node.op === 'Gemm') && g.initializers.has(node.inputs[1]!);
    if (isLinear) {
      const s = signals[0]!;
      step(node.inputs[1]!, node.op === 'Conv' ? convWeightGradient(emit, g, node, s) : gemmWeightGradient(emit, node, s));
      if (node.inputs[2] && g.initializers.has(node.inputs[2])) {
        const axes = node.op === 'Conv' ? [0, ...shapeOf(g, node.outputs[0]!).slice(2).map((_, j) => j + 2)] : [0];
        const beta = node.op === 'Gemm' ? attrFloat(node, 'beta', 1) : 1;
        const db = emit.op('ReduceSum', [s, emit.int64s(axes)], { keepdims: 0 });
        step(node.inputs[2], beta === 1 ? db : emit.op('Mul', [db, emit.scalar(beta)]));
      }
    }
    const needs = node.inputs.map((n) => n !== '' && live.has(n));
    if (!needs.some(Boolean)) continue;
    const rules = RULES.get(node.op)!;
    const ctx: RuleContext = {
      graph: g, node, emit, k: 1, signals, needs, family: 'gradient', stabilizer: 1e-6, lowering,
      shape: (name) => shapeOf(g, name),
      constant: (name) => g.initializers.get(name),
    };
    rules.gradient(ctx).forEach((s, j) => {
      const t = node.inputs[j];
      if (!s || !t || !needs[j]) return;
      const list = contributions.get(t) ?? [];
      list.push(s);
      contributions.set(t, list);
    });
  }

  // The updated network: the same nodes with renamed outputs and the stepped parameters.
  const rename = new Map<string, string>(updated);
  const nodes: Node[] = forward.map((n) => {
    const outputs = n.outputs.map((o) => {
      if (!o) return o;
      const name = emit.scope.fresh(`meta|${o}`);
      rename.set(o, name);
      const v = g.values.get(o);
      if (v) g.values.set(name, { ...v, name });
      return name;
    });
    return { ...n, name: emit.scope.fresh(`meta|${n.name}`), inputs: n.inputs.map((i) => rename.get(i) ?? i), outputs };
  });
  for (const [param, name] of updated) g.values.set(name, { name, dtype: 'float32', shape: shapeOf(g, param) });
  emit.nodes.push(...nodes);
  return { nodes, logits: rename.get(logits)! };
}
