/**
 * Methods as rule tables. The gradient family (Nie et al. 2018, Eq. 1–2) shares every backward rule
 * except at ReLU-like gates, where each picks its rule family (see src/rules/rectifier.ts); LRP
 * methods propagate relevance with a linear rule per layer (src/rules/lrp.ts, composites.ts).
 */
import { BacklightError } from '../errors.js';
import type { Graph, Node } from '../ir/graph.js';
import type { LinearRule, RuleChoice, RuleFamily } from '../rules/types.js';
import { compositeRules, namedComposite, type Composite, type PixelBox } from './composites.js';

export const METHOD_NAMES = [
  'gradient', 'gradient-x-input', 'deconvnet', 'guided-backprop',
  'lrp-epsilon', 'lrp-zplus', 'lrp-alphabeta', 'lrp', 'clrp1', 'clrp2', 'excitation', 'contrastive-excitation',
] as const;
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
  /** Whether the raw attribution has meaningful signs (can be drawn with a diverging colormap). */
  signed: boolean;
  /**
   * How maps are drawn by default: gradient-family maps as max |·| magnitudes (Simonyan et al.),
   * relevance maps signed, centered at 0 (LRP convention).
   */
  display: 'magnitude' | 'signed';
  /** Contrastive methods: the dual concept propagated with the same rules (see compile.ts). */
  contrastive?: 'clrp1' | 'clrp2';
}

/** The gradient family of Nie et al. (2018), whose maps differ only at ReLU-like gates. */
export const GRADIENT_FAMILY = ['gradient', 'gradient-x-input', 'deconvnet', 'guided-backprop'] as const;
export type GradientFamilyName = (typeof GRADIENT_FAMILY)[number];

/** Parameters of the methods that have some (each method reads the ones it needs). */
export interface MethodParams {
  /** LRP-ε ε (default 1e-6). */
  epsilon?: number;
  /** LRP-αβ weights, α − β = 1 (default α = 1, β = 0). */
  alpha?: number;
  beta?: number;
  /** `lrp`: a built-in composite name (default 'gu2018') or a composite of one's own. */
  composite?: string | Composite;
  /** Pixel bounds of the normalized input for the zB rule, per channel. */
  box?: PixelBox;
  /** Override the seed value on the logits: 1, or the target's logit. */
  seed?: 'one' | 'logit';
  /**
   * CLRP: divide R and R_dual by their sums before max(0, R − R_dual), as the authors' code does.
   * Default false: the paper's form (both sum to S_j by conservation).
   */
  normalize?: boolean;
  /**
   * Meta-saliency (Rebuffi et al.): explain the network after one SGD step of this learning rate
   * on the cross-entropy of the target (their public code uses 1e-4). Gradient-family methods; one
   * image and one target per run.
   */
  metaLearningRate?: number;
}

/** The same rule family at every node (rules without it fall back to the true gradient). */
const everywhere = (family: RuleFamily) => (): ((node: Node, graph: Graph) => RuleChoice) => () => ({ family });

/** One linear rule at every Conv/Gemm/MatMul, relevance passing everything else. */
const lrpEverywhere = (rule: (p: MethodParams) => LinearRule) => (p: MethodParams) => compositeRules({ conv: rule(p), dense: rule(p) });

function alphaBeta(p: MethodParams): LinearRule {
  const alpha = p.alpha ?? 1;
  const beta = p.beta ?? 0;
  if (alpha < 0 || beta < 0 || Math.abs(alpha - beta - 1) > 1e-9) {
    throw new BacklightError(`LRP-αβ needs α ≥ 0, β ≥ 0 and α − β = 1 (got α = ${alpha}, β = ${beta})`, 'usage');
  }
  return { rule: 'alphabeta', alpha, beta };
}

