/**
 * TF.js graph models (src/tfjs/graphModel.ts) against tfjs itself (CPU backend): nsfwjs's
 * mobilenet_v2_mid as shipped in its npm package, and small GraphDefs written here that exercise
 * each op and attribute (SAME padding at stride 2 on odd sizes, fused ops, depthwise convs,
 * transposed matmuls, reductions, concatenation, padding, pooling). Logits are compared with
 * tfjs's forward pass, gradients with `tf.grad` through the same graph rebuilt from tfjs ops.
 */
import * as tf from '@tensorflow/tfjs';
import { beforeAll, describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { encodeModel } from '../src/onnx/encode.js';
import { graphModelToGraph } from '../src/tfjs/graphModel.js';
import type { Graph } from '../src/ir/graph.js';
import { BacklightError } from '../src/errors.js';
import { HAS_NSFWJS, interpret, nsfwjsModel, tfjsGraphModel, tfjsWeights, concatShards, type TfjsFixture } from './helpers/tfjsGraph.js';

/** max |a − b| / max |b|: the relative error of the whole tensor. */
function relMax(a: ArrayLike<number>, b: ArrayLike<number>): number {
  expect(a.length).toBe(b.length);
  let d = 0;
  let m = 0;
  for (let i = 0; i < a.length; i++) {
    expect(Number.isFinite(a[i]!)).toBe(true);
    d = Math.max(d, Math.abs(a[i]! - b[i]!));
    m = Math.max(m, Math.abs(b[i]!));
  }
  return d / m;
}

/** Seeded uniform values in [lo, hi). */
function seeded(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

async function explainerOf(g: Graph): Promise<Explainer> {
  return (await Explainer.load(encodeModel(g))) as Explainer;
}

beforeAll(async () => {
  await tf.setBackend('cpu');
});

describe.skipIf(!HAS_NSFWJS)('nsfwjs mobilenet_v2_mid (graph model)', () => {
  let fixture: TfjsFixture;
  let model: tf.GraphModel;
  let ex: Explainer;
  let weights: tf.NamedTensorMap;
  const LOGITS = 'StatefulPartitionedCall/sequential/dense/BiasAdd';
  const inputs = [1, 2].map((seed) => seeded(224 * 224 * 3, seed));

  beforeAll(async () => {
    fixture = nsfwjsModel('mobilenet_v2_mid');
    model = await tfjsGraphModel(fixture);
    const { specs, data } = concatShards(fixture);
    weights = tf.io.decodeWeights(data, specs);
    ex = await explainerOf(graphModelToGraph(fixture.json, tfjsWeights(fixture), 'mobilenet_v2_mid/model.json'));
  });

  it('logits equal tfjs GraphModel.execute, and softmax(logits) its predict, on seeded inputs', async () => {
    for (const x of inputs) {
      const r = await ex.explain({ data: x, dims: [1, 224, 224, 3] }, { method: 'gradient', target: 'max' });
      const xt = tf.tensor4d(x, [1, 224, 224, 3]);
      const logits = (model.execute(xt, LOGITS) as tf.Tensor).dataSync();
      const probs = (model.predict(xt) as tf.Tensor).dataSync();
      expect(relMax(r.logits.data, logits)).toBeLessThan(1e-4);
      const ours = tf.softmax(tf.tensor2d(r.logits.data, [1, 5])).dataSync();
      expect(relMax(ours, probs)).toBeLessThan(1e-4);
    }
  });

  it('the gradient of a logit equals tf.grad through the graph rebuilt from tfjs ops', async () => {
    const x = inputs[0]!;
    const xt = tf.tensor4d(x, [1, 224, 224, 3]);
    // The rebuilt graph computes what tfjs's own executor computes.
    const rebuilt = interpret(fixture, weights, xt, LOGITS).dataSync();
    expect(relMax(rebuilt, (model.execute(xt, LOGITS) as tf.Tensor).dataSync())).toBeLessThan(1e-5);
    for (const target of [0, 3]) {
      const g = tf.grad((v: tf.Tensor) => interpret(fixture, weights, v, LOGITS).slice([0, target], [1, 1]).sum())(xt).dataSync();
      const r = await ex.explain({ data: x, dims: [1, 224, 224, 3] }, { method: 'gradient', target: [target] });
      expect(r.attribution.dims).toEqual([1, 1, 224, 224, 3]);
      expect(relMax(r.attribution.data, g)).toBeLessThan(1e-4);
    }
  });
});

// ── small GraphDefs written here ─────────────────────────────────────────────────────────────────

type AttrValue = { i?: string; f?: number; s?: string; b?: boolean; list?: { i?: string[]; s?: string[] }; type?: string; shape?: unknown };
interface GNode { name: string; op: string; input?: string[]; attr?: Record<string, AttrValue> }

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const A = {
  s: (s: string): AttrValue => ({ s: b64(s) }),
  ints: (v: number[]): AttrValue => ({ list: { i: v.map(String) } }),
  strs: (v: string[]): AttrValue => ({ list: { s: v.map(b64) } }),
  b: (b: boolean): AttrValue => ({ b }),
  i: (i: number): AttrValue => ({ i: String(i) }),
  f: (f: number): AttrValue => ({ f }),
};
const conv = (padding: string, s: number, extra: Record<string, AttrValue> = {}): Record<string, AttrValue> => ({
  strides: A.ints([1, s, s, 1]), padding: A.s(padding), data_format: A.s('NHWC'), dilations: A.ints([1, 1, 1, 1]), T: { type: 'DT_FLOAT' }, ...extra,
});

/** A graph model from nodes and named constant values (float32, or int32 where given as Int32Array). */
async function graphModel(nodes: GNode[], consts: Record<string, { shape: number[]; values: Float32Array | Int32Array }>, inputShape: number[]): Promise<TfjsFixture> {
  const named: tf.NamedTensorMap = {};
  const constNodes: GNode[] = [];
  for (const [name, c] of Object.entries(consts)) {
    const int = c.values instanceof Int32Array;
    named[name] = int ? tf.tensor(c.values, c.shape, 'int32') : tf.tensor(c.values, c.shape, 'float32');
    constNodes.push({ name, op: 'Const', attr: { dtype: { type: int ? 'DT_INT32' : 'DT_FLOAT' } } });
  }
  const { data, specs } = await tf.io.encodeWeights(named);
  const placeholder: GNode = { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: inputShape.map((d) => ({ size: String(d) })) } } as AttrValue } };
  return {
    json: { format: 'graph-model', modelTopology: { node: [placeholder, ...constNodes, ...nodes], versions: { producer: 175 } }, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }] },
    shards: new Map([['group1-shard1of1.bin', new Uint8Array(data as ArrayBuffer)]]),
  };
}

