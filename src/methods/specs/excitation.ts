/** Excitation Backprop (Zhang et al.) and its contrastive form: the excitation rule at every linear layer. */
import { NORMALIZE, SEED } from '../params.js';
import { backward } from '../spec.js';
import { lrpEverywhere } from './lrp.js';

const common = { group: 'relevance', seedScale: 'logit', timesInput: false, signed: false, display: 'magnitude', rules: lrpEverywhere(() => ({ rule: 'excitation' })) } as const;

export const EXCITATION_METHODS = [
  backward({
    ...common, name: 'excitation', label: 'Excitation BP', params: [SEED],
    summary: 'Excitation Backprop (Zhang et al.): marginal winning probabilities through positive weights and activations',
  }),
  backward({
    ...common, name: 'contrastive-excitation', label: 'c-Excitation BP', contrastive: 'clrp2', params: [NORMALIZE, SEED],
    summary: 'contrastive Excitation Backprop (Zhang et al.): max(0, map − map of the negated output unit)',
  }),
] as const;
