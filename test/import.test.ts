/**
 * What the importer rewrites (src/onnx/inline.ts, src/onnx/lower.ts, src/onnx/decode.ts): local
 * functions inlined, float16 models computed in float32, QDQ pairs on activations removed, Upsample
 * and Resize of every coordinate mode, each checked against the same model written without the
 * feature, or against onnxruntime's own forward pass.
 */
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { intAttr, type Graph } from '../src/ir/graph.js';
import { asFloat32, float32, int64, type Tensor } from '../src/ir/tensor.js';
import { encodeModel } from '../src/onnx/encode.js';
import { onnx, tensorToProto, type OnnxNs } from '../src/onnx/proto.js';
import { relL2 } from './helpers/compare.js';
import { TinyGraphBuilder, randomInput } from './reference/tinyModels.js';

/** conv → SiLU (x·σ(x)) → conv → global pool → gemm, as a plain graph. */
function siluNet(): Graph {
  const b = new TinyGraphBuilder('silu', [1, 2, 5, 5], 31);
  const c = b.conv(b.input, 2, 4);
  const silu = b.op('Mul', [c, b.op('Sigmoid', [c])]);
  return b.finish(b.op('Relu', [b.conv(silu, 4, 3)])).graph;
}

const x = randomInput([1, 2, 5, 5], 3);
const explainBoth = async (a: Uint8Array, b: Uint8Array, method: 'gradient' | 'lrp-epsilon' = 'gradient') => {
  const [ea, eb] = await Promise.all([Explainer.load(a), Explainer.load(b)]);
  const opts = { method, target: 'max' as const };
  const [ra, rb] = await Promise.all([ea.explain({ data: x, dims: [1, 2, 5, 5] }, opts), eb.explain({ data: x, dims: [1, 2, 5, 5] }, opts)]);
  return { a: ra, b: rb };
};

/** Re-encodes a graph's model proto with a transformation of the proto. */
function withProto(g: Graph, edit: (m: OnnxNs.IModelProto) => void, opset = 17): Uint8Array {
  const m = onnx.ModelProto.decode(encodeModel(g, 'test', opset));
  edit(m);
  return onnx.ModelProto.encode(m).finish();
}