const w = (shape: number[], seed: number, scale = 0.5): { shape: number[]; values: Float32Array } => ({ shape, values: seeded(shape.reduce((a, b) => a * b, 1), seed, -scale, scale) });
const ints = (values: number[], shape = [values.length]): { shape: number[]; values: Int32Array } => ({ shape, values: Int32Array.from(values) });

/**
 * Pad → Conv2D (SAME, stride 2, on 11×12) → _FusedConv2D [BiasAdd, Relu6] (SAME, dilation 2) → two branches:
 * DepthwiseConv2dNative (SAME, stride 2, multiplier 2) → FusedDepthwiseConv2dNative [BiasAdd, Relu];
 * MaxPool (SAME 2×2, stride 1) → AvgPool (SAME 3×3, stride 2: padding left out of the count) →
 * ConcatV2 (axis −1) → AddV2 and Mul with constants → Mean over H, W → _FusedMatMul (transpose_b)
 * [BiasAdd] → Softmax.
 */
async function branchy(): Promise<TfjsFixture> {
  const nodes: GNode[] = [
    { name: 'pad', op: 'Pad', input: ['x', 'pads'] },
    { name: 'c1', op: 'Conv2D', input: ['pad', 'w1'], attr: conv('SAME', 2) },
    { name: 'c2', op: '_FusedConv2D', input: ['c1', 'w2', 'b2'], attr: conv('SAME', 1, { dilations: A.ints([1, 2, 2, 1]), fused_ops: A.strs(['BiasAdd', 'Relu6']), num_args: A.i(1), epsilon: A.f(0) }) },
    { name: 'dw1', op: 'DepthwiseConv2dNative', input: ['c2', 'wd1'], attr: conv('SAME', 2) },
    { name: 'dw2', op: 'FusedDepthwiseConv2dNative', input: ['dw1', 'wd2', 'bd2'], attr: conv('VALID', 1, { fused_ops: A.strs(['BiasAdd', 'Relu']), num_args: A.i(1) }) },
    { name: 'mp', op: 'MaxPool', input: ['c2'], attr: { ksize: A.ints([1, 2, 2, 1]), strides: A.ints([1, 1, 1, 1]), padding: A.s('SAME'), data_format: A.s('NHWC') } },
    { name: 'ap', op: 'AvgPool', input: ['mp'], attr: { ksize: A.ints([1, 3, 3, 1]), strides: A.ints([1, 2, 2, 1]), padding: A.s('SAME'), data_format: A.s('NHWC') } },
    { name: 'dwpad', op: 'Pad', input: ['dw2', 'pads2'] },
    { name: 'cat', op: 'ConcatV2', input: ['dwpad', 'ap', 'axis'], attr: { N: A.i(2) } },
    { name: 'add', op: 'AddV2', input: ['cat', 'shift'] },
    { name: 'mul', op: 'Mul', input: ['scale', 'add'] },
    { name: 'mean', op: 'Mean', input: ['mul', 'hw'], attr: { keep_dims: A.b(false) } },
    { name: 'fc', op: '_FusedMatMul', input: ['mean', 'wfc', 'bfc'], attr: { transpose_a: A.b(false), transpose_b: A.b(true), fused_ops: A.strs(['BiasAdd']), num_args: A.i(1) } },
    { name: 'prob', op: 'Softmax', input: ['fc'] },
  ];
  return graphModel(nodes, {
    pads: ints([0, 0, 1, 1, 2, 1, 0, 0], [4, 2]),
    w1: w([3, 3, 3, 4], 11),
    w2: w([3, 3, 4, 6], 12),
    b2: w([6], 13, 0.2),
    wd1: w([3, 3, 6, 2], 14),
    wd2: w([2, 2, 12, 1], 15),
    bd2: w([12], 16, 0.2),
    pads2: ints([0, 0, 0, 1, 1, 0, 0, 0], [4, 2]),
    axis: ints([-1], []),
    shift: w([18], 17, 0.3),
    scale: { shape: [], values: Float32Array.of(1.5) },
    hw: ints([1, 2]),
    wfc: w([5, 18], 18),
    bfc: w([5], 19, 0.1),
  }, [-1, 9, 9, 3]);
}

