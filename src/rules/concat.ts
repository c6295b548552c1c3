/** Concat: the signal is split back into the pieces (on the [K, …] view, so any axis works). */
import { attrInt } from '../ir/graph.js';
import { unviewK, viewK } from './signal.js';
import type { OpRules } from './types.js';

export const concat: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    const ys = ctx.shape(node.outputs[0]!);
    const axis0 = attrInt(node, 'axis', 0);
    const axis = axis0 < 0 ? axis0 + ys.length : axis0;
    const shapes = node.inputs.map((n) => ctx.shape(n));
    const pieces = emit.ops('Split', [viewK(ctx, ctx.signals[0]!, ys), emit.int64s(shapes.map((s) => s[axis]!))], { axis: axis + 1 }, shapes.length, 'unConcat');
    return pieces.map((p, i) => (ctx.needs[i] ? unviewK(ctx, p, shapes[i]!) : undefined));
  },
};
