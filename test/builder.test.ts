import { describe, it, expect } from 'vitest';
import * as ort from 'onnxruntime-node';
import {
  buildModel,
  cnn3,
  fcn3,
  heStd,
  parameterCount,
  resnetSmall,
  Rng,
  vgg16,
  type ModelSpec,
} from '../src/builder/index.js';
import { encodeModel } from '../src/onnx/encode.js';
import type { Graph } from '../src/ir/graph.js';

async function session(bytes: Uint8Array): Promise<ort.InferenceSession> {
  return ort.InferenceSession.create(bytes, { logSeverityLevel: 3 });
}

function randomInput(dims: number[], seed = 123): Float32Array {
  const n = dims.reduce((p, d) => p * d, 1);
  return new Rng(seed).fillUniform(new Float32Array(n), 0, 1);
}

async function runLogits(bytes: Uint8Array, dims: number[], x = randomInput(dims)): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const s = await session(bytes);
  try {
    const out = await s.run({ input: new ort.Tensor('float32', x, dims) });
    const logits = out['logits'];
    if (!logits) throw new Error('no logits output');
    return { dims: logits.dims, data: logits.data as Float32Array };
  } finally {
    await s.release();
  }
}

function weights(g: Graph, name: string): { dims: number[]; data: Float32Array } {
  const t = g.initializers.get(name);
  if (!t || !(t.data instanceof Float32Array)) throw new Error(`no float32 initializer '${name}'`);
  return { dims: t.dims, data: t.data };
}

function ops(g: Graph, op: string): number {
  return g.nodes.filter((n) => n.op === op).length;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));
}

describe('random', () => {
  it('is deterministic per seed and differs across seeds', () => {
    const a = new Rng(7), b = new Rng(7), c = new Rng(8);
    const xs = Array.from({ length: 8 }, () => a.nextUint32());
    expect(Array.from({ length: 8 }, () => b.nextUint32())).toEqual(xs);
    expect(Array.from({ length: 8 }, () => c.nextUint32())).not.toEqual(xs);
    for (let i = 0; i < 1000; i++) {
      const u = a.uniform();
      expect(u > 0 && u < 1).toBe(true);
    }
  });

  it('draws standard normals', () => {
    const r = new Rng(1);
    const n = 200_000;
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const z = r.normal();
      s += z;
      s2 += z * z;
    }
    expect(Math.abs(s / n)).toBeLessThan(0.01);
    expect(Math.sqrt(s2 / n)).toBeCloseTo(1, 2);
  });

  it('fills arrays with the same stream as repeated normal() calls', () => {
    const a = new Rng(3), b = new Rng(3);
    a.normal(); // leave a spare pending, and use odd lengths across chunk boundaries
    b.normal();
    const filled = a.fillNormal(new Float32Array(70_001), 0.5, 0.25);
    const one = new Float32Array(70_001);
    for (let i = 0; i < one.length; i++) one[i] = 0.25 + 0.5 * b.normal();
    expect(filled).toEqual(one);
    expect(a.normal()).toBe(b.normal());
  });

  it('keeps truncated normal samples within ±2 std with the truncated std', () => {
    const r = new Rng(2);
    const std = 0.1;
    const bound = Math.fround(2 * std);
    const xs = r.fillTruncatedNormal(new Float32Array(200_000), std);
    let s2 = 0;
    let max = 0;
    for (const x of xs) {
      max = Math.max(max, Math.abs(x));
      s2 += x * x;
    }
    expect(max).toBeLessThanOrEqual(bound);
    expect(max).toBeGreaterThan(0.19);
    // A normal truncated at ±2σ has standard deviation 0.8796σ.
    expect(Math.sqrt(s2 / xs.length) / std).toBeCloseTo(0.8796, 2);
    max = 0;
    for (let i = 0; i < 10_000; i++) max = Math.max(max, Math.abs(r.truncatedNormal(std)));
    expect(max).toBeLessThanOrEqual(2 * std);
  });

  it('computes the He std and He-normal samples', () => {
    expect(heStd(2)).toBe(1);
    expect(heStd(3 * 3 * 64)).toBeCloseTo(Math.sqrt(2 / 576), 12);
    const xs = new Rng(4).fillHe(new Float32Array(100_000), 50);
    let s2 = 0;
    for (const x of xs) s2 += x * x;
    expect(Math.sqrt(s2 / xs.length) / heStd(50)).toBeCloseTo(1, 2);
  });
});

