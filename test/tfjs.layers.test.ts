/**
 * Layers models built here with tfjs (seeded random weights), saved as model.json + weights, imported
 * by src/tfjs and compared with tfjs's own forward pass and tf.grad: a functional model with the
 * layer types of the importer's list, a sequential one, quantized weights, and the refusals.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { afterAll, describe, expect, it } from 'vitest';
import { BacklightError } from '../src/errors.js';
import { Explainer, shardsBeside } from '../src/index.js';
import { encodeModel } from '../src/onnx/encode.js';
import { importTfjsModel } from '../src/tfjs/import.js';
import type { TensorLike } from '../src/ir/tensor.js';
import { SUPPORTED_ACTIVATIONS, SUPPORTED_LAYERS } from '../src/tfjs/layersModel.js';
import { relL2 } from './helpers/compare.js';
import { REPO } from './helpers/paths.js';

const TMP = mkdtempSync(path.join(tmpdir(), 'backlight-tfjs-'));
afterAll(() => rmSync(TMP, { recursive: true, force: true }));

interface Saved {
  json: string;
  artifacts: tf.io.ModelArtifacts;
}

/** Saves `model` as tfjs does (model.json + one weights file) into a fresh folder. */
async function save(model: tf.LayersModel, name: string, edit?: (specs: tf.io.WeightsManifestEntry[], data: Uint8Array) => Uint8Array): Promise<Saved> {
  let artifacts: tf.io.ModelArtifacts | undefined;
  await model.save(tf.io.withSaveHandler(async (a) => {
    artifacts = a;
    return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
  }));
  const a = artifacts!;
  const specs = structuredClone(a.weightSpecs!);
  let data: Uint8Array = new Uint8Array(a.weightData as ArrayBuffer);
  if (edit) data = edit(specs, data);
  const dir = path.join(TMP, name);
  const { mkdirSync } = await import('node:fs');
  mkdirSync(dir, { recursive: true });
  const json = path.join(dir, 'model.json');
  writeFileSync(json, JSON.stringify({ format: 'layers-model', generatedBy: 'test', convertedBy: null, modelTopology: a.modelTopology, weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: specs }] }));
  writeFileSync(path.join(dir, 'group1-shard1of1.bin'), data);
  return { json, artifacts: { ...a, weightSpecs: specs, weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength) as ArrayBuffer } };
}

/** Seeded uniform values in [−a, a]. */
function random(n: number, seed: number, a = 1): Float32Array {
  const out = new Float32Array(n);
  let s = seed;
  for (let i = 0; i < n; i++) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    out[i] = (s / 2 ** 31) * 2 * a - a;
  }
  return out;
}

/** Random weights for every layer (BatchNormalization statistics too, variances positive). */
function randomize(model: tf.LayersModel, seed: number): void {
  let k = seed;
  for (const layer of model.layers) {
    const ws = layer.getWeights();
    if (ws.length === 0) continue;
    layer.setWeights(ws.map((w, i) => {
      const v = random(w.size, k++, 0.5);
      const isVar = layer.getClassName() === 'BatchNormalization' && layer.weights[i]!.name.includes('moving_variance');
      return tf.tensor(isVar ? v.map((x) => x + 0.6) : v, w.shape);
    }));
  }
}

/** logits of tfjs's model (the input of the trailing softmax layer `logitsLayer`). */
function tfLogits(model: tf.LayersModel, logitsLayer: string, x: TensorLike): Float32Array {
  const cut = tf.model({ inputs: model.inputs, outputs: model.getLayer(logitsLayer).output as tf.SymbolicTensor });
  return tf.tidy(() => (cut.predict(tf.tensor(x.data, x.dims)) as tf.Tensor).dataSync() as Float32Array);
}

function tfGrad(model: tf.LayersModel, logitsLayer: string, x: TensorLike, target: number): Float32Array {
  const cut = tf.model({ inputs: model.inputs, outputs: model.getLayer(logitsLayer).output as tf.SymbolicTensor });
  return tf.tidy(() => {
    const f = (t: tf.Tensor): tf.Scalar => (cut.apply(t) as tf.Tensor).gather([target], 1).sum() as tf.Scalar;
    return tf.grad(f)(tf.tensor(x.data, x.dims)).dataSync() as Float32Array;
  });
}

