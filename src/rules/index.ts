/** The backward-rule registry: op type → rules. Add an op by adding its module here. */
import { add, sub, sum } from './add.js';
import { averagePool } from './averagePool.js';
import { batchNorm } from './batchNorm.js';
import { clip } from './clip.js';
import { concat } from './concat.js';
import { conv } from './conv.js';
import { gemm } from './gemm.js';
import { globalAveragePool, globalMaxPool } from './globalPool.js';
import { leakyRelu, prelu } from './leakyRelu.js';
import { matmul } from './matmul.js';
import { maxPool } from './maxPool.js';
import { div, mul } from './mul.js';
import { pad } from './pad.js';
import { relu } from './relu.js';
import { reshape } from './reshape.js';
import { slice } from './slice.js';
import { hardSigmoid, hardSwish, sigmoid, tanh } from './smoothActivations.js';
import { split } from './split.js';
import { transpose } from './transpose.js';
import { normalization } from './normalization.js';
import { reduceL2, reduceMax, reduceMean, reduceMin, reduceSum, reduceSumSquare } from './reduce.js';
import { expand, gather, tile, where } from './routing.js';
import { einsum } from './einsum.js';
import { lrn } from './lrn.js';
import { resize } from './resize.js';
import { logSoftmax, softmax } from './softmax.js';
import { abs, cos, elu, erf, exp, identity, log, neg, pow, reciprocal, sin, softplus, sqrt } from './unary.js';
import type { OpRules } from './types.js';

export const RULES: ReadonlyMap<string, OpRules> = new Map<string, OpRules>([
  ['Conv', conv],
  ['Gemm', gemm],
  ['MatMul', matmul],
  ['Add', add],
  ['Sub', sub],
  ['Sum', sum],
  ['Mul', mul],
  ['Div', div],
  ['Relu', relu],
  ['LeakyRelu', leakyRelu],
  ['PRelu', prelu],
  ['Clip', clip],
  ['Sigmoid', sigmoid],
  ['Tanh', tanh],
  ['HardSigmoid', hardSigmoid],
  ['HardSwish', hardSwish],
  ['MaxPool', maxPool],
  ['AveragePool', averagePool],
  ['GlobalAveragePool', globalAveragePool],
  ['GlobalMaxPool', globalMaxPool],
  ['Concat', concat],
  ['Split', split],
  ['Slice', slice],
  ['Pad', pad],
  ['Flatten', reshape],
  ['Reshape', reshape],
  ['Squeeze', reshape],
  ['Unsqueeze', reshape],
  ['Transpose', transpose],
  ['BatchNormalization', batchNorm],
  ['ReduceMean', reduceMean],
  ['ReduceSum', reduceSum],
  ['ReduceSumSquare', reduceSumSquare],
  ['ReduceL2', reduceL2],
  ['ReduceMax', reduceMax],
  ['ReduceMin', reduceMin],
  ['Erf', erf],
  ['Exp', exp],
  ['Log', log],
  ['Sqrt', sqrt],
  ['Reciprocal', reciprocal],
  ['Neg', neg],
  ['Abs', abs],
  ['Sin', sin],
  ['Cos', cos],
  ['Pow', pow],
  ['Softplus', softplus],
  ['Elu', elu],
  ['Identity', identity],
  ['Cast', identity],
  ['Dropout', identity],
  ['Softmax', softmax],
  ['LogSoftmax', logSoftmax],
  ['LayerNormalization', normalization],
  ['InstanceNormalization', normalization],
  ['Gather', gather],
  ['Expand', expand],
  ['Tile', tile],
  ['Where', where],
  ['Resize', resize],
  ['LRN', lrn],
  ['Einsum', einsum],
]);

/** Ops removed by canonicalization or folded away once shapes are known; accepted at import. */
export const CANONICALIZED_OPS: readonly string[] = [
  'Identity', 'Dropout', 'Softmax', 'LogSoftmax', 'Constant', 'Shape', 'Size', 'Gather', 'Cast', 'ConstantOfShape',
  'Range', 'Expand', 'Equal', 'Where', 'Neg', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Greater', 'Less', 'Not', 'Max', 'Min',
  'DequantizeLinear', 'Mod', 'Sign', 'And', 'Or', 'GreaterOrEqual', 'LessOrEqual', 'ScatterND', 'CumSum', 'EyeLike',
];

export function supportedOps(): string[] {
  return [...RULES.keys()].sort();
}

export type { OpRules, BackwardRule, RuleContext, RuleFamily } from './types.js';