/**
 * Conv2D with EXPLICIT padding → Relu → the Keras Flatten pattern (Shape →
 * StridedSlice → Pack with −1 → Reshape: NHWC order of the flattened features) → MatMul → BiasAdd.
 */
async function flattening(): Promise<TfjsFixture> {
  const nodes: GNode[] = [
    { name: 'c', op: 'Conv2D', input: ['x', 'w'], attr: conv('EXPLICIT', 1, { explicit_paddings: A.ints([0, 0, 1, 2, 0, 1, 0, 0]) }) },
    { name: 'r', op: 'Relu', input: ['c'] },
    { name: 'shape', op: 'Shape', input: ['r'], attr: { out_type: { type: 'DT_INT32' } } },
    { name: 'batch', op: 'StridedSlice', input: ['shape', 'b0', 'b1', 'b1'], attr: { shrink_axis_mask: A.i(1), begin_mask: A.i(0), end_mask: A.i(0), ellipsis_mask: A.i(0), new_axis_mask: A.i(0) } },
    { name: 'target', op: 'Pack', input: ['batch', 'minus1'], attr: { N: A.i(2), axis: A.i(0) } },
    { name: 'flat', op: 'Reshape', input: ['r', 'target'] },
    { name: 'mm', op: 'MatMul', input: ['flat', 'wfc'], attr: { transpose_a: A.b(false), transpose_b: A.b(false) } },
    { name: 'logits', op: 'BiasAdd', input: ['mm', 'bfc'], attr: { data_format: A.s('NHWC') } },
  ];
  return graphModel(nodes, {
    w: w([3, 3, 2, 3], 21),
    b0: ints([0]),
    b1: ints([1]),
    minus1: ints([-1], []),
    wfc: w([7 * 6 * 3, 4], 22),
    bfc: w([4], 23, 0.1),
  }, [-1, 6, 7, 2]);
}

describe('small graph models against tfjs', () => {
  it('every op of a branchy GraphDef: logits equal tfjs; the gradient equals tf.grad', async () => {
    const f = await branchy();
    const model = await tfjsGraphModel(f);
    const ex = await explainerOf(graphModelToGraph(f.json, tfjsWeights(f), 'branchy.json'));
    const { specs, data } = concatShards(f);
    const weights = tf.io.decodeWeights(data, specs);
    for (const seed of [5, 6]) {
      const x = seeded(2 * 9 * 9 * 3, seed, -1, 1);
      const xt = tf.tensor4d(x, [2, 9, 9, 3]);
      const logits = (model.execute(xt, 'fc') as tf.Tensor).dataSync();
      const rebuilt = interpret(f, weights, xt, 'fc').dataSync();
      expect(relMax(rebuilt, logits)).toBeLessThan(1e-6);
      for (const target of [1, 4]) {
        const r = await ex.explain({ data: x, dims: [2, 9, 9, 3] }, { method: 'gradient', target: [target] });
        expect(relMax(r.logits.data, logits)).toBeLessThan(1e-5);
        const g = tf.grad((v: tf.Tensor) => interpret(f, weights, v, 'fc').slice([0, target], [2, 1]).sum())(xt).dataSync();
        expect(r.attribution.dims).toEqual([2, 1, 9, 9, 3]);
        expect(relMax(r.attribution.data, g)).toBeLessThan(1e-5);
      }
    }
  });

  it('EXPLICIT padding and the Keras Flatten pattern: logits and gradient equal tfjs (tf.grad of model.execute)', async () => {
    const f = await flattening();
    const model = await tfjsGraphModel(f);
    const ex = await explainerOf(graphModelToGraph(f.json, tfjsWeights(f), 'flatten.json'));
    const x = seeded(3 * 6 * 7 * 2, 9, -1, 1);
    const xt = tf.tensor4d(x, [3, 6, 7, 2]);
    const logits = (model.execute(xt) as tf.Tensor).dataSync();
    for (const target of [0, 2]) {
      const r = await ex.explain({ data: x, dims: [3, 6, 7, 2] }, { method: 'gradient', target: [target] });
      expect(relMax(r.logits.data, logits)).toBeLessThan(1e-5);
      const g = tf.grad((v: tf.Tensor) => (model.execute(v) as tf.Tensor).slice([0, target], [3, 1]).sum())(xt).dataSync();
      expect(relMax(r.attribution.data, g)).toBeLessThan(1e-5);
    }
  });
});
