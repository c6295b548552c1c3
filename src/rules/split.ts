/** Split: the output signals are concatenated back; outputs without a signal contribute zeros. */
import { attrInt } from '../ir/graph.js';
import { unviewK, viewK, zeros } from './signal.js';
import type { OpRules } from './types.js';

export const split: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    const xs = ctx.shape(node.inputs[0]!);
    const axis0 = attrInt(node, 'axis', 0);
    const axis = axis0 < 0 ? axis0 + xs.length : axis0;
    const parts = node.outputs.map((o, i) => {
      const s = ctx.shape(o);
      return viewK(ctx, ctx.signals[i] ?? zeros(ctx, s), s);
    });
    return [unviewK(ctx, emit.op('Concat', parts, { axis: axis + 1 }, 'unSplit'), xs)];
  },
};