describe('models run in onnxruntime', () => {
  const cases: [string, ModelSpec, number[], number][] = [
    ['cnn3', { model: 'cnn3' }, [2, 3, 64, 64], 10],
    ['cnn3 with max-pooling and random bias', { model: 'cnn3', maxPool: true, filters: 16, bias: 'random', classes: 5 }, [2, 3, 64, 64], 5],
    ['fcn3', { model: 'fcn3', hidden: 256 }, [2, 3, 64, 64], 10],
    ['fcn3 with 5 layers', { model: 'fcn3', inputSize: 16, channels: 1, hidden: 32, layers: 5, classes: 3 }, [2, 1, 16, 16], 3],
    ['vgg16 at 32', { model: 'vgg16', inputSize: 32 }, [2, 3, 32, 32], 1000],
    ['resnetSmall depth 8', { model: 'resnetSmall' }, [2, 3, 32, 32], 10],
    ['resnetSmall blocks [1, 2]', { model: 'resnetSmall', blocks: [1, 2], width: 8, inputSize: 20, classes: 4 }, [2, 3, 20, 20], 4],
  ];
  for (const [title, spec, dims, classes] of cases) {
    it(title, async () => {
      const out = await runLogits(buildModel(spec), dims);
      expect(out.dims).toEqual([2, classes]);
      expect(out.data.every(Number.isFinite)).toBe(true);
      // Random weights still separate two different images.
      expect(out.data.slice(0, classes)).not.toEqual(out.data.slice(classes));
    });
  }

  it('declares the input and the output by name, type and symbolic batch', () => {
    for (const g of [cnn3({ filters: 4 }), fcn3({ hidden: 8 }), resnetSmall({ width: 4 })]) {
      expect(g.inputs).toHaveLength(1);
      expect(g.inputs[0]).toMatchObject({ name: 'input', dtype: 'float32' });
      expect(g.inputs[0]!.shape.slice(0, 2)).toEqual(['batch', 3]);
      expect(g.outputs).toEqual([{ name: 'logits', dtype: 'float32', shape: ['batch', 10] }]);
      expect(g.nodes.at(-1)!.outputs).toEqual(['logits']);
    }
    expect(cnn3().inputs[0]!.shape).toEqual(['batch', 3, 64, 64]);
    expect(resnetSmall().inputs[0]!.shape).toEqual(['batch', 3, 32, 32]);
  });
});

describe('determinism', () => {
  it('gives identical bytes for the same seed and different bytes for another', () => {
    const specs: ModelSpec[] = [
      { model: 'cnn3', filters: 8, seed: 5 },
      { model: 'fcn3', hidden: 64, seed: 5 },
      { model: 'resnetSmall', width: 8, seed: 5 },
      { model: 'cnn3', filters: 8, seed: 5, init: { kind: 'he' }, bias: 'random' },
    ];
    for (const spec of specs) {
      const a = buildModel(spec);
      expect(sameBytes(a, buildModel(spec))).toBe(true);
      expect(sameBytes(a, buildModel({ ...spec, seed: 6 }))).toBe(false);
    }
  });
});

