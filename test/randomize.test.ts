/** Model randomization for the sanity checks (src/builder/randomize.ts). */
import { describe, expect, it } from 'vitest';
import { cnn3, fcn3, resnetSmall } from '../src/builder/models.js';
import { heStd } from '../src/builder/random.js';
import { layerInitializers, layerSeed, learnableLayers, randomizeLayers, TRUNCATED_STD } from '../src/builder/randomize.js';
import type { Graph } from '../src/ir/graph.js';
import { decodeModel } from '../src/onnx/decode.js';
import { encodeModel } from '../src/onnx/encode.js';

// Random (non-zero) biases and BatchNormalization statistics, so that resetting them shows.
const resnet = (): Graph => resnetSmall({ depth: 8, inputSize: 16, seed: 3, bias: 'random' });

function std(data: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < data.length; i++) m += data[i]!;
  m /= data.length;
  let v = 0;
  for (let i = 0; i < data.length; i++) v += (data[i]! - m) ** 2;
  return Math.sqrt(v / data.length);
}

const same = (a: Graph, b: Graph, name: string): boolean => {
  const x = a.initializers.get(name)!.data;
  const y = b.initializers.get(name)!.data;
  return x.length === y.length && x.every((v, i) => v === y[i]);
};

describe('learnableLayers', () => {
  it('lists Conv and Gemm layers in forward order with their bias and BatchNormalization', () => {
    const g = resnet();
    const layers = learnableLayers(g);
    const convs = g.nodes.filter((n) => n.op === 'Conv' || n.op === 'Gemm').map((n) => n.name);
    expect(layers.map((l) => l.name)).toEqual(convs);
    expect(layers.map((l) => l.index)).toEqual(layers.map((_, i) => i));
    expect(layers[0]).toMatchObject({ name: 'conv1', op: 'Conv', weight: 'conv1.weight', batchNorm: { node: 'bn1', scale: 'bn1.weight', shift: 'bn1.bias', mean: 'bn1.running_mean', variance: 'bn1.running_var' } });
    expect(layers[0]!.bias).toBeUndefined();
    const fc = layers[layers.length - 1]!;
    expect(fc).toMatchObject({ name: 'fc', op: 'Gemm', weight: 'fc.weight', bias: 'fc.bias' });
    expect(fc.batchNorm).toBeUndefined();
    expect(layers.find((l) => l.name === 'layer2.0.downsample.0')?.batchNorm?.node).toBe('layer2.0.downsample.1');
  });

  it('works on an imported model (decode of the encoded bytes)', () => {
    const { graph } = decodeModel(encodeModel(cnn3({ filters: 4, inputSize: 16, seed: 1 })));
    expect(learnableLayers(graph).map((l) => [l.name, l.op, l.bias])).toEqual([
      ['conv1', 'Conv', 'conv1.bias'],
      ['fc', 'Gemm', 'fc.bias'],
    ]);
  });
});

describe('randomizeLayers', () => {
  const g = resnet();
  const layers = learnableLayers(g);
  const owned = (indices: number[]): Set<string> => new Set(indices.flatMap((i) => layerInitializers(layers[i]!)));

  it('changes exactly the initializers of the randomized layer', () => {
    for (const L of [0, 3, layers.length - 1]) {
      const r = randomizeLayers(g, layers, [L], { seed: 7 });
      const mine = owned([L]);
      for (const name of g.initializers.keys()) expect(same(g, r, name), `${name} (layer ${L})`).toBe(!mine.has(name));
      const bn = layers[L]!.batchNorm;
      if (bn) {
        expect([...r.initializers.get(bn.scale)!.data].every((v) => v === 1)).toBe(true);
        expect([...r.initializers.get(bn.variance)!.data].every((v) => v === 1)).toBe(true);
        expect([...r.initializers.get(bn.mean)!.data].every((v) => v === 0)).toBe(true);
        expect([...r.initializers.get(bn.shift)!.data].every((v) => v === 0)).toBe(true);
      }
      if (layers[L]!.bias) expect([...r.initializers.get(layers[L]!.bias!)!.data].every((v) => v === 0)).toBe(true);
    }
  });

  it('cascading: every layer from L to the top changes, the layers below do not', () => {
    const L = 2;
    const above = layers.filter((l) => l.index >= L).map((l) => l.index);
    const r = randomizeLayers(g, layers, above, { seed: 7 });
    const mine = owned(above);
    for (const name of g.initializers.keys()) expect(same(g, r, name), name).toBe(!mine.has(name));
    // A layer gets the same random weights in the cascade as when it is randomized alone.
    const single = randomizeLayers(g, layers, [L + 1], { seed: 7 });
    expect(same(r, single, layers[L + 1]!.weight)).toBe(true);
  });

  it('is seeded: the same seed repeats exactly, another seed differs', () => {
    const a = randomizeLayers(g, layers, [1], { seed: 11 });
    const b = randomizeLayers(g, layers, [1], { seed: 11 });
    const c = randomizeLayers(g, layers, [1], { seed: 12 });
    expect(same(a, b, layers[1]!.weight)).toBe(true);
    expect(same(a, c, layers[1]!.weight)).toBe(false);
    expect(Buffer.from(encodeModel(a)).equals(Buffer.from(encodeModel(b)))).toBe(true);
    expect(layerSeed(11, 1)).not.toBe(layerSeed(11, 2));
    expect(layerSeed(11, 1)).not.toBe(layerSeed(12, 1));
  });

  it('leaves the original graph untouched', () => {
    const before = encodeModel(g);
    randomizeLayers(g, layers, layers.map((l) => l.index), { seed: 1 });
    expect(Buffer.from(encodeModel(g)).equals(Buffer.from(before))).toBe(true);
  });

  it("draws weights with the layer's own std (layer-std) or He's (he), zero mean", () => {
    const f = fcn3({ hidden: 64, inputSize: 16, seed: 2 }); // fc1: 64 × 768 truncated normal, std 0.1·0.88
    const fl = learnableLayers(f);
    const trained = f.initializers.get('fc1.weight')!.data as Float32Array;
    const r = randomizeLayers(f, fl, [0], { seed: 5 }).initializers.get('fc1.weight')!.data as Float32Array;
    expect(std(r) / std(trained)).toBeCloseTo(1, 1);
    expect(Math.abs(std(r) / std(trained) - 1)).toBeLessThan(0.02);
    expect(Math.max(...r.map(Math.abs))).toBeLessThanOrEqual((2 * std(trained)) / TRUNCATED_STD + 1e-6);
    const he = randomizeLayers(f, fl, [0], { seed: 5, init: 'he' }).initializers.get('fc1.weight')!.data as Float32Array;
    expect(Math.abs(std(he) / heStd(768) - 1)).toBeLessThan(0.02);
    expect(Math.abs(he.reduce((a, b) => a + b, 0) / he.length)).toBeLessThan(0.01 * heStd(768));
  });

  it('uses the standard deviation of N(0, 1) truncated to ±2', () => {
    expect(TRUNCATED_STD).toBeCloseTo(0.8796256610342398, 12);
  });
});
