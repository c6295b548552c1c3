/**
 * A Softmax or LogSoftmax that produces the model output is removed, so that the logits before it
 * are explained (the papers explain pre-softmax scores: gradients through the softmax mix classes).
 * Returns whether one was removed.
 */
import { renameUses, type Graph } from '../ir/graph.js';

export function dropTrailingSoftmax(g: Graph): boolean {
  const out = g.outputs[0]!;
  const node = g.nodes.find((n) => n.outputs[0] === out.name);
  if (!node || (node.op !== 'Softmax' && node.op !== 'LogSoftmax')) return false;
  const readers = g.nodes.filter((n) => n.inputs.includes(out.name));
  if (readers.length > 0) return false;
  g.nodes = g.nodes.filter((n) => n !== node);
  renameUses(g, out.name, node.inputs[0]!);
  return true;
}
