/** LeakyRelu and PRelu: σ' = 1 where x > 0, else the slope (alpha, or PRelu's per-channel slope). */
import { attrFloat } from '../ir/graph.js';
import { rectifierRules } from './rectifier.js';
import { refuse } from './signal.js';

export const leakyRelu = rectifierRules({ derivative: (ctx) => {
  const { emit, node } = ctx;
  const alpha = attrFloat(node, 'alpha', 0.01);
  const positive = emit.op('Greater', [node.inputs[0]!, emit.scalar(0)]);
  return emit.op('Where', [positive, emit.scalar(1), emit.scalar(alpha)], {}, 'leakySlope');
} });

export const prelu = rectifierRules({ derivative: (ctx) => {
  const { emit, node } = ctx;
  if (ctx.needs[1]) refuse(ctx, 'the PRelu slope must be a constant');
  const positive = emit.op('Greater', [node.inputs[0]!, emit.scalar(0)]);
  return emit.op('Where', [positive, emit.scalar(1), node.inputs[1]!], {}, 'preluSlope');
} });
