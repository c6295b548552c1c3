/** Conv: the input gradient is a transposed convolution with the same weights (convInputGradient.ts). */
import { convInputGradient } from './convInputGradient.js';
import { linearLrp } from './linearRules/index.js';
import { refuse } from './signal.js';
import type { OpRules } from './types.js';

export const conv: OpRules = {
  lrp: linearLrp,
  gradient(ctx) {
    const { node } = ctx;
    if (ctx.needs[1] || ctx.needs[2]) refuse(ctx, 'weights that depend on the input are not supported');
    const w = ctx.constant(node.inputs[1]!);
    const rank = ctx.shape(node.inputs[1]!).length;
    if (rank !== 4 && rank !== 3) refuse(ctx, `only 1-D and 2-D convolutions are supported (weight of rank ${rank})`);
    return [convInputGradient(ctx, ctx.signals[0]!, node.inputs[1]!, w)];
  },
};