export const METHODS: Readonly<Record<MethodName, Method>> = {
  gradient: {
    name: 'gradient', label: 'Gradient', rules: everywhere('gradient'), seedScale: 'one', timesInput: false, signed: true, display: 'magnitude',
    summary: 'saliency map (Simonyan et al.): the gradient of the target logit w.r.t. the input',
  },
  'gradient-x-input': {
    name: 'gradient-x-input', label: 'Gradient × input', rules: everywhere('gradient'), seedScale: 'one', timesInput: true, signed: true, display: 'magnitude',
    summary: 'gradient ⊙ input (Shrikumar et al.)',
  },
  deconvnet: {
    name: 'deconvnet', label: 'DeconvNet', rules: everywhere('deconvnet'), seedScale: 'one', timesInput: false, signed: true, display: 'magnitude',
    summary: 'DeconvNet (Zeiler & Fergus): ReLUs pass only the positive part of the backward signal',
  },
  'guided-backprop': {
    name: 'guided-backprop', label: 'Guided Backprop', rules: everywhere('guided'), seedScale: 'one', timesInput: false, signed: true, display: 'magnitude',
    summary: 'Guided Backprop (Springenberg et al.): ReLUs apply the forward mask and pass only the positive signal',
  },
  'lrp-epsilon': {
    name: 'lrp-epsilon', label: 'LRP-ε', seedScale: 'logit', timesInput: false, signed: true, display: 'signed',
    rules: lrpEverywhere((p) => ({ rule: 'epsilon', epsilon: p.epsilon ?? 1e-6 })),
    summary: 'LRP-ε (Bach et al.) on every linear layer (--epsilon, default 1e-6)',
  },
  'lrp-zplus': {
    name: 'lrp-zplus', label: 'LRP-z⁺', seedScale: 'logit', timesInput: false, signed: true, display: 'signed',
    rules: lrpEverywhere(() => ({ rule: 'zplus' })),
    summary: 'LRP-z⁺ (= α1β0, with x⁻w⁻ terms for negative inputs) on every linear layer',
  },
  'lrp-alphabeta': {
    name: 'lrp-alphabeta', label: 'LRP-αβ', seedScale: 'logit', timesInput: false, signed: true, display: 'signed',
    rules: lrpEverywhere(alphaBeta),
    summary: 'LRP-αβ on every linear layer (--alpha, --beta with α − β = 1; default α = 1, β = 0)',
  },
  lrp: {
    name: 'lrp', label: 'LRP', seedScale: 'logit', timesInput: false, signed: true, display: 'signed',
    rules: (p) => compositeRules(typeof p.composite === 'object' ? p.composite : namedComposite(p.composite ?? 'gu2018', p.epsilon ?? 1e-6, p.box)),
    summary: 'LRP with a composite (--composite gu2018 | epsilon-plus-flat | epsilon-gamma-box; default gu2018)',
  },
  clrp1: {
    name: 'clrp1', label: 'CLRP1', seedScale: 'logit', timesInput: false, signed: false, display: 'magnitude', contrastive: 'clrp1',
    rules: (p) => METHODS.lrp.rules(p),
    summary: 'Contrastive LRP (Gu et al.), dual concept = all other classes; max(0, R − R_dual); rules of --composite (default gu2018)',
  },
  clrp2: {
    name: 'clrp2', label: 'CLRP2', seedScale: 'logit', timesInput: false, signed: false, display: 'magnitude', contrastive: 'clrp2',
    rules: (p) => METHODS.lrp.rules(p),
    summary: 'Contrastive LRP (Gu et al.), dual concept = the target with negated last-layer weights; rules of --composite (default gu2018)',
  },
  excitation: {
    name: 'excitation', label: 'Excitation BP', seedScale: 'logit', timesInput: false, signed: false, display: 'magnitude',
    rules: lrpEverywhere(() => ({ rule: 'excitation' })),
    summary: 'Excitation Backprop (Zhang et al.): marginal winning probabilities through positive weights and activations',
  },
  'contrastive-excitation': {
    name: 'contrastive-excitation', label: 'c-Excitation BP', seedScale: 'logit', timesInput: false, signed: false, display: 'magnitude', contrastive: 'clrp2',
    rules: lrpEverywhere(() => ({ rule: 'excitation' })),
    summary: 'contrastive Excitation Backprop (Zhang et al.): max(0, map − map of the negated output unit)',
  },
};

export function methodByName(name: string): Method {
  const m = (METHODS as Record<string, Method>)[name];
  if (!m) throw new BacklightError(`unknown method '${name}' (available: ${METHOD_NAMES.join(', ')})`, 'usage');
  return m;
}
