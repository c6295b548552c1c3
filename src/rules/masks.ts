/**
 * Rectifier gates: R ⊙ 1[lo < y < hi] as one Where over comparisons of the forward output y.
 * (A float-mask formulation, and one with the step emitted as a fused 1×1 Conv + Clip ramp that
 * stays in onnxruntime's blocked NCHWc layout, measured the same or within noise on VGG-16 and
 * MobileNetV2; the exact comparison form is kept.)
 */
import { gateFact } from './signal.js';
import type { RuleContext } from './types.js';

/** R ⊙ 1[lo < y < hi] for a forward tensor y (hi undefined: no upper bound). */
export function gateBetween(ctx: RuleContext, signal: string, y: string, lo: number, hi: number | undefined): string {
  const { emit } = ctx;
  const s = ctx.shape(y);
  const conds = [emit.op('Greater', [y, emit.scalar(lo)])];
  if (hi !== undefined) conds.push(emit.op('Less', [y, emit.scalar(hi)]));
  const cond = conds.length === 2 ? emit.op('And', conds) : conds[0]!;
  return gateFact(ctx, signal, s, cond, s);
}
