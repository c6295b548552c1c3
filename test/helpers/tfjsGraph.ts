/**
 * References for TF.js graph-model import: nsfwjs's bundled models read from node_modules, weights
 * decoded by tfjs itself, and a GraphDef interpreter on tfjs ops (unfused), through which `tf.grad`
 * differentiates: tfjs has no gradient for a fused conv with Relu6, so `model.execute` cannot be
 * differentiated (and its AvgPool gradient is wrong with SAME padding, see below). The interpreter's forward pass is checked against tfjs's `model.execute` before
 * its gradients are used.
 */
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { REPO } from './paths.js';

const require = createRequire(import.meta.url);

export interface ModelJsonLike {
  format?: string;
  modelTopology: Record<string, unknown>;
  weightsManifest: { paths: string[]; weights: tf.io.WeightsManifestEntry[] }[];
  signature?: Record<string, unknown>;
  userDefinedMetadata?: Record<string, unknown>;
}

export interface TfjsFixture {
  json: ModelJsonLike;
  /** The shard files' bytes, by the manifest's path. */
  shards: Map<string, Uint8Array>;
}

const NSFW = path.join(REPO, 'node_modules/nsfwjs/dist/models');
export const HAS_NSFWJS = existsSync(path.join(NSFW, 'mobilenet_v2_mid/model.min.js'));

/** One of nsfwjs's models: its package stores model.json and each shard (base64) as CommonJS modules. */
export function nsfwjsModel(name: 'mobilenet_v2' | 'mobilenet_v2_mid' | 'inception_v3'): TfjsFixture {
  const json = require(path.join(NSFW, name, 'model.min.js')) as ModelJsonLike;
  const shards = new Map<string, Uint8Array>();
  for (const p of json.weightsManifest.flatMap((g) => g.paths)) {
    const b64 = require(path.join(NSFW, name, `${p}.min.js`)) as string;
    shards.set(p, new Uint8Array(Buffer.from(b64, 'base64')));
  }
  return { json, shards };
}

export function concatShards(f: TfjsFixture): { specs: tf.io.WeightsManifestEntry[]; data: ArrayBuffer } {
  const specs: tf.io.WeightsManifestEntry[] = [];
  const parts: Uint8Array[] = [];
  for (const g of f.json.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) parts.push(f.shards.get(p)!);
  }
  const out = new Uint8Array(parts.reduce((s, p) => s + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return { specs, data: out.buffer };
}

/** tfjs's own GraphModel from memory. */
export async function tfjsGraphModel(f: TfjsFixture): Promise<tf.GraphModel> {
  const { specs, data } = concatShards(f);
  return tf.loadGraphModel(tf.io.fromMemory({ modelTopology: f.json.modelTopology, weightSpecs: specs, weightData: data, format: 'graph-model' }));
}


/**
 * A filter with its taps spread out by the dilation (zeros between): the same convolution without
 * dilation, which tfjs can differentiate (it has no gradient for dilated conv2d).
 */
function dilated(filter: tf.Tensor, [dh, dw]: [number, number]): tf.Tensor4D {
  const [h, w, i, o] = filter.shape as [number, number, number, number];
  if (dh === 1 && dw === 1) return filter as tf.Tensor4D;
  const H = (h - 1) * dh + 1, W = (w - 1) * dw + 1;
  const mask = tf.buffer([H, W, h, w]);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) mask.set(1, y * dh, x * dw, y, x);
  // out[Y, X, i, o] = Σ_{y,x} mask[Y, X, y, x] · filter[y, x, i, o]
  return tf.matMul(mask.toTensor().reshape([H * W, h * w]), filter.reshape([h * w, i * o])).reshape([H, W, i, o]) as tf.Tensor4D;
}

const str = (s: string | undefined): string => (s === undefined ? '' : Buffer.from(s, 'base64').toString('utf8'));
const listInts = (a: { list?: { i?: string[] } } | undefined): number[] => (a?.list?.i ?? []).map(Number);

/**
 * Runs a GraphDef with plain tfjs ops up to `output`, for tf.grad. Only the ops of the test
 * models; anything else throws.
 */
