/**
 * Contrastive LRP (Gu et al.): the target's relevance minus that of a dual concept, propagated
 * with the rules of a composite (the dual is built by the compiler, see compile.ts).
 */
import { BOX, COMPOSITE, EPSILON, NORMALIZE, SEED } from '../params.js';
import { backward } from '../spec.js';
import { compositeOf } from './lrp.js';

const common = {
  group: 'relevance', seedScale: 'logit', timesInput: false, signed: false, display: 'magnitude', rules: compositeOf,
  params: [COMPOSITE, EPSILON, BOX, NORMALIZE, SEED],
} as const;

export const CONTRASTIVE_METHODS = [
  backward({
    ...common, name: 'clrp1', label: 'CLRP1', contrastive: 'clrp1',
    summary: 'Contrastive LRP (Gu et al.), dual concept = all other classes; max(0, R − R_dual); rules of --composite (default gu2018)',
  }),
  backward({
    ...common, name: 'clrp2', label: 'CLRP2', contrastive: 'clrp2',
    summary: 'Contrastive LRP (Gu et al.), dual concept = the target with negated last-layer weights; rules of --composite (default gu2018)',
  }),
] as const;