/** A functional model: odd (23) then even (12) sizes through 'same' stride-2 windows, Add and Concatenate branches. */
function functionalModel(): tf.LayersModel {
  const input = tf.input({ shape: [23, 23, 3], name: 'image' });
  let x = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', name: 'stem' }).apply(input) as tf.SymbolicTensor; // 23 → 12
  x = tf.layers.batchNormalization({ name: 'stem_bn' }).apply(x) as tf.SymbolicTensor;
  x = tf.layers.activation({ activation: 'swish', name: 'stem_swish' }).apply(x) as tf.SymbolicTensor;
  const a = tf.layers.depthwiseConv2d({ kernelSize: 3, depthMultiplier: 2, padding: 'same', name: 'dw' }).apply(x) as tf.SymbolicTensor; // 16 channels
  const a2 = tf.layers.reLU({ maxValue: 6, name: 'dw_relu6' }).apply(a) as tf.SymbolicTensor;
  const b = tf.layers.separableConv2d({ filters: 16, kernelSize: 3, padding: 'same', name: 'sep' }).apply(x) as tf.SymbolicTensor;
  const b2 = tf.layers.activation({ activation: 'relu6', name: 'sep_relu6' }).apply(b) as tf.SymbolicTensor;
  let y = tf.layers.add({ name: 'sum' }).apply([a2, b2]) as tf.SymbolicTensor;
  y = tf.layers.conv2d({ filters: 8, kernelSize: 3, strides: 2, padding: 'same', activation: 'relu', name: 'down' }).apply(y) as tf.SymbolicTensor; // 12 → 6
  const p = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'pool' }).apply(y) as tf.SymbolicTensor; // 6 → 3
  const q = tf.layers.zeroPadding2d({ padding: [[1, 0], [0, 1]], name: 'pad' }).apply(p) as tf.SymbolicTensor; // 4×4
  const q2 = tf.layers.depthwiseConv2d({ kernelSize: 2, padding: 'valid', name: 'dw2', activation: 'tanh' }).apply(q) as tf.SymbolicTensor; // 3×3
  const r = tf.layers.averagePooling2d({ poolSize: 2, strides: 2, padding: 'same', name: 'avg' }).apply(y) as tf.SymbolicTensor; // 6 → 3
  let z = tf.layers.concatenate({ name: 'cat' }).apply([q2, p, r]) as tf.SymbolicTensor;
  z = tf.layers.batchNormalization({ name: 'cat_bn' }).apply(z) as tf.SymbolicTensor;
  z = tf.layers.globalAveragePooling2d({ name: 'gap' }).apply(z) as tf.SymbolicTensor;
  z = tf.layers.dense({ units: 12, activation: 'elu', name: 'fc1' }).apply(z) as tf.SymbolicTensor;
  z = tf.layers.dropout({ rate: 0.3, name: 'drop' }).apply(z) as tf.SymbolicTensor;
  z = tf.layers.dense({ units: 5, name: 'logits' }).apply(z) as tf.SymbolicTensor;
  const out = tf.layers.activation({ activation: 'softmax', name: 'probs' }).apply(z) as tf.SymbolicTensor;
  const m = tf.model({ inputs: input, outputs: out, name: 'small_functional' });
  randomize(m, 11);
  return m;
}

function sequentialModel(): tf.LayersModel {
  const m = tf.sequential({ name: 'small_sequential' });
  m.add(tf.layers.conv2d({ inputShape: [10, 9, 3], filters: 6, kernelSize: [3, 2], strides: [2, 1], padding: 'same', activation: 'sigmoid', name: 'c1' }));
  m.add(tf.layers.leakyReLU({ alpha: 0.2, name: 'leaky' }));
  m.add(tf.layers.averagePooling2d({ poolSize: 2, name: 'ap' }));
  m.add(tf.layers.conv2d({ filters: 4, kernelSize: 1, dilationRate: 1, useBias: false, name: 'c2' }));
  m.add(tf.layers.flatten({ name: 'flat' }));
  m.add(tf.layers.dense({ units: 7, activation: 'selu', name: 'd1' }));
  m.add(tf.layers.batchNormalization({ name: 'd1_bn' }));
  m.add(tf.layers.dense({ units: 4, activation: 'linear', name: 'out' }));
  randomize(m, 5);
  return m;
}

const input = (dims: number[], seed: number): TensorLike => ({ data: random(dims.reduce((a, b) => a * b, 1), seed), dims });

