/**
 * The gradient family of Nie et al. (2018, Eq. 1–2): every backward rule is the gradient's except
 * at ReLU-like gates, where each method picks its rule family (see src/rules/rectifier.ts).
 */
import type { Graph, Node } from '../../ir/graph.js';
import type { RuleChoice, RuleFamily } from '../../rules/types.js';
import { META_LR, SEED } from '../params.js';
import { backward } from '../spec.js';

/** The same rule family at every node (rules without it fall back to the true gradient). */
const everywhere = (family: RuleFamily) => (): ((node: Node, graph: Graph) => RuleChoice) => () => ({ family });

const params = [META_LR, SEED];
const common = { group: 'gradient', seedScale: 'one', signed: true, display: 'magnitude', params } as const;

export const GRADIENT_METHODS = [
  backward({
    ...common, name: 'gradient', label: 'Gradient', rules: everywhere('gradient'), timesInput: false,
    summary: 'saliency map (Simonyan et al.): the gradient of the target logit w.r.t. the input',
  }),
  backward({
    ...common, name: 'gradient-x-input', label: 'Gradient × input', rules: everywhere('gradient'), timesInput: true,
    summary: 'gradient ⊙ input (Shrikumar et al.)',
  }),
  backward({
    ...common, name: 'deconvnet', label: 'DeconvNet', rules: everywhere('deconvnet'), timesInput: false,
    summary: 'DeconvNet (Zeiler & Fergus): ReLUs pass only the positive part of the backward signal',
  }),
  backward({
    ...common, name: 'guided-backprop', label: 'Guided Backprop', rules: everywhere('guided'), timesInput: false,
    summary: 'Guided Backprop (Springenberg et al.): ReLUs apply the forward mask and pass only the positive signal',
  }),
] as const;
