/**
 * GlobalAveragePool spreads the signal evenly over each channel's map; GlobalMaxPool sends it to
 * the first maximum of each map (the forward switch), as PyTorch's adaptive max-pool backward does.
 */
import { sizeOf } from '../ir/tensor.js';
import { int64 } from '../ir/tensor.js';
import { proportionalThrough } from './relevance.js';
import { kShape, mulFact } from './signal.js';
import type { OpRules } from './types.js';

export const globalAveragePool: OpRules = {
  lrp: (ctx) => proportionalThrough(ctx, globalAveragePool.gradient),
  gradient(ctx) {
    const { node, emit } = ctx;
    const xs = ctx.shape(node.inputs[0]!);
    const area = sizeOf(xs.slice(2));
    const scaled = emit.op('Mul', [ctx.signals[0]!, emit.scalar(1 / area)]);
    return [emit.op('Expand', [scaled, emit.int64s(kShape(ctx, xs))], {}, 'unGlobalAvg')];
  },
};

export const globalMaxPool: OpRules = {
  gradient(ctx) {
    const { node, emit } = ctx;
    const xs = ctx.shape(node.inputs[0]!);
    const [n, c] = xs as [number, number];
    const area = sizeOf(xs.slice(2));
    const flat = emit.reshape(node.inputs[0]!, [n, c, area]);
    const winner = emit.op('ArgMax', [flat], { axis: 2, keepdims: 1, select_last_index: 0 });
    const positions = emit.constant(int64([area], Array.from({ length: area }, (_, i) => i)), 'positions');
    const mask = emit.op('Cast', [emit.op('Equal', [positions, winner])], { to: 1 }, 'globalMaxMask');
    const signal = emit.reshape(ctx.signals[0]!, kShape(ctx, [n, c, 1]));
    const routed = mulFact(ctx, signal, [n, c, 1], mask, [n, c, area]);
    return [emit.reshape(routed, kShape(ctx, xs))];
  },
};
