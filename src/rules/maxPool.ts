/**
 * MaxPool: every method sends the signal to the forward pass's switch (the first maximum of each
 * window, as PyTorch and onnxruntime pick it). The switches come from MaxPool's Indices output
 * (flat indices into the input); ScatterElements with reduction 'add' places the signal, so that
 * overlapping windows that share a winner add up instead of overwriting each other.
 * onnxruntime's WebGPU MaxPool has no Indices output: for it (lowering `maxPoolSwitches: 'argmax'`),
 * pools whose windows tile the input find their switches with ArgMax instead (slower than the
 * scatter on the CPU, so not the default); other pools keep the Indices output.
 * Design history: docs/design/max-pool-switches.md
 */
import { padsExplicit, windowAttributes } from '../ir/convGeometry.js';
import { attrInt } from '../ir/graph.js';
import { sizeOf } from '../ir/tensor.js';
import { relevanceProduct } from './relevance.js';
import { refuse } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

export const maxPool: OpRules = {
  gradient: routeToSwitches,
  /**
   * Winner-take-all, as the gradient. Relevance arriving as p ⊙ c (p this pool's output) leaves as
   * a ⊙ route(c) (a its input): the same values, since p equals a at every switch, but still a
   * product that the linear layer below can regroup (see Emitter.products).
   */
  lrp(ctx) {
    const product = ctx.emit.products.get(ctx.signals[0]!);
    if (product?.x !== ctx.node.outputs[0]) return routeToSwitches(ctx);
    const routed = routeToSwitches({ ...ctx, signals: [product.c] })[0]!;
    const a = ctx.node.inputs[0]!;
    return [relevanceProduct(ctx, a, routed, ctx.shape(a))];
  },
};

/** Kernel of a 2-D pool whose windows tile the input exactly (kernel = stride, no padding), else undefined. */
function tilingKernel(ctx: RuleContext): [number, number] | undefined {
  const { node } = ctx;
  const xs = ctx.shape(node.inputs[0]!);
  const { kernel, strides, pads, dilations } = windowAttributes(node, 2);
  if (xs.length !== 4 || kernel?.length !== 2) return undefined;
  const [kh, kw] = kernel as [number, number];
  if (!padsExplicit(node)) return undefined;
  if (strides[0] !== kh || strides[1] !== kw || pads.some((p) => p !== 0) || dilations.some((d) => d !== 1)) return undefined;
  if (xs[2]! % kh !== 0 || xs[3]! % kw !== 0) return undefined;
  return [kh, kw];
}

/**
 * Windows that tile the input, without MaxPool's Indices output: the switch of each window is the
 * ArgMax of its kh·kw values (the first maximum, as MaxPool's), and the signal reaches it through a
 * one-hot product between two reshapes around a transpose.
 */
function routeTiled(ctx: RuleContext, [kh, kw]: [number, number]): string[] {
  const { node, emit, k } = ctx;
  const [n, c, H, W] = ctx.shape(node.inputs[0]!) as [number, number, number, number];
  const [h, w] = [H / kh, W / kw];
  const perm = [0, 1, 2, 4, 3, 5];
  const windows = emit.reshape(emit.op('Transpose', [emit.reshape(node.inputs[0]!, [n, c, h, kh, w, kw])], { perm }), [n, c, h, w, kh * kw]);
  const winner = emit.op('ArgMax', [windows], { axis: 4, keepdims: 1, select_last_index: 0 }, 'switches');
  const positions = emit.int64s(Array.from({ length: kh * kw }, (_, i) => i));
  const oneHot = emit.op('Cast', [emit.op('Equal', [winner, positions])], { to: 1 }, 'oneHot');
  // The K-major signal viewed as [K, N, …] broadcasts against the one-hot [N, …].
  const routed = emit.op('Mul', [emit.reshape(ctx.signals[0]!, [k, n, c, h, w, 1]), oneHot], {}, 'unpool');
  const back = emit.op('Transpose', [emit.reshape(routed, [k * n, c, h, w, kh, kw])], { perm });
  return [emit.reshape(back, [k * n, c, H, W])];
}

function routeToSwitches(ctx: RuleContext): string[] {
  const { node, emit, k } = ctx;
  if (attrInt(node, 'storage_order', 0) !== 0) refuse(ctx, 'storage_order=1 is not supported');
  const tiles = ctx.lowering.maxPoolSwitches === 'argmax' ? tilingKernel(ctx) : undefined;
  if (tiles) return routeTiled(ctx, tiles);
  const xs = ctx.shape(node.inputs[0]!);
  const ys = ctx.shape(node.outputs[0]!);
  // A second MaxPool with the Indices output; the forward node stays as the model wrote it.
  const attrs = { ...node.attrs };
  const [, indices] = emit.ops('MaxPool', [node.inputs[0]!], attrs, 2, 'switches');
  const nIn = sizeOf(xs);
  const nOut = sizeOf(ys);
  const flatIdx = emit.reshape(indices!, [1, nOut]);
  const idx = k === 1 ? flatIdx : emit.op('Expand', [flatIdx, emit.int64s([k, nOut])]);
  const updates = emit.reshape(ctx.signals[0]!, [k, nOut]);
  const zeros = emit.op('ConstantOfShape', [emit.int64s([k, nIn])], {}, 'zeros');
  const scattered = emit.op('ScatterElements', [zeros, idx, updates], { axis: 1, reduction: 'add' }, 'unpool');
  return [emit.reshape(scattered, [k * xs[0]!, ...xs.slice(1)])];
}
