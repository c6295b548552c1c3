/**
 * Pad (constant mode): the signal of the padding is dropped and negative pads (crops) get zeros
 * back: Pad by the negative parts, then Slice off the positive parts, on the [K, …] view.
 */
import { attrString } from '../ir/graph.js';
import { toNumbers } from '../ir/tensor.js';
import { refuse, unviewK, viewK } from './signal.js';
import type { OpRules } from './types.js';

export const pad: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    if (attrString(node, 'mode', 'constant') !== 'constant') refuse(ctx, `only constant padding is supported (mode '${attrString(node, 'mode', '')}')`);
    if (ctx.needs[1] || ctx.needs[2]) refuse(ctx, 'pads and value must be constants');
    const padsT = ctx.constant(node.inputs[1]!);
    if (!padsT) refuse(ctx, 'pads must be a constant');
    const pads = toNumbers(padsT);
    const xs = ctx.shape(node.inputs[0]!);
    const ys = ctx.shape(node.outputs[0]!);
    const r = xs.length;
    let v = viewK(ctx, ctx.signals[0]!, ys);
    const grow = pads.map((p) => Math.max(0, -p));
    if (grow.some((p) => p > 0)) {
      v = emit.op('Pad', [v, emit.int64s([0, ...grow.slice(0, r), 0, ...grow.slice(r)])], {}, 'unCrop');
    }
    const starts = pads.slice(0, r).map((p) => Math.max(0, p));
    const ends = starts.map((s, i) => s + xs[i]!);
    const axes = xs.map((_, i) => i + 1);
    v = emit.op('Slice', [v, emit.int64s(starts), emit.int64s(ends), emit.int64s(axes)], {}, 'unPad');
    return [unviewK(ctx, v, xs)];
  },
};