describe('a functional layers model built with tfjs', async () => {
  const model = functionalModel();
  const saved = await save(model, 'functional');
  const ex = await Explainer.load(saved.json);
  const x = input([2, 23, 23, 3], 3);

  it('imports with an NHWC input and the trailing softmax removed', () => {
    expect(ex.inputShape).toEqual(['N', 23, 23, 3]);
    expect(ex.canonical([2, 23, 23, 3]).removedSoftmax).toBe(true);
  });

  it('logits equal tfjs (relative l2 < 1e-4)', async () => {
    const ours = await ex.predict(x);
    expect(ours.dims).toEqual([2, 5]);
    expect(relL2(ours.data, tfLogits(model, 'logits', x))).toBeLessThan(1e-4);
  });

  it('the gradient of each target logit equals tf.grad (relative l2 < 1e-4)', async () => {
    for (const target of [0, 3]) {
      const r = await ex.explain(x, { method: 'gradient', target });
      expect(r.attribution.dims).toEqual([2, 1, 23, 23, 3]);
      expect(relL2(r.attribution.data, tfGrad(model, 'logits', x, target))).toBeLessThan(1e-4);
    }
  });

  it("the maps reduce the NHWC attribution's channel (last) axis", async () => {
    const r = await ex.explain(x, { method: 'guided-backprop', target: ['max', 1] });
    expect(r.maps.maxabs!.dims).toEqual([2, 2, 23, 23]);
    const a = r.attribution.data;
    for (const i of [0, 100, 1057, 2 * 2 * 23 * 23 - 1]) {
      const c = [a[3 * i]!, a[3 * i + 1]!, a[3 * i + 2]!];
      expect(r.maps.maxabs!.data[i]).toBe(Math.max(...c.map(Math.abs)));
      expect(r.maps.sum!.data[i]).toBeCloseTo(c[0]! + c[1]! + c[2]!, 6);
      expect(r.maps.l2!.data[i]).toBeCloseTo(Math.hypot(...c), 6);
    }
  });

  it('layer-map methods (Grad-CAM, Guided Grad-CAM) equal those of the model imported with an NCHW input, transposed', async () => {
    const graph = await importTfjsModel(readFileSync(saved.json, 'utf8'), shardsBeside(saved.json), 'm.json', undefined, { inputLayout: 'nchw' });
    const nchw = await Explainer.load(encodeModel(graph));
    const [n, h, w, c] = x.dims as [number, number, number, number];
    const xc = new Float32Array(x.data.length);
    for (let i = 0; i < n; i++) for (let y = 0; y < h; y++) for (let z = 0; z < w; z++) for (let k = 0; k < c; k++) xc[((i * c + k) * h + y) * w + z] = x.data[((i * h + y) * w + z) * c + k]!;
    expect(ex.layers([n, h, w, c]).map((l) => l.name)).toEqual(nchw.layers([n, c, h, w]).map((l) => l.name));
    expect(ex.defaultLayer([n, h, w, c])).toBe(nchw.defaultLayer([n, c, h, w]));
    for (const method of ['gradcam', 'guided-gradcam'] as const) {
      const a = await ex.explain(x, { method, target: [2, 'max'] });
      const b = await nchw.explain({ data: xc, dims: [n, c, h, w] }, { method, target: [2, 'max'] });
      expect(a.targets).toEqual(b.targets);
      const [, kk, cc] = b.attribution.dims as [number, number, number];
      expect(a.attribution.dims).toEqual([n, kk, h, w, cc]);
      for (let i = 0; i < n * kk; i++)
        for (let k = 0; k < cc; k++)
          for (let p = 0; p < h * w; p++) expect(a.attribution.data[(i * h * w + p) * cc + k]).toBe(b.attribution.data[(i * cc + k) * h * w + p]);
      expect(a.maps.maxabs!.data).toEqual(b.maps.maxabs!.data);
      expect(b.maps.maxabs!.data.some((v) => v > 0)).toBe(true);
    }
  });

  it('an even input size takes the other SAME pads (the size is the model input, so a 24×24 model)', async () => {
    const inp = tf.input({ shape: [24, 24, 2] });
    const c = tf.layers.conv2d({ filters: 3, kernelSize: 4, strides: 2, padding: 'same', name: 'c' }).apply(inp) as tf.SymbolicTensor;
    const p = tf.layers.maxPooling2d({ poolSize: 3, strides: 2, padding: 'same', name: 'p' }).apply(c) as tf.SymbolicTensor;
    const f = tf.layers.flatten({ name: 'f' }).apply(p) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 3, name: 'd' }).apply(f) as tf.SymbolicTensor });
    randomize(m, 2);
    const e = await Explainer.load((await save(m, 'even')).json);
    const xe = input([1, 24, 24, 2], 9);
    expect(relL2((await e.predict(xe)).data, tfLogits(m, 'd', xe))).toBeLessThan(1e-4);
    expect(relL2((await e.explain(xe, { method: 'gradient', target: 1 })).attribution.data, tfGrad(m, 'd', xe, 1))).toBeLessThan(1e-4);
  });
});

