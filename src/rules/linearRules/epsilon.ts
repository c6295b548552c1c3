/** ε: z = Wx + b, R = x ⊙ Wᵀ(R / stab(z)) with stab(z) = z + ε·sign(z). */
import { producers } from '../../ir/graph.js';
import { arrivingProduct, divideByStabilized } from '../relevance.js';
import { mulFact } from '../signal.js';
import type { LinearRule, RuleContext } from '../types.js';
import type { LinearRuleImpl } from './layer.js';

/**
 * The ε rule at a layer whose output z feeds a Relu a = max(0, z) and whose relevance arrives as
 * a ⊙ c: a / stab(z) = a / (a + ε) (z > 0: a = z; z ≤ 0: a = 0), so z itself is not needed and
 * onnxruntime keeps Conv and Relu fused.
 */
function epsilonThroughRelu(ctx: RuleContext, signal: string, z: string, epsilon: number): string | undefined {
  const product = arrivingProduct(ctx, signal);
  if (!product) return undefined;
  const relu = producers(ctx.graph).get(product.x);
  if (relu?.op !== 'Relu' || relu.inputs[0] !== z) return undefined;
  const { emit } = ctx;
  const ratio = emit.op('Div', [product.x, emit.op('Add', [product.x, emit.scalar(epsilon)])], {}, 'relevanceRatio');
  const s = ctx.shape(ctx.node.outputs[0]!);
  return mulFact(ctx, product.c, s, ratio, s);
}

export const epsilon: LinearRuleImpl<Extract<LinearRule, { rule: 'epsilon' }>> = (l, rule) => {
  const { ctx, ops, x, w, b, R, ownOutput } = l;
  const z = ownOutput ?? ops.forward(x, w, b, 'eps');
  const s = (ownOutput && epsilonThroughRelu(ctx, R, z, rule.epsilon)) ?? divideByStabilized(ctx, R, z, rule.epsilon);
  return l.times(x, ops.backward(s, w, 'eps'));
};
