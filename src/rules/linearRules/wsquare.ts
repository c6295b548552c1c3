/** w²: z = W²·1 + b², R = W²ᵀ(R / stab(z)) (the input is ignored). */
import type { LinearRule } from '../types.js';
import { mapWeights } from '../weights.js';
import { uniformInputRelevance, type LinearRuleImpl } from './layer.js';

export const wsquare: LinearRuleImpl<Extract<LinearRule, { rule: 'wsquare' }>> = (l) =>
  uniformInputRelevance(l, mapWeights(l.w, (v) => v * v), l.b ? mapWeights(l.b, (v) => v * v) : undefined, 'wsquare');
