/**
 * Flatten, Reshape, Squeeze and Unsqueeze only reinterpret the elements: the signal is reshaped
 * back to the input's shape. This is exact for any reshape because signals are K-major.
 */
import { kShape } from './signal.js';
import type { OpRules } from './types.js';

export const reshape: OpRules = {
  gradient: (ctx) => [ctx.emit.reshape(ctx.signals[0]!, kShape(ctx, ctx.shape(ctx.node.inputs[0]!)), 'unReshape')],
};