/** A tfjs (Keras 2 style) topology rewritten as Keras 3 writes it: {args, kwargs} nodes of keras tensors, batch_shape. */
function asKeras3(topology: { class_name: string; config: { layers: { class_name: string; config: Record<string, unknown>; inbound_nodes: unknown[][] }[]; input_layers: unknown[]; output_layers: unknown[] } }): object {
  const tensor = (r: unknown[]) => ({ class_name: '__keras_tensor__', config: { shape: null, dtype: 'float32', keras_history: r.slice(0, 3) } });
  const layers = topology.config.layers.map((l) => {
    const config = { ...l.config };
    if ('batch_input_shape' in config) {
      config.batch_shape = config.batch_input_shape;
      delete config.batch_input_shape;
    }
    const inbound = l.inbound_nodes.map((node) => ({ args: node.length === 1 ? [tensor(node[0] as unknown[])] : [node.map((r) => tensor(r as unknown[]))], kwargs: {} }));
    return { module: 'keras.layers', class_name: l.class_name, config, registered_name: null, name: config.name, inbound_nodes: inbound };
  });
  const single = (refs: unknown[]) => (refs.length === 1 ? refs[0] : refs);
  return { class_name: 'Functional', config: { ...topology.config, layers, input_layers: single(topology.config.input_layers), output_layers: single(topology.config.output_layers) } };
}

describe('Keras 3 topologies and shared layers', async () => {
  it('the functional model written as Keras 3 writes it gives the same logits', async () => {
    const model = functionalModel();
    const saved = await save(model, 'keras3');
    const j = JSON.parse(readFileSync(saved.json, 'utf8'));
    j.modelTopology = { keras_version: '3.3.3', backend: 'tensorflow', model_config: asKeras3(j.modelTopology) };
    writeFileSync(saved.json, JSON.stringify(j));
    const x = input([1, 23, 23, 3], 21);
    expect(relL2((await (await Explainer.load(saved.json)).predict(x)).data, tfLogits(model, 'logits', x))).toBeLessThan(1e-4);
  });

  it('a layer called twice (shared weights) equals tfjs, logits and gradient', async () => {
    const inp = tf.input({ shape: [9, 9, 2] });
    const conv = tf.layers.conv2d({ filters: 2, kernelSize: 3, padding: 'same', name: 'shared' });
    const once = conv.apply(inp) as tf.SymbolicTensor;
    const twice = conv.apply(tf.layers.activation({ activation: 'relu', name: 'r' }).apply(once) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const sum = tf.layers.add({ name: 'sum' }).apply([once, twice]) as tf.SymbolicTensor;
    const out = tf.layers.dense({ units: 3, name: 'd' }).apply(tf.layers.flatten({ name: 'f' }).apply(sum) as tf.SymbolicTensor) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: out });
    randomize(m, 31);
    const e = await Explainer.load((await save(m, 'shared')).json);
    const x = input([2, 9, 9, 2], 5);
    expect(relL2((await e.predict(x)).data, tfLogits(m, 'd', x))).toBeLessThan(1e-4);
    expect(relL2((await e.explain(x, { method: 'gradient', target: 2 })).attribution.data, tfGrad(m, 'd', x, 2))).toBeLessThan(1e-4);
  });
});

