/**
 * How Conv, Gemm and MatMul compute forward and backward with substituted weights, so that an LRP
 * rule is written once for the three linear ops (linearRules/).
 */
import { attrFloat, attrInt } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { convInputGradient } from './convInputGradient.js';
import { refuse } from './signal.js';
import type { RuleContext } from './types.js';
import { mapWeights, transposeMatrix } from './weights.js';

export type Weights = { w: Tensor; b: Tensor | undefined };

/** How a linear op computes forward and backward with substituted weights. */
export interface LinearOps {
  /** y = W·x (+ b) with the node's geometry, for a forward tensor x of the input's shape. */
  forward(x: string, w: Tensor, b: Tensor | undefined, hint: string): string;
  /** Wᵀ·s for a K-major signal s of the output's shape. */
  backward(s: string, w: Tensor, hint: string): string;
}

/** The node's weights (α and β of a Gemm folded in) and its forward and backward with others. */
export function linearOps(ctx: RuleContext): { ops: LinearOps; weights: Weights } {
  const { node, emit } = ctx;
  if (ctx.needs[1] || ctx.needs[2]) refuse(ctx, 'weights that depend on the input are not supported by LRP rules');
  const w = ctx.constant(node.inputs[1]!);
  if (!w) refuse(ctx, 'the weight must be a constant');
  let b = node.inputs[2] ? ctx.constant(node.inputs[2]) : undefined;
  if (node.inputs[2] && !b) refuse(ctx, 'the bias must be a constant');
  if (node.op === 'Conv') {
    const attrs = { ...node.attrs };
    return {
      weights: { w, b },
      ops: {
        forward: (x, wt, bt, hint) => {
          const inputs = [x, emit.constant(wt, `${node.name}/${hint}_w`)];
          if (bt) inputs.push(emit.constant(bt, `${node.name}/${hint}_b`));
          return emit.ops('Conv', inputs, attrs, 1, `${hint}Fwd`)[0]!;
        },
        backward: (s, wt, hint) => convInputGradient(ctx, s, emit.constant(wt, `${node.name}/${hint}_w`), wt),
      },
    };
  }
  if (node.op === 'Gemm') {
    if (attrInt(node, 'transA', 0) !== 0) refuse(ctx, 'transA=1 is not supported');
    const transB = attrInt(node, 'transB', 0);
    const alpha = attrFloat(node, 'alpha', 1);
    const beta = attrFloat(node, 'beta', 1);
    if (b && (b.dims.length !== 1 || b.dims[0] !== (transB ? w.dims[0] : w.dims[1]))) {
      refuse(ctx, `LRP needs a per-output bias of the Gemm (got C of shape [${b.dims}])`);
    }
    if (b && beta !== 1) b = mapWeights(b, (v) => v * beta);
    return {
      weights: { w: alpha === 1 ? w : mapWeights(w, (v) => v * alpha), b },
      ops: {
        forward: (x, wt, bt, hint) => {
          const inputs = [x, emit.constant(wt, `${node.name}/${hint}_w`)];
          if (bt) inputs.push(emit.constant(bt, `${node.name}/${hint}_b`));
          return emit.op('Gemm', inputs, { transB }, `${hint}Fwd`);
        },
        backward: (s, wt, hint) => emit.op('Gemm', [s, emit.constant(wt, `${node.name}/${hint}_w`)], { transB: transB ? 0 : 1 }, `${hint}Bwd`),
      },
    };
  }
  if (node.op === 'MatMul') {
    return {
      weights: { w, b: undefined },
      ops: {
        forward: (x, wt, _bt, hint) => emit.op('MatMul', [x, emit.constant(wt, `${node.name}/${hint}_w`)], {}, `${hint}Fwd`),
        backward: (s, wt, hint) => emit.op('MatMul', [s, emit.constant(transposeMatrix(wt), `${node.name}/${hint}_wT`)], {}, `${hint}Bwd`),
      },
    };
  }
  refuse(ctx, 'no LRP rule for this op');
}
