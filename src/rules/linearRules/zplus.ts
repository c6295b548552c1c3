/** z⁺ (α1β0): z = W⁺x⁺ + b⁺ + W⁻x⁻; R = x⁺ ⊙ W⁺ᵀs + x⁻ ⊙ W⁻ᵀs (see alphabeta.ts). */
import type { LinearRule } from '../types.js';
import { alphaBetaRelevance } from './alphabeta.js';
import type { LinearRuleImpl } from './layer.js';

export const zplus: LinearRuleImpl<Extract<LinearRule, { rule: 'zplus' }>> = (l) => alphaBetaRelevance(l, 1, 0);
