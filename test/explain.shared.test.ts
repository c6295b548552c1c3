/**
 * Whole models against independent references: PyTorch autograd and Captum vectors in
 * ../shared/reference (skipped when ../shared is absent).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';
import type { MethodName } from '../src/methods/methods.js';
import { relL2 } from './helpers/compare.js';
import { HAS_SHARED, shared } from './helpers/paths.js';

const npy = (f: string) => decodeNpy(readFileSync(shared('reference', 'smallvgg', f)));

describe.skipIf(!HAS_SHARED)('smallvgg vs PyTorch/Captum reference vectors', async () => {
  const ex = HAS_SHARED ? await Explainer.load(shared('reference', 'smallvgg.onnx')) : undefined;
  const x = HAS_SHARED ? npy('in0_input.npy') : undefined;
  const cases: [MethodName, string][] = [
    ['gradient', 'gradient'],
    ['gradient-x-input', 'gradient_x_input'],
    ['deconvnet', 'deconvnet'],
    ['guided-backprop', 'guided_backprop'],
  ];
  for (const [method, file] of cases) {
    for (const t of [8, 7]) {
      it(`${method}, target ${t}`, async () => {
        const r = await ex!.explain(x!, { method, target: t });
        expect(r.targets).toEqual([[t]]);
        expect(relL2(r.attribution.data, npy(`in0_t${t}_${file}.npy`).data)).toBeLessThan(1e-4);
      });
    }
  }

  it('logits equal the PyTorch forward', async () => {
    const r = await ex!.explain(x!, { method: 'gradient', target: 'max' });
    expect(relL2(r.logits.data, npy('in0_logits.npy').data)).toBeLessThan(1e-5);
    expect(r.targets).toEqual([[8]]);
  });

  it('several targets in one run equal single-target runs, in the requested order', async () => {
    for (const method of ['gradient', 'guided-backprop'] as const) {
      const multi = await ex!.explain(x!, { method, target: [7, 'max', 3] });
      expect(multi.targets).toEqual([[7, 8, 3]]);
      expect(multi.attribution.dims).toEqual([1, 3, 3, 64, 64]);
      const size = 3 * 64 * 64;
      for (const [j, t] of [7, 8, 3].entries()) {
        const single = await ex!.explain(x!, { method, target: t });
        expect(relL2(multi.attribution.data.subarray(j * size, (j + 1) * size), single.attribution.data)).toBeLessThan(1e-6);
      }
    }
  });

  it('reductions: max |a|, sum and l2 over channels', async () => {
    const r = await ex!.explain(x!, { method: 'gradient', target: 8 });
    const a = r.attribution.data;
    const hw = 64 * 64;
    for (const p of [0, 100, 4095]) {
      const c = [a[p]!, a[hw + p]!, a[2 * hw + p]!];
      expect(r.maps.maxabs!.data[p]).toBeCloseTo(Math.max(...c.map(Math.abs)), 6);
      expect(r.maps.sum!.data[p]).toBeCloseTo(c[0]! + c[1]! + c[2]!, 6);
      expect(r.maps.l2!.data[p]).toBeCloseTo(Math.hypot(...c), 6);
    }
    expect(r.maps.maxabs!.dims).toEqual([1, 1, 64, 64]);
  });
});

describe.skipIf(!HAS_SHARED)('batches', async () => {
  it('a batch equals per-image runs (dynamic batch ResNet-20, top-2 targets)', async () => {
    const ex = await Explainer.load(shared('models', 'resnet20-cifar10-dynbatch.onnx'));
    expect(ex.inputShape[0]).toBe('batch');
    const per = 3 * 32 * 32;
    const data = new Float32Array(3 * per).map((_, i) => Math.sin(i * 0.37) + 0.3 * Math.cos(i * 0.011));
    const batch = await ex.explain({ data, dims: [3, 3, 32, 32] }, { method: 'guided-backprop', target: 'top2' });
    expect(batch.attribution.dims).toEqual([3, 2, 3, 32, 32]);
    for (let i = 0; i < 3; i++) {
      const one = await ex.explain({ data: data.subarray(i * per, (i + 1) * per), dims: [1, 3, 32, 32] }, { method: 'guided-backprop', target: 'top2' });
      expect(batch.targets[i]).toEqual(one.targets[0]);
      expect(relL2(batch.attribution.data.subarray(i * 2 * per, (i + 1) * 2 * per), one.attribution.data)).toBeLessThan(1e-5);
    }
  });

  it('a fixed-batch model explains a batch image by image', async () => {
    const ex = await Explainer.load(shared('models', 'resnet20-cifar10.onnx'));
    const per = 3 * 32 * 32;
    const data = new Float32Array(2 * per).map((_, i) => Math.cos(i * 0.21));
    const r = await ex.explain({ data, dims: [2, 3, 32, 32] }, { method: 'gradient', target: [[1, 2], [3, 4]] });
    expect(r.targets).toEqual([[1, 2], [3, 4]]);
    const second = await ex.explain({ data: data.subarray(per), dims: [1, 3, 32, 32] }, { method: 'gradient', target: [3, 4] });
    expect(relL2(r.attribution.data.subarray(2 * per), second.attribution.data)).toBeLessThan(1e-6);
  });
});
