/**
 * MatMul of a 2-D activation with a constant 2-D weight, optionally followed by Add of a constant
 * bias, becomes one Gemm: one linear layer for the rules (LRP needs the bias with its layer).
 */
import { consumers, type Graph } from '../ir/graph.js';
import { sizeOf } from '../ir/tensor.js';

export function matmulToGemm(g: Graph): number {
  let merged = 0;
  const readers = consumers(g);
  for (const mm of [...g.nodes]) {
    if (mm.op !== 'MatMul') continue;
    const w = g.initializers.get(mm.inputs[1]!);
    const xShape = g.values.get(mm.inputs[0]!)?.shape;
    if (!w || w.dims.length !== 2 || !xShape || xShape.length !== 2) continue;
    mm.op = 'Gemm';
    mm.attrs = {};
    merged++;
    const next = readers.get(mm.outputs[0]!) ?? [];
    if (next.length !== 1 || next[0]!.op !== 'Add' || g.outputs.some((o) => o.name === mm.outputs[0])) continue;
    const add = next[0]!;
    const other = add.inputs[0] === mm.outputs[0] ? add.inputs[1]! : add.inputs[0]!;
    const bias = g.initializers.get(other);
    if (!bias || sizeOf(bias.dims) !== w.dims[1] || bias.dims.length > 2 || (bias.dims.length === 2 && bias.dims[0] !== 1)) continue;
    const flatName = `${mm.name}__bias`;
    g.initializers.set(flatName, { ...bias, dims: [w.dims[1]!] });
    mm.inputs = [mm.inputs[0]!, mm.inputs[1]!, flatName];
    g.values.delete(mm.outputs[0]!);
    mm.outputs = [add.outputs[0]!];
    g.nodes = g.nodes.filter((n) => n !== add);
  }
  return merged;
}
