/**
 * Folds an inference BatchNormalization into the Conv or Gemm that feeds it (when nothing else reads
 * the linear layer's output): y = s·(Wx + b − mean) + β with s = γ/√(var + ε) becomes W' = s·W,
 * b' = s·(b − mean) + β. LRP needs this (its rules see one linear layer), and it saves a pass.
 */
import { attrFloat, attrInt, consumers, producers, type Graph, type Node } from '../ir/graph.js';
import { asFloat32, float32, type Tensor } from '../ir/tensor.js';

export function foldBatchNorm(g: Graph): number {
  let folded = 0;
  const readers = consumers(g);
  const prod = producers(g);
  for (const bn of [...g.nodes]) {
    if (bn.op !== 'BatchNormalization') continue;
    const lin = prod.get(bn.inputs[0]!);
    if (!lin || (lin.op !== 'Conv' && lin.op !== 'Gemm')) continue;
    if ((readers.get(lin.outputs[0]!) ?? []).length !== 1 || g.outputs.some((o) => o.name === lin.outputs[0])) continue;
    const params = bn.inputs.slice(1).map((n) => g.initializers.get(n));
    if (params.some((p) => !p)) continue;
    const w = g.initializers.get(lin.inputs[1]!);
    const b = lin.inputs[2] ? g.initializers.get(lin.inputs[2]) : undefined;
    if (!w || (lin.inputs[2] && !b)) continue;
    // Only a per-output-channel bias folds (a broadcast Gemm C of another shape stays as it is).
    if (b && (b.dims.length !== 1 || b.dims[0] !== params[0]!.dims[0])) continue;
    if (lin.op === 'Gemm' && (attrInt(lin, 'transA', 0) !== 0 || attrFloat(lin, 'beta', 1) !== 1)) continue;

    const [gamma, beta, mean, variance] = params.map((p) => asFloat32(p as Tensor));
    const eps = attrFloat(bn, 'epsilon', 1e-5);
    const c = gamma!.length;
    const s = new Float32Array(c);
    for (let i = 0; i < c; i++) s[i] = gamma![i]! / Math.sqrt(variance![i]! + eps);

    const wd = asFloat32(w);
    const nw = new Float32Array(wd.length);
    if (lin.op === 'Conv') {
      const per = wd.length / c; // weight [Cout, Cin/g, k...]: output channel is the outer axis
      for (let i = 0; i < wd.length; i++) nw[i] = wd[i]! * s[Math.floor(i / per)]!;
    } else {
      const transB = attrInt(lin, 'transB', 0) === 1; // [out, in] when transposed, else [in, out]
      const alpha = attrFloat(lin, 'alpha', 1);
      for (let i = 0; i < wd.length; i++) nw[i] = alpha * wd[i]! * s[transB ? Math.floor(i / w.dims[1]!) : i % c]!;
      lin.attrs.alpha = { type: 'float', value: 1 };
    }
    const bd = b ? asFloat32(b) : new Float32Array(c);
    const nb = new Float32Array(c);
    for (let i = 0; i < c; i++) nb[i] = s[i]! * (bd[i]! - mean![i]!) + beta![i]!;

    const wName = `${lin.name}__w_bnfold`;
    const bName = `${lin.name}__b_bnfold`;
    g.initializers.set(wName, { dtype: 'float32', dims: [...w.dims], data: nw });
    g.initializers.set(bName, float32([c], nb));
    lin.inputs = [lin.inputs[0]!, wName, bName];
    g.values.delete(lin.outputs[0]!);
    lin.outputs = [bn.outputs[0]!];
    g.nodes = g.nodes.filter((n: Node) => n !== bn);
    folded++;
  }
  return folded;
}
