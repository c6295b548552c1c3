/**
 * Activations that are not rectifiers (Sigmoid, Tanh, HardSigmoid, HardSwish): every method uses
 * their true derivative, as Captum and Zennit do; only ReLU-like gates are modified by
 * DeconvNet and Guided Backprop.
 */
import { attrFloat } from '../ir/graph.js';
import { passRelevance } from './relevance.js';
import { mulFact } from './signal.js';
import type { OpRules, RuleContext } from './types.js';

function withDerivative(d: (ctx: RuleContext) => string): OpRules {
  return {
    lrp: passRelevance,
    gradient(ctx) {
      const s = ctx.shape(ctx.node.outputs[0]!);
      return [mulFact(ctx, ctx.signals[0]!, s, d(ctx), s)];
    },
  };
}

/** σ'(x) = y(1 − y). */
export const sigmoid = withDerivative(({ emit, node }) => {
  const y = node.outputs[0]!;
  return emit.op('Mul', [y, emit.op('Sub', [emit.scalar(1), y])], {}, 'sigmoidDeriv');
});

/** tanh'(x) = 1 − y². */
export const tanh = withDerivative(({ emit, node }) => {
  const y = node.outputs[0]!;
  return emit.op('Sub', [emit.scalar(1), emit.op('Mul', [y, y])], {}, 'tanhDeriv');
});

/** y = max(0, min(1, αx + β)): derivative α inside the linear part. */
export const hardSigmoid = withDerivative(({ emit, node }) => {
  const alpha = attrFloat(node, 'alpha', 0.2);
  const beta = attrFloat(node, 'beta', 0.5);
  const z = emit.op('Add', [emit.op('Mul', [node.inputs[0]!, emit.scalar(alpha)]), emit.scalar(beta)]);
  const lin = emit.op('And', [emit.op('Greater', [z, emit.scalar(0)]), emit.op('Less', [z, emit.scalar(1)])]);
  return emit.op('Mul', [emit.op('Cast', [lin], { to: 1 }), emit.scalar(alpha)], {}, 'hardSigmoidDeriv');
});

/** y = x·relu6(x + 3)/6: derivative 0 for x < −3, x/3 + 1/2 on [−3, 3], 1 above (PyTorch's choice at the kinks). */
export const hardSwish = withDerivative(({ emit, node }) => {
  const x = node.inputs[0]!;
  const mid = emit.op('Add', [emit.op('Mul', [x, emit.scalar(1 / 3)]), emit.scalar(0.5)]);
  const upper = emit.op('Where', [emit.op('Greater', [x, emit.scalar(3)]), emit.scalar(1), mid]);
  return emit.op('Where', [emit.op('Less', [x, emit.scalar(-3)]), emit.scalar(0), upper], {}, 'hardSwishDeriv');
});
