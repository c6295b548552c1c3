/**
 * Elementwise functions of one signal that are not rectifiers: every method uses their true
 * derivative (as for Sigmoid and Tanh), written from forward tensors. LRP passes relevance through
 * them unchanged (the identity rule for activations, as Zennit and LXT do); where they compute a
 * gate or a normalizer (SiLU's σ(x), GELU's Φ(x), LayerNorm's σ), the product or quotient that
 * uses them sends no relevance their way (see mul.ts).
 */
import { attrFloat } from '../ir/graph.js';
import { toNumbers } from '../ir/tensor.js';
import { passRelevance } from './relevance.js';
import { mulFact, refuse } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

/** Rules from a local derivative f'(x), a forward tensor of the output's shape. */
export function elementwise(derivative: (ctx: RuleContext, x: string, y: string) => string): OpRules {
  return {
    lrp: passRelevance,
    gradient(ctx) {
      const s = ctx.shape(ctx.node.outputs[0]!);
      const d = derivative(ctx, ctx.node.inputs[0]!, ctx.node.outputs[0]!);
      return [mulFact(ctx, ctx.signals[0]!, s, d, s), ...ctx.node.inputs.slice(1).map(() => undefined)];
    },
  };
}

const TWO_OVER_SQRT_PI = 2 / Math.sqrt(Math.PI);

/** erf'(x) = 2/√π · exp(−x²). */
export const erf = elementwise(({ emit }, x) =>
  emit.op('Mul', [emit.op('Exp', [emit.op('Neg', [emit.op('Mul', [x, x])])]), emit.scalar(TWO_OVER_SQRT_PI)], {}, 'erfDeriv'));

/** exp' = exp = y. */
export const exp = elementwise((_ctx, _x, y) => y);

/** log'(x) = 1/x. */
export const log = elementwise(({ emit }, x) => emit.op('Reciprocal', [x], {}, 'logDeriv'));

/** √' = 1 / (2y) (+∞ at 0, as PyTorch). */
export const sqrt = elementwise(({ emit }, _x, y) => emit.op('Div', [emit.scalar(0.5), y], {}, 'sqrtDeriv'));

/** (1/x)' = −y². */
export const reciprocal = elementwise(({ emit }, _x, y) => emit.op('Neg', [emit.op('Mul', [y, y])], {}, 'reciprocalDeriv'));

/** |x|' = sign(x) (0 at 0, as PyTorch). */
export const abs = elementwise(({ emit }, x) => emit.op('Sign', [x], {}, 'absDeriv'));

export const sin = elementwise(({ emit }, x) => emit.op('Cos', [x], {}, 'sinDeriv'));
export const cos = elementwise(({ emit }, x) => emit.op('Neg', [emit.op('Sin', [x])], {}, 'cosDeriv'));

/** softplus' = σ(x). */
export const softplus = elementwise(({ emit }, x) => emit.op('Sigmoid', [x], {}, 'softplusDeriv'));

/** elu'(x) = 1 for x > 0, y + α otherwise. */
export const elu = elementwise((ctx, x, y) => {
  const { emit } = ctx;
  const alpha = attrFloat(ctx.node, 'alpha', 1);
  return emit.op('Where', [emit.op('Greater', [x, emit.scalar(0)]), emit.scalar(1), emit.op('Add', [y, emit.scalar(alpha)])], {}, 'eluDeriv');
});

/** Neg: the signal negated. */
export const neg: OpRules = {
  lrp: passRelevance,
  gradient: (ctx) => [ctx.emit.op('Neg', [ctx.signals[0]!])],
};

/** Identity-like ops on a signal (Identity, a float-to-float Cast, Dropout at inference). */
export const identity: OpRules = {
  gradient(ctx) {
    if (ctx.node.op === 'Cast') {
      const to = ctx.node.attrs.to;
      if (to?.type !== 'int' || ![1, 10, 11, 16].includes(to.value)) refuse(ctx, 'a Cast of a signal to a non-float type has no gradient');
    }
    return [ctx.signals[0], ...ctx.node.inputs.slice(1).map(() => undefined)];
  },
};

/**
 * x^p with a constant exponent: p·x^(p−1) (x² in variances, x³ in GELU's tanh form, x^0.5). A base
 * that is constant and an exponent that depends on the input: y·ln(a).
 */
export const pow: OpRules = {
  lrp: (ctx) => (ctx.needs[1] ? refuse(ctx, 'LRP through a power with an input-dependent exponent is not defined') : passRelevance(ctx)),
  gradient(ctx) {
    const { node, emit } = ctx;
    const [a, b] = node.inputs as [string, string];
    const out = ctx.shape(node.outputs[0]!);
    if (ctx.needs[0] && ctx.needs[1]) refuse(ctx, 'a power whose base and exponent both depend on the input is not supported');
    if (ctx.needs[1]) {
      const local = emit.op('Mul', [node.outputs[0]!, emit.op('Log', [a])], {}, 'powExpDeriv');
      return [undefined, mulFact(ctx, ctx.signals[0]!, out, local, out)];
    }
    const p = ctx.constant(b);
    const values = p ? toNumbers(p) : undefined;
    let local: string;
    if (values && values.length === 1 && values[0] === 2) local = emit.op('Mul', [a, emit.scalar(2)], {}, 'powDeriv');
    else if (values && values.length === 1 && values[0] === 1) local = emit.scalar(1);
    else {
      const bf = p && p.dtype !== 'float32' ? emit.constant({ dtype: 'float32', dims: [...p.dims], data: Float32Array.from(values!) }, 'exponent') : emit.op('Cast', [b], { to: 1 });
      local = emit.op('Mul', [bf, emit.op('Pow', [a, emit.op('Sub', [bf, emit.scalar(1)])])], {}, 'powDeriv');
    }
    if (ctx.shape(a).length !== out.length || ctx.shape(a).some((d, i) => d !== out[i])) refuse(ctx, 'the exponent must not broadcast the base');
    return [mulFact(ctx, ctx.signals[0]!, out, local, values && values.length === 1 && values[0] === 1 ? [] : out), undefined];
  },
};