describe('the other layers and activations', async () => {
  // Rescaling, Cropping2D, hard_sigmoid, ELU and Softmax layers, softplus, Multiply, Average,
  // GlobalMaxPooling2D; a swish renamed silu (Keras 3's name) in the json.
  const inp = tf.input({ shape: [11, 11, 3] });
  const scaled = tf.layers.rescaling({ scale: 1 / 127.5, offset: -1, name: 'scale' }).apply(inp) as tf.SymbolicTensor;
  const c = tf.layers.conv2d({ filters: 4, kernelSize: 3, activation: 'hardSigmoid', name: 'c' }).apply(scaled) as tf.SymbolicTensor; // 9×9
  const cropped = tf.layers.cropping2D({ cropping: [[1, 0], [0, 2]], name: 'crop' }).apply(c) as tf.SymbolicTensor; // 8×7
  const a = tf.layers.elu({ name: 'elu' }).apply(tf.layers.conv2d({ filters: 4, kernelSize: 1, name: 'a' }).apply(cropped) as tf.SymbolicTensor) as tf.SymbolicTensor;
  const b = tf.layers.conv2d({ filters: 4, kernelSize: 1, activation: 'softplus', name: 'b' }).apply(cropped) as tf.SymbolicTensor;
  const sw = tf.layers.activation({ activation: 'swish', name: 'sw' }).apply(cropped) as tf.SymbolicTensor;
  const prod = tf.layers.multiply({ name: 'prod' }).apply([a, b]) as tf.SymbolicTensor;
  const avg = tf.layers.average({ name: 'avg' }).apply([prod, sw, a]) as tf.SymbolicTensor;
  const soft = tf.layers.softmax({ axis: -1, name: 'soft' }).apply(avg) as tf.SymbolicTensor;
  const pooled = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(soft) as tf.SymbolicTensor;
  const out = tf.layers.dense({ units: 3, name: 'd' }).apply(pooled) as tf.SymbolicTensor;
  const model = tf.model({ inputs: inp, outputs: out });
  randomize(model, 41);
  const saved = await save(model, 'others');
  const j = JSON.parse(readFileSync(saved.json, 'utf8'));
  const sw2 = j.modelTopology.config.layers.find((l: { name: string }) => l.name === 'sw');
  sw2.config.activation = 'silu';
  writeFileSync(saved.json, JSON.stringify(j));
  const ex = await Explainer.load(saved.json);
  const x = { data: random(2 * 11 * 11 * 3, 77, 127.5).map((v) => v + 127.5), dims: [2, 11, 11, 3] };

  it('logits and gradient equal tfjs (relative l2 < 1e-4)', async () => {
    expect(relL2((await ex.predict(x)).data, tfLogits(model, 'd', x))).toBeLessThan(1e-4);
    expect(relL2((await ex.explain(x, { method: 'gradient', target: 1 })).attribution.data, tfGrad(model, 'd', x, 1))).toBeLessThan(1e-4);
  });
});

describe('Dense on a 4-D tensor (its last axis)', async () => {
  it('logits and gradient equal tfjs (relative l2 < 1e-4)', async () => {
    const inp = tf.input({ shape: [5, 6, 3] });
    const c = tf.layers.conv2d({ filters: 4, kernelSize: 2, name: 'c' }).apply(inp) as tf.SymbolicTensor; // NCHW inside
    const d = tf.layers.dense({ units: 5, activation: 'relu', name: 'd4' }).apply(c) as tf.SymbolicTensor; // on [N, 4, 5, 4]
    const f = tf.layers.flatten({ name: 'f' }).apply(d) as tf.SymbolicTensor;
    const m = tf.model({ inputs: inp, outputs: tf.layers.dense({ units: 3, name: 'out' }).apply(f) as tf.SymbolicTensor });
    randomize(m, 51);
    const e = await Explainer.load((await save(m, 'dense4d')).json);
    const x = input([2, 5, 6, 3], 13);
    expect(relL2((await e.predict(x)).data, tfLogits(m, 'out', x))).toBeLessThan(1e-4);
    expect(relL2((await e.explain(x, { method: 'gradient', target: 0 })).attribution.data, tfGrad(m, 'out', x, 0))).toBeLessThan(1e-4);
  });
});

describe('README "TF.js models"', () => {
  it('lists every supported layer class and activation', () => {
    const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
    const start = readme.indexOf('\n## TF.js models\n');
    const section = readme.slice(start, readme.indexOf('\n## ', start + 1));
    expect(start).toBeGreaterThan(0);
    const missing = [...SUPPORTED_LAYERS, ...SUPPORTED_ACTIVATIONS].filter((n) => !section.includes(`\`${n}\``));
    expect(missing).toEqual([]);
  });
});

