/**
 * LayerNormalization (over the axes from `axis` on) and InstanceNormalization (over the spatial
 * axes, per image and channel): y = x̂·γ + β, x̂ = (x − μ)·r, r = 1/√(var + ε).
 * Gradient (γ, β constant), with means over the normalized axes and g = R ⊙ γ:
 *   dx = r ⊙ (g − mean(g) − x̂ ⊙ mean(g ⊙ x̂)).
 * LRP (../shared/papers/METHODS.md, "Modern blocks"): r is a constant of the forward pass, so the
 * layer is linear — the centring followed by an elementwise affine map — and gets the ε rule:
 *   R_x = x ⊙ r ⊙ (g − mean(g)),  g = γ ⊙ R / stab(y),
 * which is what the decomposed form (Sub, ReduceMean, Div by σ, Mul, Add) computes rule by rule.
 * Design history: docs/design/modern-blocks.md
 */
import { attrFloat, attrInt } from '../ir/graph.js';
import { divideByStabilized, relevanceProduct } from './relevance.js';
import { mulFact, refuse } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

interface Normalized {
  x: string;
  s: number[];
  axes: number[];
  /** γ as a forward-broadcastable tensor, and its shape. */
  scale: { name: string; shape: number[] } | undefined;
  /** Forward facts: r (kept dims) and x̂. */
  r: string;
  rShape: number[];
  xhat: string;
}

function normalized(ctx: RuleContext): Normalized {
  const { node, emit } = ctx;
  if (ctx.needs[1] || ctx.needs[2]) refuse(ctx, 'the scale and bias must be constants');
  const x = node.inputs[0]!;
  const s = ctx.shape(x);
  let axes: number[];
  let scale: Normalized['scale'];
  const scaleName = node.inputs[1];
  if (node.op === 'LayerNormalization') {
    const a = attrInt(node, 'axis', -1);
    const from = a < 0 ? a + s.length : a;
    if (from === 0) refuse(ctx, 'a normalization over the batch axis is not supported');
    axes = Array.from({ length: s.length - from }, (_, i) => from + i);
    if (scaleName) scale = { name: scaleName, shape: ctx.shape(scaleName) };
  } else {
    axes = Array.from({ length: s.length - 2 }, (_, i) => i + 2);
    if (scaleName) {
      const perChannel = [s[1]!, ...axes.map(() => 1)];
      scale = { name: emit.reshape(scaleName, perChannel, 'channelScale'), shape: perChannel };
    }
  }
  const eps = attrFloat(node, 'epsilon', 1e-5);
  const mean = (t: string): string => emit.op('ReduceMean', [t], { axes, keepdims: 1 });
  const centred = emit.op('Sub', [x, mean(x)], {}, 'centred');
  const variance = mean(emit.op('Mul', [centred, centred]));
  const r = emit.op('Reciprocal', [emit.op('Sqrt', [emit.op('Add', [variance, emit.scalar(eps)])])], {}, 'invStd');
  const rShape = s.map((d, i) => (axes.includes(i) ? 1 : d));
  return { x, s, axes, scale, r, rShape, xhat: emit.op('Mul', [centred, r], {}, 'xhat') };
}

/** g − mean(g) over the normalized axes, for a K-major g (the axes never include the batch axis). */
function centre(ctx: RuleContext, g: string, axes: number[]): string {
  return ctx.emit.op('Sub', [g, ctx.emit.op('ReduceMean', [g], { axes, keepdims: 1 })], {}, 'centredSignal');
}

function timesScale(ctx: RuleContext, n: Normalized, signal: string): string {
  return n.scale ? mulFact(ctx, signal, n.s, n.scale.name, n.scale.shape) : signal;
}

export const normalization: OpRules = {
  gradient(ctx) {
    const n = normalized(ctx);
    const { emit } = ctx;
    const g = timesScale(ctx, n, ctx.signals[0]!);
    const gx = mulFact(ctx, g, n.s, n.xhat, n.s);
    const meanGx = emit.op('ReduceMean', [gx], { axes: n.axes, keepdims: 1 });
    const correction = mulFact(ctx, emit.op('Expand', [meanGx, emit.int64s([ctx.k * n.s[0]!, ...n.s.slice(1)])]), n.s, n.xhat, n.s);
    const inner = emit.op('Sub', [centre(ctx, g, n.axes), correction]);
    return [mulFact(ctx, inner, n.s, n.r, n.rShape), undefined, undefined];
  },
  lrp(ctx) {
    const n = normalized(ctx);
    const g = timesScale(ctx, n, divideByStabilized(ctx, ctx.signals[0]!, ctx.node.outputs[0]!));
    const back = mulFact(ctx, centre(ctx, g, n.axes), n.s, n.r, n.rShape);
    return [relevanceProduct(ctx, n.x, back, n.s), undefined, undefined];
  },
};
