/**
 * Ops that move or copy values without arithmetic, on a signal: Gather with constant indices
 * (the class token), Expand and Tile (copies: the signal of every copy adds up), Where with a
 * forward condition. Their backward is the same for every method: relevance is routed as the
 * gradient is, so it is conserved.
 */
import { attrInt } from '../ir/graph.js';
import { float32, sizeOf, toNumbers } from '../ir/tensor.js';
import { gateFact, kShape, refuse, unbroadcast, unviewK, viewK } from './signal.js';
import type { OpRules } from './types.js';

/**
 * Gather: the signal goes back to the gathered positions, as a MatMul with a one-hot matrix on the
 * signal viewed as [K·outer, m, inner] (K-major blocks keep that layout for every axis).
 */
export const gather: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    if (ctx.needs[1]) refuse(ctx, 'indices that depend on the input are not supported');
    const idxT = ctx.constant(node.inputs[1]!);
    if (!idxT) refuse(ctx, 'the indices must be a constant');
    const xs = ctx.shape(node.inputs[0]!);
    const a = attrInt(node, 'axis', 0);
    const axis = a < 0 ? a + xs.length : a;
    const dim = xs[axis]!;
    const idx = toNumbers(idxT).map((i) => (i < 0 ? i + dim : i));
    if (idx.some((i) => i < 0 || i >= dim)) refuse(ctx, `indices out of range for an axis of size ${dim}`);
    const outer = sizeOf(xs.slice(0, axis));
    const inner = sizeOf(xs.slice(axis + 1));
    const m = idx.length;
    const onehotT = new Float32Array(dim * m);
    idx.forEach((d, j) => (onehotT[d * m + j] = 1));
    const s = emit.reshape(ctx.signals[0]!, [ctx.k * outer, m, inner]);
    const back = emit.op('MatMul', [emit.constant(float32([dim, m], onehotT), `${node.name}/scatter`), s], {}, 'ungather');
    return [emit.reshape(back, kShape(ctx, xs)), undefined];
  },
};

/** Expand: every copy's signal is summed back (the backward of broadcasting). */
export const expand: OpRules = {
  gradient(ctx) {
    const { node } = ctx;
    return [unbroadcast(ctx, ctx.signals[0]!, ctx.shape(node.outputs[0]!), ctx.shape(node.inputs[0]!)), undefined];
  },
};

/** Tile: the output along axis i is reps_i copies of the input; their signals add up. */
export const tile: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    const reps = ctx.constant(node.inputs[1]!);
    if (!reps) refuse(ctx, 'the repeats must be a constant');
    const r = toNumbers(reps);
    const xs = ctx.shape(node.inputs[0]!);
    const ys = ctx.shape(node.outputs[0]!);
    // [K, …ys] viewed as [K, r0, d0, r1, d1, …], summed over the r axes.
    const split = xs.flatMap((d, i) => [r[i]!, d]);
    const v = emit.reshape(viewK(ctx, ctx.signals[0]!, ys), [ctx.k, ...split]);
    const summed = emit.op('ReduceSum', [v, emit.int64s(xs.map((_, i) => 1 + 2 * i))], { keepdims: 0 }, 'untile');
    return [unviewK(ctx, summed, xs), undefined];
  },
};

/** Where(cond, a, b): the signal goes to a where cond holds, to b elsewhere (the condition is a forward fact, like a ReLU mask). */
export const where: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    const cond = node.inputs[0]!;
    const out = ctx.shape(node.outputs[0]!);
    const cs = ctx.shape(cond);
    const route = (i: number, condition: string): string | undefined =>
      ctx.needs[i] ? unbroadcast(ctx, gateFact(ctx, ctx.signals[0]!, out, condition, cs), out, ctx.shape(node.inputs[i]!)) : undefined;
    return [undefined, route(1, cond), ctx.needs[2] ? route(2, emit.op('Not', [cond])) : undefined];
  },
};
