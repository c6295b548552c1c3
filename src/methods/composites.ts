/**
 * LRP composites: which linear rule each kind of layer gets (like Zennit's composites). Layer kinds:
 * `first` (the first Conv/Gemm/MatMul of the graph, the one that sees pixels), `conv` and `dense`.
 */
import { BacklightError } from '../errors.js';
import type { Graph, Node } from '../ir/graph.js';
import { isFirstLinearLayer } from '../rules/relevance.js';
import type { LinearRule, RuleChoice } from '../rules/types.js';

export interface Composite {
  first?: LinearRule;
  conv: LinearRule;
  dense: LinearRule;
}

/** Pixel bounds of the zB rule, per input channel, in the preprocessed (normalized) space. */
export interface PixelBox {
  low: readonly number[];
  high: readonly number[];
}

export const COMPOSITE_NAMES = ['gu2018', 'epsilon-plus-flat', 'epsilon-gamma-box'] as const;
export type CompositeName = (typeof COMPOSITE_NAMES)[number];

function needBox(box: PixelBox | undefined, composite: string): PixelBox {
  if (!box) {
    throw new BacklightError(`the '${composite}' composite uses the zB rule, which needs the pixel bounds of the normalized input: pass params.box = { low, high } (per channel; CLI: --preset or --box LOW,HIGH)`, 'usage');
  }
  return box;
}

/** The built-in composites, given ε and (for zB) the pixel box. */
export function namedComposite(name: string, epsilon: number, box: PixelBox | undefined): Composite {
  switch (name) {
    case 'gu2018': {
      // Gu et al. §3.1 (from Montavon et al.): zB first, z⁺ everywhere else, biases bypassed.
      const b = needBox(box, name);
      return { first: { rule: 'zbox', ...b, ignoreBias: true }, conv: { rule: 'zplus', ignoreBias: true }, dense: { rule: 'zplus', ignoreBias: true } };
    }
    case 'epsilon-plus-flat':
      return { first: { rule: 'flat' }, conv: { rule: 'zplus' }, dense: { rule: 'epsilon', epsilon } };
    case 'epsilon-gamma-box': {
      const b = needBox(box, name);
      return { first: { rule: 'zbox', ...b }, conv: { rule: 'gamma', gamma: 0.25 }, dense: { rule: 'epsilon', epsilon } };
    }
    default:
      throw new BacklightError(`unknown composite '${name}' (available: ${COMPOSITE_NAMES.join(', ')})`, 'usage');
  }
}

/** The rule table of a composite: LRP everywhere, the composite's rule at linear layers. */
export function compositeRules(c: Composite): (node: Node, graph: Graph) => RuleChoice {
  return (node, graph) => {
    if (node.op !== 'Conv' && node.op !== 'Gemm' && node.op !== 'MatMul') return { family: 'lrp' };
    if (c.first && isFirstLinearLayer(graph, node.name)) return { family: 'lrp', linear: c.first };
    return { family: 'lrp', linear: node.op === 'Conv' ? c.conv : c.dense };
  };
}
