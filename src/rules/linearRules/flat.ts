/** flat: z = 1·1 (the fan-in), R = 1ᵀ(R / stab(z)) (weights, bias and input are ignored). */
import type { LinearRule } from '../types.js';
import { mapWeights } from '../weights.js';
import { uniformInputRelevance, type LinearRuleImpl } from './layer.js';

export const flat: LinearRuleImpl<Extract<LinearRule, { rule: 'flat' }>> = (l) => uniformInputRelevance(l, mapWeights(l.w, () => 1), undefined, 'flat');