describe('a sequential layers model built with tfjs', async () => {
  const model = sequentialModel();
  const ex = await Explainer.load((await save(model, 'sequential')).json);
  const x = input([3, 10, 9, 3], 4);

  it('logits and gradient equal tfjs (relative l2 < 1e-4)', async () => {
    expect(relL2((await ex.predict(x)).data, tfLogits(model, 'out', x))).toBeLessThan(1e-4);
    const r = await ex.explain(x, { method: 'gradient', target: 2 });
    expect(relL2(r.attribution.data, tfGrad(model, 'out', x, 2))).toBeLessThan(1e-4);
  });
});

/** float32 → IEEE half bits, rounded to nearest even (finite values in half range). */
function toHalf(v: number): number {
  const f = new Float32Array([v]);
  const u = new Uint32Array(f.buffer)[0]!;
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  let mant = u & 0x7fffff;
  if (exp <= 0) {
    mant = (mant | 0x800000) >>> (1 - exp);
    return sign | ((mant + 0x1000 + ((mant >>> 13) & 1) - 1) >>> 13);
  }
  const h = (exp << 10) | (mant >>> 13);
  const rest = mant & 0x1fff;
  return sign | (h + (rest > 0x1000 || (rest === 0x1000 && (h & 1)) ? 1 : 0));
}

describe('quantized weights (as tfjs-converter writes them)', async () => {
  const model = functionalModel();
  // Each weight quantized in turn: uint8, float16, uint16, as --quantize_{uint8,float16,uint16} do.
  const quantize = (specs: tf.io.WeightsManifestEntry[], data: Uint8Array): Uint8Array => {
    const out: number[] = [];
    const f32 = new Float32Array(data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength));
    let at = 0;
    specs.forEach((s, i) => {
      const n = s.shape.reduce((a, b) => a * b, 1);
      const v = f32.subarray(at, at + n);
      at += n;
      const kind = (['uint8', 'float16', 'uint16'] as const)[i % 3]!;
      if (kind === 'float16') {
        for (const x of v) {
          const h = toHalf(x);
          out.push(h & 0xff, h >> 8);
        }
      } else {
        const min = Math.min(...v);
        const levels = kind === 'uint8' ? 255 : 65535;
        const scale = (Math.max(...v) - min) / levels || 1;
        for (const x of v) {
          const q = Math.round((x - min) / scale);
          if (kind === 'uint8') out.push(q);
          else out.push(q & 0xff, q >> 8);
        }
        s.quantization = { dtype: kind, scale, min };
        return;
      }
      s.quantization = { dtype: 'float16' };
    });
    return new Uint8Array(out);
  };
  const saved = await save(model, 'quantized', (specs, data) => quantize(specs, data));
  // tfjs's model from the same quantized artifacts (tfjs dequantizes when it loads them).
  const theirs = await tf.loadLayersModel(tf.io.fromMemory(saved.artifacts));
  const ex = await Explainer.load(saved.json);
  const x = input([2, 23, 23, 3], 8);

  it('the manifest holds uint8, float16 and uint16 weights, and the logits equal those of tfjs loading them (relative l2 < 1e-4)', async () => {
    const kinds = new Set(saved.artifacts.weightSpecs!.map((s) => s.quantization?.dtype));
    expect(kinds).toEqual(new Set(['uint8', 'float16', 'uint16']));
    const ours = (await ex.predict(x)).data;
    expect(relL2(ours, tfLogits(theirs, 'logits', x))).toBeLessThan(1e-4);
    // …and differ from the float32 model's (the quantization is real).
    expect(relL2(ours, tfLogits(model, 'logits', x))).toBeGreaterThan(1e-4);
  });
});