describe('cnn3 structure', () => {
  it('flattens N·14·14 features with 2×2 max-pooling and N·29·29 without', () => {
    const pooled = cnn3({ maxPool: true });
    expect(weights(pooled, 'fc.weight').dims).toEqual([10, 64 * 14 * 14]);
    expect(ops(pooled, 'MaxPool')).toBe(1);
    const plain = cnn3();
    expect(weights(plain, 'fc.weight').dims).toEqual([10, 64 * 29 * 29]);
    expect(weights(plain, 'conv1.weight').dims).toEqual([64, 3, 7, 7]);
    expect(ops(plain, 'MaxPool')).toBe(0);
    expect(plain.nodes.map((n) => n.op)).toEqual(['Conv', 'Relu', 'Flatten', 'Gemm']);
    const fc = plain.nodes.find((n) => n.op === 'Gemm')!;
    expect(fc.attrs['transB']).toEqual({ type: 'int', value: 1 });
  });

  it('draws truncated normal weights with std 0.1 and zero biases by default', () => {
    const g = cnn3();
    const w = weights(g, 'conv1.weight').data;
    expect(w.every((v) => Math.abs(v) <= Math.fround(0.2))).toBe(true);
    expect(weights(g, 'conv1.bias').data.every((v) => v === 0)).toBe(true);
    expect(weights(g, 'fc.bias').data.every((v) => v === 0)).toBe(true);
    const r = cnn3({ bias: 'random' });
    expect(weights(r, 'conv1.bias').data.some((v) => v !== 0)).toBe(true);
  });

  /** Conv → ReLU → [MaxPool 2×2] → Flatten → Gemm, by direct loops in float64. */
  function reference(g: Graph, x: Float32Array, dims: number[], o: { stride: number; pad: number; maxPool: boolean }): Float64Array {
    const [batch, c, h, w] = dims as [number, number, number, number];
    const cw = weights(g, 'conv1.weight'), cb = weights(g, 'conv1.bias');
    const fw = weights(g, 'fc.weight'), fb = weights(g, 'fc.bias');
    const [f, , k] = cw.dims as [number, number, number, number];
    const oh = Math.floor((h + 2 * o.pad - k) / o.stride) + 1;
    const ow = Math.floor((w + 2 * o.pad - k) / o.stride) + 1;
    const classes = fw.dims[0]!;
    const out = new Float64Array(batch * classes);
    for (let b = 0; b < batch; b++) {
      const act = new Float64Array(f * oh * ow);
      for (let fi = 0; fi < f; fi++) {
        for (let y = 0; y < oh; y++) {
          for (let xx = 0; xx < ow; xx++) {
            let s = cb.data[fi]!;
            for (let ci = 0; ci < c; ci++) {
              for (let ky = 0; ky < k; ky++) {
                for (let kx = 0; kx < k; kx++) {
                  const iy = y * o.stride - o.pad + ky, ix = xx * o.stride - o.pad + kx;
                  if (iy < 0 || iy >= h || ix < 0 || ix >= w) continue;
                  s += cw.data[((fi * c + ci) * k + ky) * k + kx]! * x[((b * c + ci) * h + iy) * w + ix]!;
                }
              }
            }
            act[(fi * oh + y) * ow + xx] = Math.max(0, s);
          }
        }
      }
      let feat = act;
      if (o.maxPool) {
        const ph = Math.floor(oh / 2), pw = Math.floor(ow / 2);
        feat = new Float64Array(f * ph * pw);
        for (let fi = 0; fi < f; fi++) {
          for (let y = 0; y < ph; y++) {
            for (let xx = 0; xx < pw; xx++) {
              let m = -Infinity;
              for (let dy = 0; dy < 2; dy++) for (let dx = 0; dx < 2; dx++) m = Math.max(m, act[(fi * oh + 2 * y + dy) * ow + 2 * xx + dx]!);
              feat[(fi * ph + y) * pw + xx] = m;
            }
          }
        }
      }
      expect(fw.dims[1]).toBe(feat.length);
      for (let j = 0; j < classes; j++) {
        let s = fb.data[j]!;
        for (let i = 0; i < feat.length; i++) s += fw.data[j * feat.length + i]! * feat[i]!;
        out[b * classes + j] = s;
      }
    }
    return out;
  }

  const variants = [
    { inputSize: 16, channels: 3, filters: 5, kernel: 7, stride: 2, pad: 0, maxPool: false, classes: 4 },
    { inputSize: 11, channels: 2, filters: 3, kernel: 3, stride: 2, pad: 1, maxPool: true, classes: 6 },
    { inputSize: 19, channels: 3, filters: 4, kernel: 7, stride: 2, pad: 0, maxPool: true, classes: 3 },
  ];
  for (const v of variants) {
    it(`matches a direct convolution (${JSON.stringify(v)})`, async () => {
      const g = cnn3({ ...v, seed: 11, bias: 'random' });
      const dims = [2, v.channels, v.inputSize, v.inputSize];
      const x = randomInput(dims, 99);
      const got = await runLogits(encodeModel(g), dims, x);
      const want = reference(g, x, dims, v);
      expect(got.dims).toEqual([2, v.classes]);
      const scale = Math.max(...want.map(Math.abs));
      for (let i = 0; i < want.length; i++) {
        expect(Math.abs(got.data[i]! - want[i]!)).toBeLessThanOrEqual(1e-4 * Math.max(Math.abs(want[i]!), scale));
      }
    });
  }
});