describe('import', () => {
  it('a local function (SiLU with an attribute reference) is inlined: the same explanation as the graph written out', async () => {
    const g = siluNet();
    const T = onnx.AttributeProto.AttributeType;
    const bytes = withProto(g, (m) => {
      const graph = m.graph!;
      const mul = graph.node!.findIndex((n) => n.opType === 'Mul');
      const sig = graph.node!.findIndex((n) => n.opType === 'Sigmoid');
      const x0 = graph.node![sig]!.input![0]!;
      const y = graph.node![mul]!.output![0]!;
      // The call replaces Sigmoid and Mul; the function scales its input by `alpha` (1 here) first.
      const call: OnnxNs.INodeProto = { name: 'act', opType: 'ScaledSiLU', domain: 'custom.fn', input: [x0], output: [y], attribute: [{ name: 'alpha', type: T.FLOAT, f: 1 }] };
      graph.node = graph.node!.filter((_, i) => i !== mul && i !== sig);
      graph.node.splice(Math.min(mul, sig), 0, call);
      m.opsetImport!.push({ domain: 'custom.fn', version: 1 });
      m.functions = [{
        name: 'ScaledSiLU', domain: 'custom.fn', input: ['X'], output: ['Y'], attribute: ['alpha'],
        opsetImport: [{ domain: '', version: 17 }],
        node: [
          { name: 'k', opType: 'Constant', domain: '', output: ['A'], attribute: [{ name: 'value_float', type: T.FLOAT, refAttrName: 'alpha' }] },
          { name: 'scale', opType: 'Mul', domain: '', input: ['X', 'A'], output: ['S'] },
          { name: 'sig', opType: 'Sigmoid', domain: '', input: ['S'], output: ['G'] },
          { name: 'gate', opType: 'Mul', domain: '', input: ['S', 'G'], output: ['Y'] },
        ],
      }];
    });
    for (const method of ['gradient', 'lrp-epsilon'] as const) {
      const { a, b } = await explainBoth(bytes, encodeModel(g), method);
      expect(relL2(a.attribution.data, b.attribution.data), method).toBeLessThan(1e-6);
    }
  });

  it('a float16 model is computed in float32: equal to the float32 model with the same (rounded) weights', async () => {
    const g = siluNet();
    // Round every weight to float16 in the float32 model too, so both hold the same values.
    const halfBits = (t: Tensor): Uint16Array => {
      const src = t.data as Float32Array;
      const out = new Uint16Array(src.length);
      const f = new Float32Array(1), u = new Uint32Array(f.buffer);
      for (let i = 0; i < src.length; i++) {
        f[0] = src[i]!;
        const bits = u[0]!;
        const sign = (bits >>> 16) & 0x8000, exp = ((bits >>> 23) & 0xff) - 127 + 15, mant = bits & 0x7fffff;
        if (exp <= 0) {
          // Zero and float16 subnormals: multiples of 2^-24.
          out[i] = sign | Math.round(Math.abs(src[i]!) / 2 ** -24);
          continue;
        }
        // Normal numbers, rounded to nearest even.
        let h = sign | (exp << 10) | (mant >>> 13);
        const rest = mant & 0x1fff;
        if (rest > 0x1000 || (rest === 0x1000 && (h & 1))) h++;
        out[i] = h;
      }
      return out;
    };
    const half = new Map<string, Tensor>();
    for (const [name, t] of g.initializers) if (t.dtype === 'float32') half.set(name, { dtype: 'float16', dims: [...t.dims], data: halfBits(t) });
    const rounded: Graph = { ...g, initializers: new Map(g.initializers) };
    for (const [name, t] of half) rounded.initializers.set(name, float32([...t.dims], asFloat32(t)));
    const bytes = withProto(g, (m) => {
      m.graph!.initializer = m.graph!.initializer!.map((p) => (half.has(p.name!) ? tensorToProto(p.name!, half.get(p.name!)!) : p));
      for (const io of [...m.graph!.input!, ...m.graph!.output!]) io.type!.tensorType!.elemType = 10;
    });
    const { a, b } = await explainBoth(bytes, encodeModel(rounded));
    expect(relL2(a.attribution.data, b.attribution.data)).toBeLessThan(1e-6);
    expect(relL2(a.logits.data, b.logits.data)).toBeLessThan(1e-6);
  });

  it('QuantizeLinear → DequantizeLinear pairs on activations become identities', async () => {
    const g = siluNet();
    const relu = g.nodes.find((n) => n.op === 'Relu')!;
    const q: Graph = { ...g, nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs] })), initializers: new Map(g.initializers) };
    q.initializers.set('qs', float32([], [0.02]));
    q.initializers.set('qz', { dtype: 'uint8', dims: [], data: new Uint8Array([128]) });
    const reader = q.nodes.find((n) => n.inputs.includes(relu.outputs[0]!))!;
    q.nodes.splice(q.nodes.indexOf(reader), 0,
      { name: 'q', op: 'QuantizeLinear', domain: '', inputs: [relu.outputs[0]!, 'qs', 'qz'], outputs: ['qv'], attrs: {} },
      { name: 'dq', op: 'DequantizeLinear', domain: '', inputs: ['qv', 'qs', 'qz'], outputs: ['dqv'], attrs: {} });
    reader.inputs = reader.inputs.map((i) => (i === relu.outputs[0] ? 'dqv' : i));
    const { a, b } = await explainBoth(encodeModel(q), encodeModel(g));
    expect(relL2(a.attribution.data, b.attribution.data)).toBeLessThan(1e-7);
  });
});

/**
 * Resize is linear, y = A x: its backward is Aᵀ. ⟨A x, s⟩ = ⟨x, Aᵀ s⟩ for random x and s checks the
 * compiled Aᵀ against onnxruntime's own Resize (which computes A x in the forward pass).
 */
