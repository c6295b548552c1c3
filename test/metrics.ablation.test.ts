import { describe, expect, it } from 'vitest';
import {
  ablateAtMax,
  ablateAtRandom,
  auc,
  fillRect,
  patchAround,
  type PerturbationBatch,
  perturbationBatches,
  perturbationCurve,
  pixelsAtStep,
  summarizeDrops,
} from '../src/metrics/ablation.js';
import type { ImageTensorLike, MetricMap } from '../src/metrics/types.js';

/** Changed positions (c, y, x) between two C×H×W arrays. */
function changed(a: Float32Array, b: Float32Array, h: number, w: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) {
      const c = Math.floor(i / (h * w));
      const p = i % (h * w);
      out.push(`${c}:${Math.floor(p / w)},${p % w}`);
    }
  }
  return out;
}

/** Sum of each input of a batch divided by `norm`: a toy model. */
const sumScorer = (norm: number) => (batch: PerturbationBatch): number[] => {
  const size = batch.data.length / batch.count;
  return Array.from({ length: batch.count }, (_, b) => batch.data.subarray(b * size, (b + 1) * size).reduce((s, v) => s + v, 0) / norm);
};

describe('patch ablation (Gu et al. §5.2)', () => {
  it('places the patch around the centre, clipped (not shifted) at the borders', () => {
    expect(patchAround(5, 5, 3, 10, 10)).toEqual({ x0: 4, y0: 4, x1: 7, y1: 7 });
    expect(patchAround(5, 5, 4, 10, 10)).toEqual({ x0: 3, y0: 3, x1: 7, y1: 7 }); // even: one more left/top
    expect(patchAround(0, 0, 5, 10, 10)).toEqual({ x0: 0, y0: 0, x1: 3, y1: 3 });
    expect(patchAround(9, 9, 5, 10, 10)).toEqual({ x0: 7, y0: 7, x1: 10, y1: 10 });
    expect(patchAround(9, 0, 5, 10, 8)).toEqual({ x0: 7, y0: 0, x1: 10, y1: 3 });
    expect(patchAround(2, 2, 1, 10, 10)).toEqual({ x0: 2, y0: 2, x1: 3, y1: 3 });
    expect(patchAround(4, 4, 100, 10, 10)).toEqual({ x0: 0, y0: 0, x1: 10, y1: 10 });
    expect(() => patchAround(0, 0, 0, 10, 10)).toThrow();
  });

  it('replaces the patch at the map maximum by the per-channel mean, all channels, input untouched', () => {
    const input: ImageTensorLike = { data: new Float32Array(2 * 6 * 6).fill(1), dims: [1, 2, 6, 6] };
    const peak = new Float32Array(36);
    peak[0 * 6 + 5] = 3; // top-right corner (x 5, y 0)
    const map: MetricMap = { data: peak, width: 6, height: 6 };
    const r = ablateAtMax(input, map, { patchSize: 3, mean: [10, 20] });
    expect(r.center).toEqual({ x: 5, y: 0 });
    expect(r.patch).toEqual({ x0: 4, y0: 0, x1: 6, y1: 2 });
    expect(changed(input.data, r.data, 6, 6).sort()).toEqual(['0:0,4', '0:0,5', '0:1,4', '0:1,5', '1:0,4', '1:0,5', '1:1,4', '1:1,5']);
    expect(r.data[5]).toBe(10);
    expect(r.data[36 + 6 + 4]).toBe(20);
    expect(input.data.every((v) => v === 1)).toBe(true);
  });

  it('a whole mean image fills the patch with its values at the same place', () => {
    const input: ImageTensorLike = { data: new Float32Array(1 * 4 * 4), dims: [1, 4, 4] };
    const meanImage = Float32Array.from({ length: 16 }, (_, i) => 100 + i);
    const peak = new Float32Array(16);
    peak[2 * 4 + 1] = 1; // x 1, y 2
    const map: MetricMap = { data: peak, width: 4, height: 4 };
    const r = ablateAtMax(input, map, { patchSize: 1, mean: meanImage });
    expect(changed(input.data, r.data, 4, 4)).toEqual(['0:2,1']);
    expect(r.data[9]).toBe(109);
    expect(fillRect(input, { x0: 0, y0: 0, x1: 4, y1: 4 }, 7).every((v) => v === 7)).toBe(true);
    expect(() => ablateAtMax(input, map, { patchSize: 1, mean: [1, 2] })).toThrow(/per-channel/);
    expect(() => ablateAtMax(input, { data: new Float32Array(9), width: 3, height: 3 }, { patchSize: 1, mean: 0 })).toThrow(/map is 3×3/);
  });

  it('random position: seeded, reproducible, inside the image', () => {
    const input: ImageTensorLike = { data: new Float32Array(3 * 20 * 20), dims: [3, 20, 20] };
    const a = ablateAtRandom(input, { patchSize: 5, mean: 1, seed: 7 });
    const b = ablateAtRandom(input, { patchSize: 5, mean: 1, seed: 7 });
    expect(a.center).toEqual(b.center);
    expect(a.data).toEqual(b.data);
    expect(a.patch).toEqual(patchAround(a.center.x, a.center.y, 5, 20, 20));
    const w = a.patch.x1 - a.patch.x0;
    const h = a.patch.y1 - a.patch.y0;
    expect(a.data.reduce((s, v) => s + v, 0)).toBe(3 * w * h);
    const centres = new Set(Array.from({ length: 50 }, (_, s) => JSON.stringify(ablateAtRandom(input, { patchSize: 5, mean: 1, seed: s }).center)));
    expect(centres.size).toBeGreaterThan(40);
  });

  it('summarizes drops', () => {
    const d = summarizeDrops([3, 5, 2], [1, 4, 2]);
    expect([...d.drops]).toEqual([2, 1, 0]);
    expect(d.mean).toBe(1);
    expect(d.std).toBe(1);
    expect(d.median).toBe(1);
    expect(d.n).toBe(3);
    expect(summarizeDrops([4, -2], [2, -3], { relative: true }).mean).toBeCloseTo((0.5 + 0.5) / 2, 12);
    expect(() => summarizeDrops([1], [1, 2])).toThrow();
  });
});

