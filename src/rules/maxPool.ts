/**
 * MaxPool: every method sends the signal to the forward pass's switch (the first maximum of each
 * window, as PyTorch and onnxruntime pick it). The switches come from MaxPool's Indices output
 * (flat indices into the input); ScatterElements with reduction 'add' places the signal, so that
 * overlapping windows that share a winner add up instead of overwriting each other. For windows
 * that tile the input, ArgMax over each window and a one-hot product (no Indices output, which
 * onnxruntime's WebGPU MaxPool lacks) was measured 10–15 % slower on VGG-16 on the CPU.
 */
import { attrInt } from '../ir/graph.js';
import { sizeOf } from '../ir/tensor.js';
import { relevanceProduct } from './lrp.js';
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

function routeToSwitches(ctx: RuleContext): string[] {
  const { node, emit, k } = ctx;
  if (attrInt(node, 'storage_order', 0) !== 0) refuse(ctx, 'storage_order=1 is not supported');
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
