/**
 * Methods of the gradient family (Nie et al. 2018, Eq. 1–2): they share every backward rule except
 * at ReLU-like gates, where each picks its rule family (see src/rules/rectifier.ts).
 */
import { BacklightError } from '../errors.js';
import type { Graph, Node } from '../ir/graph.js';
import type { RuleChoice, RuleFamily } from '../rules/types.js';

export const METHOD_NAMES = ['gradient', 'gradient-x-input', 'deconvnet', 'guided-backprop'] as const;
export type MethodName = (typeof METHOD_NAMES)[number];

export interface Method {
  name: MethodName;
  /** Display name for figures. */
  label: string;
  /** One line for help texts. */
  summary: string;
  /** The rule choice at each node, given the method's parameters. */
  rules(params: MethodParams): (node: Node, graph: Graph) => RuleChoice;
  /** The seed on the logits: 1, or the target's logit (LRP). */
  seedScale: 'one' | 'logit';
  /** Multiply the input-space signal by the input. */
  timesInput: boolean;
  /** Whether the raw attribution has meaningful signs (drawn with a diverging colormap). */
  signed: boolean;
}

/** Parameters of the methods that have some (each method reads the ones it needs). */
export interface MethodParams {
  /** LRP-ε stabilizer ε (default 1e-6). */
  epsilon?: number;
  alpha?: number;
  beta?: number;
}

/** The same rule family at every node (rules without it fall back to the true gradient). */
const everywhere = (family: RuleFamily) => (): ((node: Node, graph: Graph) => RuleChoice) => () => ({ family });

export const METHODS: Readonly<Record<MethodName, Method>> = {
  gradient: {
    name: 'gradient', label: 'Gradient', rules: everywhere('gradient'), seedScale: 'one', timesInput: false, signed: true,
    summary: 'saliency map (Simonyan et al.): the gradient of the target logit w.r.t. the input',
  },
  'gradient-x-input': {
    name: 'gradient-x-input', label: 'Gradient × input', rules: everywhere('gradient'), seedScale: 'one', timesInput: true, signed: true,
    summary: 'gradient ⊙ input (Shrikumar et al.)',
  },
  deconvnet: {
    name: 'deconvnet', label: 'DeconvNet', rules: everywhere('deconvnet'), seedScale: 'one', timesInput: false, signed: true,
    summary: 'DeconvNet (Zeiler & Fergus): ReLUs pass only the positive part of the backward signal',
  },
  'guided-backprop': {
    name: 'guided-backprop', label: 'Guided Backprop', rules: everywhere('guided'), seedScale: 'one', timesInput: false, signed: true,
    summary: 'Guided Backprop (Springenberg et al.): ReLUs apply the forward mask and pass only the positive signal',
  },
};

export function methodByName(name: string): Method {
  const m = (METHODS as Record<string, Method>)[name];
  if (!m) throw new BacklightError(`unknown method '${name}' (available: ${METHOD_NAMES.join(', ')})`, 'usage');
  return m;
}
