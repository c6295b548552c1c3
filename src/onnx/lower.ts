/**
 * Import-time rewrites into the IR's op set (opset 17, float32):
 * - float16 and float64 models are computed in float32: initializers, graph inputs and outputs,
 *   Casts and ConstantOfShape values;
 * - quantized (QDQ) models are explained as the float model they approximate: a QuantizeLinear
 *   followed by a DequantizeLinear becomes an identity (the rounding it simulates has a zero
 *   derivative almost everywhere); dequantized weights are folded at specialization;
 * - Gelu (opset 20) and GroupNormalization (opsets 18, 21) are written out in opset-17 ops, so the
 *   compiled graph runs on every onnxruntime, and their parts get their own rules (GELU's Φ(x) is
 *   then a gate for LRP; see rules/mul.ts).
 */
import { BacklightError } from '../errors.js';
import { attrFloat, attrInt, attrString, renameUses, type Graph, type Node } from '../ir/graph.js';
import { asFloat32, float32, int64, type Tensor } from '../ir/tensor.js';

const FLOAT_CODE = 1;
const WIDE_FLOATS = new Set([10, 11]); // float16, float64

const toFloat32 = (t: Tensor): Tensor => (t.dtype === 'float16' || t.dtype === 'float64' ? { dtype: 'float32', dims: [...t.dims], data: asFloat32(t) } : t);

export function lowerToFloat32(g: Graph): void {
  for (const [name, t] of g.initializers) g.initializers.set(name, toFloat32(t));
  for (const io of [...g.inputs, ...g.outputs]) if (io.dtype === 'float16' || io.dtype === 'float64') io.dtype = 'float32';
  for (const n of g.nodes) {
    const to = n.attrs.to;
    if (n.op === 'Cast' && to?.type === 'int' && WIDE_FLOATS.has(to.value)) n.attrs.to = { type: 'int', value: FLOAT_CODE };
    const value = n.attrs.value;
    if (value?.type === 'tensor') n.attrs.value = { type: 'tensor', value: toFloat32(value.value) };
  }
  // QDQ: DequantizeLinear(QuantizeLinear(x)) → x.
  const byOutput = new Map(g.nodes.map((n) => [n.outputs[0]!, n]));
  const dropped = new Set<Node>();
  for (const dq of g.nodes) {
    if (dq.op !== 'DequantizeLinear') continue;
    const q = byOutput.get(dq.inputs[0]!);
    if (q?.op !== 'QuantizeLinear') continue;
    dropped.add(dq);
    renameUses(g, dq.outputs[0]!, q.inputs[0]!);
  }
  if (dropped.size === 0) return;
  g.nodes = g.nodes.filter((n) => !dropped.has(n));
  const read = new Set(g.nodes.flatMap((n) => n.inputs));
  g.nodes = g.nodes.filter((n) => n.op !== 'QuantizeLinear' || read.has(n.outputs[0]!));
}

type ConstInput = (suffix: string, t: Tensor) => string;

function emitter(base: Node): { op: (op: string, inputs: string[], attrs?: Node['attrs'], output?: string) => string; nodes: Node[] } {
  const nodes: Node[] = [];
  let i = 0;
  return {
    nodes,
    op(op, inputs, attrs = {}, output) {
      const out = output ?? `${base.outputs[0]}__${op}_${i}`;
      nodes.push({ name: `${base.name}/${op}_${i++}`, op, domain: '', inputs, outputs: [out], attrs });
      return out;
    },
  };
}

/** Gelu: x·½(1 + erf(x/√2)), or with approximate = 'tanh', x·½(1 + tanh(√(2/π)(x + 0.044715x³))). */
export function decomposeGelu(node: Node, constant: ConstInput): Node[] {
  const e = emitter(node);
  const x = node.inputs[0]!;
  const c = (v: number, s: string): string => constant(s, float32([], [v]));
  const approximate = attrString(node, 'approximate', 'none');
  let inner: string;
  if (approximate === 'tanh') {
    const cube = e.op('Mul', [e.op('Mul', [x, x]), x]);
    const u = e.op('Mul', [e.op('Add', [x, e.op('Mul', [cube, c(0.044715, 'k')])]), c(Math.sqrt(2 / Math.PI), 'sqrt2pi')]);
    inner = e.op('Tanh', [u]);
  } else if (approximate === 'none') {
    inner = e.op('Erf', [e.op('Mul', [x, c(Math.SQRT1_2, 'invSqrt2')])]);
  } else throw new BacklightError(`node '${node.name}' (Gelu): approximate must be 'none' or 'tanh' (got '${approximate}')`);
  const gate = e.op('Add', [inner, c(1, 'one')]);
  e.op('Mul', [e.op('Mul', [x, gate]), c(0.5, 'half')], {}, node.outputs[0]);
  return e.nodes;
}

/**
 * GroupNormalization: Reshape to [N, G, −1], InstanceNormalization without affine, then the scale
 * and bias (per group before opset 21, per channel from 21) and a Reshape back to X's shape.
 */
export function decomposeGroupNorm(node: Node, opset: number, constant: ConstInput, source: string): Node[] {
  const e = emitter(node);
  const [x, scaleName, biasName] = node.inputs as [string, string, string];
  const groups = attrInt(node, 'num_groups');
  if (!groups || groups < 1) throw new BacklightError(`${source}: node '${node.name}' (GroupNormalization): num_groups must be a positive integer`);
  const ones = constant('ones', float32([groups], new Array<number>(groups).fill(1)));
  const zeros = constant('zeros', float32([groups], new Array<number>(groups).fill(0)));
  const grouped = e.op('Reshape', [x, constant('grouped', int64([3], [0, groups, -1]))]);
  const normalized = e.op('InstanceNormalization', [grouped, ones, zeros], { epsilon: { type: 'float', value: attrFloat(node, 'epsilon', 1e-5) } });
  const shape = e.op('Shape', [x]);
  if (opset < 21) {
    const perGroup = (name: string): string => e.op('Reshape', [name, constant('perGroup', int64([2], [groups, 1]))]);
    const affine = e.op('Add', [e.op('Mul', [normalized, perGroup(scaleName)]), perGroup(biasName)]);
    e.op('Reshape', [affine, shape], {}, node.outputs[0]);
  } else {
    const perChannelShape = constant('perChannel', int64([2], [-1, 1]));
    const channels = e.op('Reshape', [normalized, e.op('Concat', [constant('batchKeep', int64([1], [0])), e.op('Shape', [scaleName]), constant('rest', int64([1], [-1]))], { axis: { type: 'int', value: 0 } })]);
    const affine = e.op('Add', [e.op('Mul', [channels, e.op('Reshape', [scaleName, perChannelShape])]), e.op('Reshape', [biasName, perChannelShape])]);
    e.op('Reshape', [affine, shape], {}, node.outputs[0]);
  }
  return e.nodes;
}