export function interpret(f: TfjsFixture, weights: tf.NamedTensorMap, x: tf.Tensor, output: string): tf.Tensor {
  const nodes = (f.json.modelTopology.node as GNode[]);
  const byName = new Map(nodes.map((n) => [n.name, n]));
  const memo = new Map<string, tf.Tensor>();
  const value = (ref: string): tf.Tensor => {
    const name = ref.replace(/:0$/, '');
    const hit = memo.get(name);
    if (hit) return hit;
    const n = byName.get(name);
    if (!n) throw new Error(`no node ${name}`);
    const v = run(n);
    memo.set(name, v);
    return v;
  };
  const pad = (n: GNode): 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]] => {
    const p = str(n.attr?.padding?.s);
    if (p === 'SAME') return 'same';
    if (p === 'VALID') return 'valid';
    const e = listInts(n.attr?.explicit_paddings);
    return [[e[0]!, e[1]!], [e[2]!, e[3]!], [e[4]!, e[5]!], [e[6]!, e[7]!]];
  };
  const act = (n: GNode, y: tf.Tensor, ops: string[], args: tf.Tensor[]): tf.Tensor => {
    let z = ops[0] === 'BiasAdd' ? tf.add(y, args[0]!) : y;
    switch (ops[1]) {
      case undefined: break;
      case 'Relu': z = tf.relu(z); break;
      case 'Relu6': z = tf.relu6(z); break;
      case 'Elu': z = tf.elu(z); break;
      case 'Sigmoid': z = tf.sigmoid(z); break;
      case 'LeakyRelu': z = tf.leakyRelu(z, n.attr?.leakyrelu_alpha?.f ?? 0.2); break;
      case 'Prelu': z = tf.prelu(z, args[1]!); break;
      default: throw new Error(`activation ${ops[1]}`);
    }
    return z;
  };
  const run = (n: GNode): tf.Tensor => {
    const ins = (n.input ?? []).filter((i) => !i.startsWith('^'));
    const inp = (i: number): tf.Tensor => value(ins[i]!);
    const strides = (): [number, number] => {
      const s = listInts(n.attr?.strides);
      return [s[1] ?? 1, s[2] ?? 1];
    };
    const dil = (): [number, number] => {
      const d = listInts(n.attr?.dilations);
      return [d[1] ?? 1, d[2] ?? 1];
    };
    const fusedOps = (n.attr?.fused_ops?.list?.s ?? []).map(str);
    const args = ins.slice(2).map((_, i) => inp(i + 2));
    switch (n.op) {
      case 'Placeholder': return x;
      case 'Const': {
        const w = weights[n.name];
        if (!w) throw new Error(`no weight ${n.name}`);
        return w;
      }
      case 'Identity': return inp(0);
      case 'Conv2D': return tf.conv2d(inp(0) as tf.Tensor4D, dilated(inp(1), dil()), strides(), pad(n) as 'same', 'NHWC');
      case '_FusedConv2D': return act(n, tf.conv2d(inp(0) as tf.Tensor4D, dilated(inp(1), dil()), strides(), pad(n) as 'same', 'NHWC'), fusedOps, args);
      case 'DepthwiseConv2dNative': return tf.depthwiseConv2d(inp(0) as tf.Tensor4D, inp(1) as tf.Tensor4D, strides(), pad(n) as 'same', 'NHWC', dil());
      case 'FusedDepthwiseConv2dNative': return act(n, tf.depthwiseConv2d(inp(0) as tf.Tensor4D, inp(1) as tf.Tensor4D, strides(), pad(n) as 'same', 'NHWC', dil()), fusedOps, args);
      case 'MatMul': return tf.matMul(inp(0), inp(1), n.attr?.transpose_a?.b ?? false, n.attr?.transpose_b?.b ?? false);
      case '_FusedMatMul': return act(n, tf.matMul(inp(0), inp(1), n.attr?.transpose_a?.b ?? false, n.attr?.transpose_b?.b ?? false), fusedOps, args);
      case 'BiasAdd': case 'Add': case 'AddV2': return tf.add(inp(0), inp(1));
      case 'Sub': return tf.sub(inp(0), inp(1));
      case 'Mul': return tf.mul(inp(0), inp(1));
      case 'Relu': return tf.relu(inp(0));
      case 'Relu6': return tf.relu6(inp(0));
      case 'Elu': return tf.elu(inp(0));
      case 'Sigmoid': return tf.sigmoid(inp(0));
      case 'Tanh': return tf.tanh(inp(0));
      case 'Mean': return tf.mean(inp(0), Array.from(inp(1).dataSync()), n.attr?.keep_dims?.b ?? false);
      case 'MaxPool': case 'AvgPool': {
        const k = listInts(n.attr?.ksize);
        const p = pad(n) as 'same' | 'valid';
        if (n.op === 'MaxPool') return tf.maxPool(inp(0) as tf.Tensor4D, [k[1]!, k[2]!], strides(), p);
        // tfjs's avgPool gradient divides by the whole window even where SAME padding left part of
        // it out of the mean (tfjs-core 4.22, CPU): the window sum over the count, as depthwise
        // convolutions with a kernel of ones, has the true gradient.
        const x4 = inp(0) as tf.Tensor4D;
        const ones = tf.ones([k[1]!, k[2]!, x4.shape[3], 1]) as tf.Tensor4D;
        const sum = tf.depthwiseConv2d(x4, ones, strides(), p);
        const count = tf.depthwiseConv2d(tf.onesLike(x4), ones, strides(), p);
        return tf.div(sum, count);
      }
      case 'Reshape': return tf.reshape(inp(0), Array.from(inp(1).dataSync()));
      case 'Squeeze': return tf.squeeze(inp(0), listInts(n.attr?.squeeze_dims));
      case 'Softmax': return tf.softmax(inp(0));
      case 'ConcatV2': return tf.concat(ins.slice(0, -1).map(value), inp(ins.length - 1).dataSync()[0]!);
      case 'Pad': {
        const p = Array.from(inp(1).dataSync());
        const pairs: [number, number][] = [];
        for (let i = 0; i < p.length; i += 2) pairs.push([p[i]!, p[i + 1]!]);
        return tf.pad(inp(0), pairs);
      }
      default: throw new Error(`interpret: op ${n.op}`);
    }
  };
  return value(output);
}

