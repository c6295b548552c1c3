/**
 * Meta-saliency: the compiled SGD step + saliency equals the saliency of a model whose weights were
 * updated outside Backlight with weight gradients from finite differences of the cross-entropy.
 */
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { cloneGraph, type Graph } from '../src/ir/graph.js';
import { encodeModel } from '../src/onnx/encode.js';
import { canonicalize } from '../src/canonicalize/index.js';
import { decodeModel } from '../src/onnx/decode.js';
import { relL2 } from './helpers/compare.js';
import { forward } from './reference/eager.js';
import { randomInput, tinyConvNet, tinyMaxPoolNet, type TinyModel } from './reference/tinyModels.js';

/** Cross-entropy of class t on the eager Float64 forward pass. */
function crossEntropy(g: Graph, x: Float32Array, t: number): number {
  const logits = forward(g, x).get(g.outputs[0]!.name)!.data;
  const m = Math.max(...logits);
  const z = Array.from(logits).reduce((s, v) => s + Math.exp(v - m), 0);
  return -(logits[t]! - m - Math.log(z));
}

/** W − lr·∂CE/∂W for every Conv/Gemm weight and bias, ∂ by central differences. */
function steppedByFiniteDifferences(g: Graph, x: Float32Array, t: number, lr: number): Graph {
  const out = cloneGraph(g);
  for (const node of g.nodes) {
    if (node.op !== 'Conv' && node.op !== 'Gemm') continue;
    for (const name of node.inputs.slice(1)) {
      const w = g.initializers.get(name);
      if (!w) continue;
      const data = Float32Array.from(w.data as Float32Array);
      const stepped = Float32Array.from(data);
      const probe = cloneGraph(g);
      for (let i = 0; i < data.length; i++) {
        const h = 1e-3;
        const plus = Float32Array.from(data);
        plus[i] = data[i]! + h;
        probe.initializers.set(name, { ...w, data: plus });
        const up = crossEntropy(probe, x, t);
        const minus = Float32Array.from(data);
        minus[i] = data[i]! - h;
        probe.initializers.set(name, { ...w, data: minus });
        const down = crossEntropy(probe, x, t);
        stepped[i] = data[i]! - (lr * (up - down)) / (2 * h);
      }
      out.initializers.set(name, { ...w, data: stepped });
    }
  }
  return out;
}

describe('meta-saliency', () => {
  const models: [string, TinyModel][] = [
    ['dense conv, stride 2', tinyConvNet({ strides: [2, 2], pads: [1, 1, 1, 1], size: [7, 7], seed: 3 })],
    ['depthwise conv', tinyConvNet({ inChannels: 3, outChannels: 3, group: 3, size: [6, 6], seed: 4 })],
    ['conv, max-pool, dense', tinyMaxPoolNet({ kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], seed: 5 })],
  ];
  for (const [name, model] of models) {
    it(`${name}: equals the saliency of the SGD-stepped model`, async () => {
      const lr = 0.5;
      const x = randomInput(model.inputShape, 9);
      const canonical = canonicalize(decodeModel(model.bytes).graph, model.inputShape).graph;
      const stepped = steppedByFiniteDifferences(canonical, x, 1, lr);
      const plain = await Explainer.load(encodeModel(stepped));
      const meta = await Explainer.load(model.bytes);
      for (const method of ['gradient', 'guided-backprop'] as const) {
        const want = await plain.explain({ data: x, dims: model.inputShape }, { method, target: 1 });
        const got = await meta.explain({ data: x, dims: model.inputShape }, { method, target: 1, params: { metaLearningRate: lr } });
        expect(relL2(got.attribution.data, want.attribution.data), method).toBeLessThan(1e-4);
        // The step matters: the original model's saliency differs.
        const before = await meta.explain({ data: x, dims: model.inputShape }, { method, target: 1 });
        expect(relL2(before.attribution.data, want.attribution.data)).toBeGreaterThan(1e-2);
      }
    });
  }

  it('one target per run; a positive learning rate', async () => {
    const model = models[0]![1];
    const ex = await Explainer.load(model.bytes);
    const x = { data: randomInput(model.inputShape, 1), dims: model.inputShape };
    await expect(ex.explain(x, { method: 'gradient', target: [0, 1], params: { metaLearningRate: 1e-4 } })).rejects.toThrow(/one target per run/);
    await expect(ex.explain(x, { method: 'gradient', target: 0, params: { metaLearningRate: -1 } })).rejects.toThrow(/must be positive/);
  });
});