describe('Resize and Upsample: the backward is the adjoint of the forward pass of onnxruntime', () => {
  interface Case { label: string; attrs: Record<string, string>; scales?: number[]; sizes?: number[]; opset?: number; upsample?: boolean }
  const cases: Case[] = [];
  for (const ctm of ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric']) {
    cases.push({ label: `linear, ${ctm}, ×2`, attrs: { mode: 'linear', coordinate_transformation_mode: ctm }, scales: [1, 1, 2, 2] });
    cases.push({ label: `linear, ${ctm}, sizes 7×3`, attrs: { mode: 'linear', coordinate_transformation_mode: ctm }, sizes: [1, 2, 7, 3] });
  }
  for (const nm of ['round_prefer_floor', 'round_prefer_ceil', 'floor', 'ceil']) {
    cases.push({ label: `nearest, ${nm}, ×1.5`, attrs: { mode: 'nearest', nearest_mode: nm, coordinate_transformation_mode: 'half_pixel' }, scales: [1, 1, 1.5, 1.5] });
  }
  cases.push({ label: 'nearest, asymmetric, ×2 (PyTorch interpolate)', attrs: { mode: 'nearest', nearest_mode: 'floor', coordinate_transformation_mode: 'asymmetric' }, scales: [1, 1, 2, 2] });
  cases.push({ label: 'nearest, tf_half_pixel_for_nn, downsampling to 3×2', attrs: { mode: 'nearest', coordinate_transformation_mode: 'tf_half_pixel_for_nn' }, sizes: [1, 2, 3, 2] });
  cases.push({ label: 'Upsample (opset 9), nearest ×2', attrs: { mode: 'nearest' }, scales: [1, 1, 2, 2], opset: 9, upsample: true });

  it.each(cases.map((c) => [c.label, c] as const))('%s', async (_, c) => {
    const initializers = new Map<string, Tensor>();
    if (c.scales) initializers.set('sc', float32([4], c.scales));
    if (c.sizes) initializers.set('sz', int64([4], c.sizes));
    const inputs = c.upsample ? ['input', 'sc'] : ['input', '', c.sizes ? '' : 'sc', ...(c.sizes ? ['sz'] : [])];
    const attrs = Object.fromEntries(Object.entries(c.attrs).map(([k, v]) => [k, { type: 'string' as const, value: v }]));
    const graph: Graph = {
      name: 'resize',
      inputs: [{ name: 'input', dtype: 'float32', shape: [1, 2, 4, 5] }],
      outputs: [{ name: 'logits', dtype: 'float32', shape: [1, 'classes'] }],
      nodes: [
        { name: 'resize', op: c.upsample ? 'Upsample' : 'Resize', domain: '', inputs, outputs: ['y'], attrs },
        { name: 'flat', op: 'Flatten', domain: '', inputs: ['y'], outputs: ['logits'], attrs: { axis: intAttr(1) } },
      ],
      initializers,
      values: new Map(),
    };
    const ex = await Explainer.load(encodeModel(graph, 'test', c.opset ?? 17));
    const classes = (await ex.explain({ data: randomInput([1, 2, 4, 5], 9), dims: [1, 2, 4, 5] }, { method: 'gradient', target: 0 })).logits.dims[1]!;
    for (const seed of [1, 2]) {
      const xin = randomInput([1, 2, 4, 5], seed);
      const sv = randomInput([1, classes], seed + 10);
      const r = await ex.explain({ data: xin, dims: [1, 2, 4, 5] }, { method: 'gradient', target: { seeds: sv, k: 1 } });
      let lhs = 0, rhs = 0, scale = 0;
      for (let i = 0; i < sv.length; i++) { lhs += r.logits.data[i]! * sv[i]!; scale += Math.abs(r.logits.data[i]! * sv[i]!); }
      for (let i = 0; i < xin.length; i++) rhs += xin[i]! * r.attribution.data[i]!;
      expect(Math.abs(lhs - rhs) / scale).toBeLessThan(1e-6);
    }
  });
});
