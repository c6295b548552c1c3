/**
 * Slice: the signal goes back to the positions it was taken from, zeros elsewhere. Per sliced axis
 * with step s, zeros are interleaved (Unsqueeze, Pad by s − 1, Reshape), then the block is padded
 * to the input's extent. Works on the [K, …] view so any axis may be sliced.
 */
import { sliceParams } from '../ir/fold.js';
import { toNumbers } from '../ir/tensor.js';
import { refuse, unviewK, viewK } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

function constInts(ctx: RuleContext, i: number): number[] | undefined {
  const name = ctx.node.inputs[i];
  if (!name) return undefined;
  const t = ctx.constant(name);
  if (!t) refuse(ctx, 'starts, ends, axes and steps must be constants');
  return toNumbers(t);
}

export const slice: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    const xs = ctx.shape(node.inputs[0]!);
    const p = sliceParams(xs, constInts(ctx, 1)!, constInts(ctx, 2)!, constInts(ctx, 3), constInts(ctx, 4));
    if (p.some((q) => q.step < 0)) refuse(ctx, 'negative slice steps are not supported');
    let shape = [ctx.k, ...p.map((q) => q.size)];
    let v = viewK(ctx, ctx.signals[0]!, p.map((q) => q.size));
    p.forEach((q, axis) => {
      const a = axis + 1;
      if (q.step > 1 && q.size > 0) {
        // [.., n, ..] → [.., n, 1, ..] → pad to [.., n, s, ..] → [.., n·s, ..]
        const r = shape.length;
        const unsq = emit.reshape(v, [...shape.slice(0, a + 1), 1, ...shape.slice(a + 1)]);
        const padsA = new Array<number>(2 * (r + 1)).fill(0);
        padsA[r + 1 + a + 1] = q.step - 1;
        const spread = emit.op('Pad', [unsq, emit.int64s(padsA)], {}, 'interleave');
        shape = [...shape];
        shape[a] = q.size * q.step;
        v = emit.reshape(spread, shape);
      }
    });
    // Now axis a holds positions start, start+1, … (length size·step); place it within the input.
    const r = shape.length;
    const pads = new Array<number>(2 * r).fill(0);
    const crops: number[] = new Array<number>(r).fill(0);
    let needCrop = false;
    p.forEach((q, axis) => {
      const a = axis + 1;
      const len = q.step > 1 ? q.size * q.step : q.size;
      pads[a] = q.start;
      const after = xs[axis]! - q.start - len;
      if (after >= 0) pads[r + a] = after;
      else {
        crops[a] = after; // the interleaved tail runs past the input: cut it
        needCrop = true;
      }
    });
    if (needCrop) {
      const ends = shape.map((d, a) => d + crops[a]!);
      v = emit.op('Slice', [v, emit.int64s(new Array<number>(r).fill(0)), emit.int64s(ends)], {}, 'trim');
    }
    if (pads.some((x) => x !== 0)) v = emit.op('Pad', [v, emit.int64s(pads)], {}, 'unSlice');
    return [unviewK(ctx, v, xs)];
  },
};
