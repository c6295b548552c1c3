/** The canonicalization pipeline: run once per (model, input shape) before compiling. */
import { removeDeadNodes, type Graph } from '../ir/graph.js';
import { dropIdentity } from './dropIdentity.js';
import { dropTrailingSoftmax } from './dropSoftmax.js';
import { foldBatchNorm } from './foldBatchNorm.js';
import { matmulToGemm } from './matmulToGemm.js';
import { specialize } from './specialize.js';

export interface CanonicalModel {
  graph: Graph;
  /** A trailing Softmax/LogSoftmax was removed: the logits before it are explained. */
  removedSoftmax: boolean;
  foldedBatchNorms: number;
}

export function canonicalize(model: Graph, inputShape: readonly number[]): CanonicalModel {
  const graph = specialize(model, inputShape);
  dropIdentity(graph);
  const removedSoftmax = dropTrailingSoftmax(graph);
  matmulToGemm(graph);
  const foldedBatchNorms = foldBatchNorm(graph);
  removeDeadNodes(graph);
  return { graph, removedSoftmax, foldedBatchNorms };
}

export { specialize, dropIdentity, dropTrailingSoftmax, foldBatchNorm, matmulToGemm };
