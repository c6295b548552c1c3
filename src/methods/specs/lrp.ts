/**
 * LRP (Bach et al.): relevance propagated with a linear rule per layer (src/rules/lrp.ts), one rule
 * everywhere or a composite of rules per layer (composites.ts).
 */
import { BacklightError } from '../../errors.js';
import type { LinearRule } from '../../rules/types.js';
import { compositeRules, namedComposite } from '../composites.js';
import { ALPHA, BETA, BOX, COMPOSITE, DEFAULT_COMPOSITE, DEFAULT_EPSILON, EPSILON, SEED, type MethodParams } from '../params.js';
import { backward } from '../spec.js';

/** One linear rule at every Conv/Gemm/MatMul, relevance passing everything else. */
export const lrpEverywhere = (rule: (p: MethodParams) => LinearRule) => (p: MethodParams) => compositeRules({ conv: rule(p), dense: rule(p) });

/** The rules of `lrp`, `clrp1` and `clrp2`: a built-in composite by name, or one's own. */
export const compositeOf = (p: MethodParams) =>
  compositeRules(typeof p.composite === 'object' ? p.composite : namedComposite(p.composite ?? DEFAULT_COMPOSITE, p.epsilon ?? DEFAULT_EPSILON, p.box));

function alphaBeta(p: MethodParams): LinearRule {
  const alpha = p.alpha ?? 1;
  const beta = p.beta ?? 0;
  if (alpha < 0 || beta < 0 || Math.abs(alpha - beta - 1) > 1e-9) {
    throw new BacklightError(`LRP-αβ needs α ≥ 0, β ≥ 0 and α − β = 1 (got α = ${alpha}, β = ${beta})`, 'usage');
  }
  return { rule: 'alphabeta', alpha, beta };
}

const common = { group: 'relevance', seedScale: 'logit', timesInput: false, signed: true, display: 'signed' } as const;

export const LRP_METHODS = [
  backward({
    ...common, name: 'lrp-epsilon', label: 'LRP-ε', params: [EPSILON, SEED],
    rules: lrpEverywhere((p) => ({ rule: 'epsilon', epsilon: p.epsilon ?? DEFAULT_EPSILON })),
    summary: 'LRP-ε (Bach et al.) on every linear layer (--epsilon, default 1e-6)',
  }),
  backward({
    ...common, name: 'lrp-zplus', label: 'LRP-z⁺', params: [SEED],
    rules: lrpEverywhere(() => ({ rule: 'zplus' })),
    summary: 'LRP-z⁺ (= α1β0, with x⁻w⁻ terms for negative inputs) on every linear layer',
  }),
  backward({
    ...common, name: 'lrp-alphabeta', label: 'LRP-αβ', params: [ALPHA, BETA, SEED],
    rules: lrpEverywhere(alphaBeta),
    summary: 'LRP-αβ on every linear layer (--alpha, --beta with α − β = 1; default α = 1, β = 0)',
  }),
  backward({
    ...common, name: 'lrp', label: 'LRP', params: [COMPOSITE, EPSILON, BOX, SEED],
    rules: compositeOf,
    summary: 'LRP with a composite (--composite gu2018 | epsilon-plus-flat | epsilon-gamma-box; default gu2018)',
  }),
] as const;
