/**
 * Clip: σ' = 1[min < x < max] (strict, as PyTorch's hardtanh/relu6 backward). Clip with min = 0
 * (ReLU6 and other bounded ReLUs) is a rectifier, so DeconvNet and Guided Backprop rectify the
 * signal there; any other Clip is not, and every method uses its true derivative.
 */
import { toNumbers } from '../ir/tensor.js';
import { rectifierRules } from './rectifier.js';
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
 * 1[min < x < max] as a boolean, tested on the output y = clip(x) (equivalent since min < max),
 * so that onnxruntime can still fuse the producing Conv with the Clip.
 */
function inside(ctx: RuleContext): string {
  const { emit, node } = ctx;
  const y = node.outputs[0]!;
  const lo = bound(ctx, 1);
  const hi = bound(ctx, 2);
  const conds: string[] = [];
  if (lo !== undefined) conds.push(emit.op('Greater', [y, emit.scalar(lo)]));
  if (hi !== undefined) conds.push(emit.op('Less', [y, emit.scalar(hi)]));
  if (conds.length === 0) return emit.op('Equal', [y, y], {}, 'clipMask');
  return conds.length === 2 ? emit.op('And', conds, {}, 'clipMask') : conds[0]!;
}

const rectifying = rectifierRules({ condition: inside });

const plainGradient = (ctx: RuleContext): (string | undefined)[] => {
  const s = ctx.shape(ctx.node.outputs[0]!);
  return [gateFact(ctx, ctx.signals[0]!, s, inside(ctx), s)];
};

const isRectifier = (ctx: RuleContext): boolean => bound(ctx, 1) === 0;

export const clip: OpRules = {
  gradient: plainGradient,
  deconvnet: (ctx) => (isRectifier(ctx) ? rectifying.deconvnet!(ctx) : plainGradient(ctx)),
  guided: (ctx) => (isRectifier(ctx) ? rectifying.guided!(ctx) : plainGradient(ctx)),
};
