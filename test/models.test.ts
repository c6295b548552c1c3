/**
 * Whole models against independent references: the eager Float64 implementation (which shares no
 * code with the compiler or its rules) on the shared trained models and the builder's nets, and
 * central finite differences on small random nets.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildGraph, buildModel, type ModelSpec } from '../src/builder/index.js';
import { Explainer } from '../src/index.js';
import { GRADIENT_FAMILY as METHOD_NAMES, type GradientFamilyName as MethodName } from '../src/methods/methods.js';
import { relL2 } from './helpers/compare.js';
import { HAS_SHARED, shared } from './helpers/paths.js';
import { backward, finiteDiffGradient, forward, type RefMethod } from './reference/eager.js';
import { randomInput, Rng } from './reference/tinyModels.js';
import type { Graph } from '../src/ir/graph.js';

/** Explains the top class and the next class index of every image, and compares per image. */
async function compareWithEager(ex: Awaited<ReturnType<typeof Explainer.load>>, refGraph: Graph, dims: number[], methods: readonly MethodName[], seed = 11) {
  const x = randomInput(dims, seed);
  const n = dims[0]!;
  const per = x.length / n;
  const fwd = forward(refGraph, x);
  const logits = fwd.get(refGraph.outputs[0]!.name)!.data;
  const classes = logits.length / n;
  const targets = Array.from({ length: n }, (_, i) => {
    const row = Array.from(logits.subarray(i * classes, (i + 1) * classes));
    const top = row.indexOf(Math.max(...row));
    return [top, (top + 1) % classes];
  });
  for (const method of methods) {
    const r = await ex.explain({ data: x, dims }, { method, target: targets });
    expect(relL2(r.logits.data, logits)).toBeLessThan(1e-4);
    for (let j = 0; j < 2; j++) {
      const seedVec = new Float64Array(n * classes);
      targets.forEach((t, i) => (seedVec[i * classes + t[j]!] = 1));
      const refMethod: RefMethod = method === 'gradient-x-input' ? 'gradient' : method;
      const ref = backward(refGraph, fwd, seedVec, refMethod);
      if (method === 'gradient-x-input') for (let i = 0; i < ref.length; i++) ref[i]! *= x[i]!;
      for (let i = 0; i < n; i++) {
        const got = r.attribution.data.subarray((i * 2 + j) * per, (i * 2 + j + 1) * per);
        expect(relL2(got, ref.subarray(i * per, (i + 1) * per)), `${method}, image ${i}, target ${targets[i]![j]}`).toBeLessThan(1e-4);
      }
    }
  }
}

describe('builder models against the eager reference', () => {
  const specs: [string, ModelSpec, number[]][] = [
    // VGG-16's full layer stack at a small input keeps the Float64 reference fast.
    ['VGG-16 (32×32 input)', { model: 'vgg16', inputSize: 32, classes: 20, seed: 3 }, [1, 3, 32, 32]],
    ['ResNet with BatchNorm', { model: 'resnetSmall', depth: 14, seed: 4 }, [2, 3, 32, 32]],
    ['random 3-layer CNN with max-pooling', { model: 'cnn3', filters: 16, maxPool: true, seed: 5 }, [1, 3, 64, 64]],
    ['random 3-layer FCN', { model: 'fcn3', hidden: 256, inputSize: 32, seed: 6 }, [2, 3, 32, 32]],
  ];
  for (const [name, spec, dims] of specs) {
    it(name, async () => {
      const ex = await Explainer.load(buildModel(spec));
      const graph = buildGraph(spec);
      graph.inputs[0]!.shape = dims;
      // gradient-x-input differs from gradient only by a product checked on every tiny model.
      await compareWithEager(ex, graph, dims, METHOD_NAMES.filter((m) => m !== 'gradient-x-input' || !spec.model.startsWith('vgg')));
    });
  }
});

describe('gradient equals finite differences', () => {
  for (const spec of [
    { model: 'cnn3', filters: 4, inputSize: 16, kernel: 3, classes: 5, seed: 7 },
    { model: 'fcn3', hidden: 16, inputSize: 8, classes: 4, seed: 8 },
    { model: 'resnetSmall', depth: 8, width: 4, inputSize: 8, classes: 3, seed: 9 },
  ] as ModelSpec[]) {
    it(spec.model, async () => {
      const ex = await Explainer.load(buildModel(spec));
      const graph = buildGraph(spec);
      const dims = [1, 3, spec.inputSize!, spec.inputSize!];
      graph.inputs[0]!.shape = dims;
      const x = randomInput(dims, 12);
      const classes = spec.classes!;
      const rng = new Rng(2);
      const seed = new Float32Array(classes).map(() => rng.normal());
      const r = await ex.explain({ data: x, dims }, { method: 'gradient', target: { seeds: seed, k: 1 } });
      const fd = finiteDiffGradient(graph, x, Float64Array.from(seed));
      expect(relL2(r.attribution.data, fd)).toBeLessThan(1e-4);
    });
  }
});

describe.skipIf(!HAS_SHARED)('trained models from ../shared against the eager reference', () => {
  for (const [file, dims] of [
    ['resnet20-cifar10.onnx', [1, 3, 32, 32]],
    ['mobilenetv2-imagenet.onnx', [1, 3, 224, 224]],
  ] as const) {
    it(file, async () => {
      const bytes = readFileSync(shared('models', file));
      const ex = await Explainer.load(bytes);
      // The reference runs on the imported graph before canonicalization (BatchNorm unfolded).
      const { decodeModel } = await import('../src/onnx/decode.js');
      const { specialize } = await import('../src/canonicalize/specialize.js');
      const raw = specialize(decodeModel(bytes).graph, dims);
      await compareWithEager(ex, raw, [...dims], file.startsWith('mobilenet') ? ['gradient', 'guided-backprop'] : METHOD_NAMES);
    });
  }
});
