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