describe('refusals, in one line', () => {
  const message = async (f: () => Promise<unknown>): Promise<string> => {
    try {
      await f();
    } catch (e) {
      expect(e).toBeInstanceOf(BacklightError);
      expect((e as Error).message).not.toContain('\n');
      return (e as Error).message;
    }
    throw new Error('did not throw');
  };

  it('unsupported layers: every class named with its count and first layer', async () => {
    const inp = tf.input({ shape: [8, 8, 3] });
    let y = tf.layers.upSampling2d({ size: [2, 2], name: 'up1' }).apply(inp) as tf.SymbolicTensor;
    y = tf.layers.upSampling2d({ size: [2, 2], name: 'up2' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.conv2dTranspose({ filters: 2, kernelSize: 3, name: 'deconv' }).apply(y) as tf.SymbolicTensor;
    y = tf.layers.globalMaxPooling2d({ name: 'gmp' }).apply(y) as tf.SymbolicTensor;
    const saved = await save(tf.model({ inputs: inp, outputs: y }), 'unsupported');
    const m = await message(() => Explainer.load(saved.json));
    expect(m).toMatch(new RegExp(`^${saved.json.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}: 2 layer classes are not supported: UpSampling2D \\(2 layers, first 'up1'\\), Conv2DTranspose \\(layer 'deconv'\\); supported: InputLayer, Conv2D`));
  });

  it('a missing shard and a shard of the wrong size', async () => {
    const saved = await save(sequentialModel(), 'broken');
    const shard = path.join(path.dirname(saved.json), 'group1-shard1of1.bin');
    const bytes = readFileSync(shard);
    writeFileSync(shard, bytes.subarray(0, bytes.length - 8));
    expect(await message(() => Explainer.load(saved.json))).toMatch(
      // tfjs saves the non-trainable weights (moving statistics) last.
      /model\.json: weight 'd1_bn\/moving_variance' \[7\] float32 needs 28 bytes at offset 1688, but the shards group1-shard1of1\.bin hold 1708 bytes in all; is a shard truncated/,
    );
    rmSync(shard);
    expect(await message(() => Explainer.load(saved.json))).toMatch(/model\.json: cannot read weight shard 'group1-shard1of1\.bin' \(ENOENT\); the shards listed in weightsManifest must lie beside model\.json$/);
  });

  it('a shard path that leaves the model folder is refused before anything is read', async () => {
    const saved = await save(sequentialModel(), 'escape');
    const j = JSON.parse(readFileSync(saved.json, 'utf8'));
    j.weightsManifest[0].paths = ['../escape/group1-shard1of1.bin'];
    writeFileSync(saved.json, JSON.stringify(j));
    expect(await message(() => Explainer.load(saved.json))).toBe(
      `${saved.json}: weight shard '../escape/group1-shard1of1.bin' is outside the model's folder; shards are read beside model.json`,
    );
  });

  it('channels_first, a ReLU threshold, a hostile class name (escaped) and a Keras topology labelled graph-model are refused naming what', async () => {
    const saved = await save(sequentialModel(), 'edited');
    const j = JSON.parse(readFileSync(saved.json, 'utf8'));
    j.modelTopology.config.layers[0].config.data_format = 'channels_first';
    writeFileSync(saved.json, JSON.stringify(j));
    expect(await message(() => Explainer.load(saved.json))).toMatch(/: layer 'c1' \(Conv2D\): data_format 'channels_first' is not supported/);
    j.modelTopology.config.layers[0].config.data_format = 'channels_last';
    j.modelTopology.config.layers[1] = { class_name: 'ReLU', config: { name: 'leaky', threshold: 0.5 } };
    writeFileSync(saved.json, JSON.stringify(j));
    expect(await message(() => Explainer.load(saved.json))).toMatch(/: layer 'leaky' \(ReLU\): threshold 0\.5 is not supported/);
    j.modelTopology.config.layers[1] = { class_name: 'Evil\u001b[2J', config: { name: 'x\u202ey' } };
    writeFileSync(saved.json, JSON.stringify(j));
    expect(await message(() => Explainer.load(saved.json))).toMatch(/: layer class Evil\\x1b\[2J \(layer 'x\\u202ey'\) is not supported; supported: /);
    writeFileSync(saved.json, JSON.stringify({ ...j, format: 'graph-model' }));
    // A Keras topology labelled as a graph model: read as a graph model, refused for its missing GraphDef nodes.
    expect(await message(() => Explainer.load(saved.json))).toMatch(/: modelTopology\.node must be a non-empty array of GraphDef nodes/);
  });

  it('model.json bytes without a way to read shards', async () => {
    const saved = await save(sequentialModel(), 'bytes');
    expect(await message(() => Explainer.load(readFileSync(saved.json), { source: 'm.json' }))).toBe(
      "m.json: a TF.js model.json needs its weight shard 'group1-shard1of1.bin'; load the model by its path (Node) or with its files (browser)",
    );
  });
});