// ── GraphDefs written by hand (tests build small graph models with them) ─────────────────────────

/** Seeded uniform values in [lo, hi). */
export function seeded(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((s >>> 8) / 2 ** 24) * (hi - lo);
  }
  return out;
}

export type AttrValue = { i?: string; f?: number; s?: string; b?: boolean; list?: { i?: string[]; s?: string[] }; type?: string; shape?: unknown };
export interface GNode { name: string; op: string; input?: string[]; attr?: Record<string, AttrValue> }

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
export const A = {
  s: (s: string): AttrValue => ({ s: b64(s) }),
  ints: (v: number[]): AttrValue => ({ list: { i: v.map(String) } }),
  strs: (v: string[]): AttrValue => ({ list: { s: v.map(b64) } }),
  b: (b: boolean): AttrValue => ({ b }),
  i: (i: number): AttrValue => ({ i: String(i) }),
  f: (f: number): AttrValue => ({ f }),
};
export const conv = (padding: string, s: number, extra: Record<string, AttrValue> = {}): Record<string, AttrValue> => ({
  strides: A.ints([1, s, s, 1]), padding: A.s(padding), data_format: A.s('NHWC'), dilations: A.ints([1, 1, 1, 1]), T: { type: 'DT_FLOAT' }, ...extra,
});

/** A graph model from nodes and named constant values (float32, or int32 where given as Int32Array). */
export async function graphModel(nodes: GNode[], consts: Record<string, { shape: number[]; values: Float32Array | Int32Array }>, inputShape: number[]): Promise<TfjsFixture> {
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

export const w = (shape: number[], seed: number, scale = 0.5): { shape: number[]; values: Float32Array } => ({ shape, values: seeded(shape.reduce((a, b) => a * b, 1), seed, -scale, scale) });
export const ints = (values: number[], shape = [values.length]): { shape: number[]; values: Int32Array } => ({ shape, values: Int32Array.from(values) });

/**
 * Pad → Conv2D (SAME, stride 2, on 11×12) → _FusedConv2D [BiasAdd, Relu6] (SAME, dilation 2) → two branches:
 * DepthwiseConv2dNative (SAME, stride 2, multiplier 2) → FusedDepthwiseConv2dNative [BiasAdd, Relu];
 * MaxPool (SAME 2×2, stride 1) → AvgPool (SAME 3×3, stride 2: padding left out of the count) →
 * ConcatV2 (axis −1) → AddV2 and Mul with constants → Mean over H, W → _FusedMatMul (transpose_b)
 * [BiasAdd] → Softmax.
 */
export async function branchy(): Promise<TfjsFixture> {
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