describe('deletion / insertion curves (Petsiuk et al.)', () => {
  const input: ImageTensorLike = { data: Float32Array.of(1, 2, 3, 4), dims: [1, 2, 2] };
  const map: MetricMap = { data: Float32Array.of(1, 2, 3, 4), width: 2, height: 2 };

  it('pixel counts per step', () => {
    expect([0, 1, 2, 3].map((k) => pixelsAtStep(k, 3, 10))).toEqual([0, 3, 7, 10]);
  });

  it('by hand: score = sum / 10, deletion 1, .6, .3, .1, 0 → AUC 0.375', async () => {
    const batches = [...perturbationBatches(input, map, { mode: 'deletion', steps: 4, baseline: 0, batchSize: 2 })];
    expect(batches.map((b) => [b.start, b.count])).toEqual([
      [0, 2],
      [2, 2],
      [4, 1],
    ]);
    expect(batches[0]!.dims).toEqual([2, 1, 2, 2]);
    expect([...batches[0]!.data]).toEqual([1, 2, 3, 4, 1, 2, 3, 0]);
    expect([...batches[2]!.data]).toEqual([0, 0, 0, 0]);
    expect([...batches[1]!.fractions]).toEqual([0.5, 0.75]);
    const r = await perturbationCurve(input, map, { mode: 'deletion', steps: 4, baseline: 0, batchSize: 2 }, sumScorer(10));
    expect(r.fractions).toEqual([0, 0.25, 0.5, 0.75, 1]);
    expect(r.scores.map((s) => Math.round(s * 10) / 10)).toEqual([1, 0.6, 0.3, 0.1, 0]);
    expect(r.auc).toBeCloseTo(0.375, 6);
  });

  it('by hand: insertion 0, .4, .7, .9, 1 → AUC 0.625', async () => {
    const r = await perturbationCurve(input, map, { mode: 'insertion', steps: 4, baseline: 0 }, sumScorer(10));
    expect(r.scores.map((s) => Math.round(s * 10) / 10)).toEqual([0, 0.4, 0.7, 0.9, 1]);
    expect(r.auc).toBeCloseTo(0.625, 6);
  });

  it('analytical: uniform ramp of pixel values, map = input: deletion (1 − f)² → 1/3, insertion → 2/3', async () => {
    const n = 100 * 100;
    // Pixel values a permutation of (i + 0.5)/n, so the ordering is not just the index order.
    const values = Float32Array.from({ length: n }, (_, i) => (((i * 7919) % n) + 0.5) / n);
    const img: ImageTensorLike = { data: values, dims: [1, 100, 100] };
    const m: MetricMap = { data: values, width: 100, height: 100 };
    const del = await perturbationCurve(img, m, { mode: 'deletion', steps: 100, baseline: 0, batchSize: 32 }, sumScorer(n / 2));
    const ins = await perturbationCurve(img, m, { mode: 'insertion', steps: 100, baseline: 0, batchSize: 32 }, sumScorer(n / 2));
    expect(del.scores.length).toBe(101);
    expect(del.auc).toBeCloseTo(1 / 3, 3);
    expect(ins.auc).toBeCloseTo(2 / 3, 3);
    // A constant input: both curves are straight lines, AUC exactly 1/2.
    const ones: ImageTensorLike = { data: new Float32Array(n).fill(1), dims: [1, 100, 100] };
    expect((await perturbationCurve(ones, m, { mode: 'deletion', steps: 10, baseline: 0 }, sumScorer(n))).auc).toBeCloseTo(0.5, 12);
  });

  it('per-channel and whole-image baselines, every channel of a pixel at once', () => {
    const img: ImageTensorLike = { data: Float32Array.of(1, 2, 3, 4, 5, 6), dims: [2, 1, 3] };
    const m: MetricMap = { data: Float32Array.of(0, 9, 5), width: 3, height: 1 };
    const del = [...perturbationBatches(img, m, { mode: 'deletion', steps: 3, baseline: [-1, -2] })][0]!;
    expect([...del.data]).toEqual([
      1, 2, 3, 4, 5, 6, // step 0
      1, -1, 3, 4, -2, 6, // pixel 1 (value 9) first
      1, -1, -1, 4, -2, -2, // then pixel 2
      -1, -1, -1, -2, -2, -2,
    ]);
    const blurred = Float32Array.of(10, 20, 30, 40, 50, 60);
    const ins = [...perturbationBatches(img, m, { mode: 'insertion', steps: 3, baseline: blurred, batchSize: 1 })];
    expect(ins.length).toBe(4);
    expect([...ins[0]!.data]).toEqual([...blurred]);
    expect([...ins[1]!.data]).toEqual([10, 2, 30, 40, 5, 60]);
    expect([...ins[3]!.data]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(() => [...perturbationBatches(img, m, { mode: 'deletion', steps: 0, baseline: 0 })]).toThrow(/steps/);
  });

  it('AUC: trapezoids on [0, 1], optional x normalized', () => {
    expect(auc([1, 1])).toBe(1);
    expect(auc([0, 1, 0])).toBe(0.5);
    expect(auc([0, 1], [10, 20])).toBe(0.5);
    // x 0, 1, 4 → 0, 0.25, 1: 0.25·(0+2)/2 + 0.75·(2+2)/2 = 1.75.
    expect(auc([0, 2, 2], [0, 1, 4])).toBeCloseTo(1.75, 12);
    expect(() => auc([1])).toThrow();
    expect(() => auc([1, 2], [1, 1])).toThrow();
    expect(() => auc([1, 2, 3], [0, 2, 1])).toThrow();
  });
});
