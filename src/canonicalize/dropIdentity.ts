/** Identity and Dropout (inference mode) pass their input through: remove them. */
import { renameUses, type Graph } from '../ir/graph.js';

export function dropIdentity(g: Graph): void {
  for (const n of [...g.nodes]) {
    if (n.op !== 'Identity' && n.op !== 'Dropout') continue;
    g.nodes = g.nodes.filter((m) => m !== n);
    renameUses(g, n.outputs[0]!, n.inputs[0]!);
  }
}
