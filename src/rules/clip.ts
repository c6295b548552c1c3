/**
 * Clip: σ' = 1[min < x < max] (strict, as PyTorch's hardtanh/relu6 backward). Clip with min = 0
 * (ReLU6 and other bounded ReLUs) is a rectifier, so DeconvNet and Guided Backprop rectify the
 * signal there; any other Clip is not, and every method uses its true derivative.
 */
import { toNumbers } from '../ir/tensor.js';
import { rectifierRules } from './rectifier.js';
import { passRelevance } from './relevance.js';
import { gateBetween } from './masks.js';
import { gateFact, refuse } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

function bound(ctx: RuleContext, input: number): number | undefined {
  const name = ctx.node.inputs[input];
  if (!name) return undefined;
  const t = ctx.constant(name);
  if (!t) refuse(ctx, 'min and max must be constants');
  return toNumbers(t)[0];
}

/**
 * 1[min < x < max], tested on the output y = clip(x) (equivalent since min < max), so that
 * onnxruntime can still fuse the producing Conv with the Clip.
 */
function gate(ctx: RuleContext, signal: string): string {
  const { emit, node } = ctx;
  const y = node.outputs[0]!;
  const lo = bound(ctx, 1);
  const hi = bound(ctx, 2);
  if (lo === undefined) {
    if (hi === undefined) return signal;
    return gateFact(ctx, signal, ctx.shape(y), emit.op('Less', [y, emit.scalar(hi)]), ctx.shape(y));
  }
  return gateBetween(ctx, signal, y, lo, hi);
}

const rectifying = rectifierRules({ between: (ctx) => ({ lo: bound(ctx, 1)!, hi: bound(ctx, 2) }) });

const plainGradient = (ctx: RuleContext): (string | undefined)[] => [gate(ctx, ctx.signals[0]!)];

const isRectifier = (ctx: RuleContext): boolean => bound(ctx, 1) === 0;

export const clip: OpRules = {
  lrp: passRelevance,
  gradient: plainGradient,
  deconvnet: (ctx) => (isRectifier(ctx) ? rectifying.deconvnet!(ctx) : plainGradient(ctx)),
  guided: (ctx) => (isRectifier(ctx) ? rectifying.guided!(ctx) : plainGradient(ctx)),
};