describe('fcn3 structure', () => {
  it('is Flatten → Gemm N_h → ReLU → Gemm K by default', () => {
    const g = fcn3();
    expect(g.nodes.map((n) => n.op)).toEqual(['Flatten', 'Gemm', 'Relu', 'Gemm']);
    expect(weights(g, 'fc1.weight').dims).toEqual([1024, 3 * 64 * 64]);
    expect(weights(g, 'fc2.weight').dims).toEqual([10, 1024]);
    expect(fcn3({ hidden: 8, layers: 4 }).nodes.map((n) => n.op)).toEqual(['Flatten', 'Gemm', 'Relu', 'Gemm', 'Relu', 'Gemm']);
    expect(() => fcn3({ layers: 2 })).toThrow(/layers/);
  });
});

describe('resnetSmall structure', () => {
  it('keeps BatchNormalization unfolded with bias-free convs and projection shortcuts', () => {
    const g = resnetSmall();
    // Stem + 3 blocks × 2 convs + 2 projections.
    expect(ops(g, 'Conv')).toBe(1 + 6 + 2);
    expect(ops(g, 'BatchNormalization')).toBe(ops(g, 'Conv'));
    expect(ops(g, 'Add')).toBe(3);
    expect(ops(g, 'GlobalAveragePool')).toBe(1);
    for (const n of g.nodes.filter((m) => m.op === 'Conv')) expect(n.inputs).toHaveLength(2);
    expect(weights(g, 'layer2.0.downsample.0.weight').dims).toEqual([32, 16, 1, 1]);
    expect(weights(g, 'layer3.0.conv1.weight').dims).toEqual([64, 32, 3, 3]);
    expect(weights(g, 'fc.weight').dims).toEqual([10, 64]);
    for (const n of g.nodes.filter((m) => m.op === 'BatchNormalization')) {
      expect(weights(g, n.inputs[4]!).data.every((v) => v > 0)).toBe(true);
    }
    expect(ops(resnetSmall({ depth: 20 }), 'Add')).toBe(9);
    expect(() => resnetSmall({ depth: 10 })).toThrow(/6n \+ 2/);
  });
});

describe('vgg16', () => {
  it('has configuration D with the first FC fan-in following the input size', async () => {
    const g = vgg16({ inputSize: 64, classes: 7, batchNorm: true });
    expect(ops(g, 'Conv')).toBe(13);
    expect(ops(g, 'BatchNormalization')).toBe(13);
    expect(ops(g, 'MaxPool')).toBe(5);
    expect(ops(g, 'Gemm')).toBe(3);
    expect(ops(g, 'Relu')).toBe(15);
    expect(weights(g, 'fc6.weight').dims).toEqual([4096, 512 * 2 * 2]);
    expect(weights(g, 'fc8.weight').dims).toEqual([7, 4096]);
    const out = await runLogits(encodeModel(g), [2, 3, 64, 64]);
    expect(out.dims).toEqual([2, 7]);
    expect(out.data.every(Number.isFinite)).toBe(true);
  });

  it('has 138.36M parameters at 224', () => {
    const g = vgg16();
    expect(weights(g, 'fc6.weight').dims).toEqual([4096, 512 * 7 * 7]);
    expect(parameterCount(g)).toBe(138_357_544);
  });
});
