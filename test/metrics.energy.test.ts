import { describe, expect, it } from 'vitest';
import { boxesMask } from '../src/metrics/boxes.js';
import {
  ENERGY_LEVELS,
  energyPointing,
  energyPointingCurve,
  EnergyPointingCurve,
  energyPointingSweep,
} from '../src/metrics/energyPointing.js';
import { descendingOrder } from '../src/metrics/order.js';
import { mulberry32 } from '../src/metrics/random.js';
import type { MetricMap } from '../src/metrics/types.js';

const map2x2 = (a: number, b: number, c: number, d: number): MetricMap => ({ data: Float32Array.of(a, b, c, d), width: 2, height: 2 });

describe('descendingOrder', () => {
  it('largest first, ties by index, −0 = +0', () => {
    expect([...descendingOrder([1, 3, 2, 3, -1, 0, -0, 0.5])]).toEqual([1, 3, 2, 0, 7, 5, 6, 4]);
    expect([...descendingOrder([])]).toEqual([]);
    expect(() => descendingOrder([1, NaN])).toThrow(/NaN/);
  });

  it('matches a comparator sort on random float32 values with ties and signs', () => {
    const rng = mulberry32(11);
    const v = Float32Array.from({ length: 5000 }, () => {
      const r = rng();
      return r < 0.2 ? 0 : r < 0.3 ? -Math.round(rng() * 5) : Math.round(rng() * 50) / 7 - 1 + rng() * 1e-30;
    });
    const ref = Array.from({ length: v.length }, (_, i) => i).sort((a, b) => v[b]! - v[a]! || a - b);
    expect([...descendingOrder(v)]).toEqual(ref);
  });
});

describe('energy pointing game (Gu et al. §5.2)', () => {
  // Energies 4, 3 (top row), 2, 1 (bottom row); E = 10.
  const map = map2x2(4, 3, 2, 1);

  it('by hand: box over the top row (the pixels holding 4 and 3)', () => {
    const top = [[0, 0, 1, 0]] as const;
    const expected = (p: number): [boolean, number, number] =>
      p <= 40 ? [true, 1, 1] : p <= 70 ? [true, 1, 2] : p <= 90 ? [false, 7 / 9, 3] : [false, 7 / 10, 4];
    const sweep = energyPointingSweep(map, top);
    expect(sweep.map((r) => r.p)).toEqual(ENERGY_LEVELS);
    for (const r of sweep) {
      const [hit, inside, kept] = expected(r.p);
      expect(r.hit, `p=${r.p}`).toBe(hit);
      expect(r.insideFraction, `p=${r.p}`).toBeCloseTo(inside, 12);
      expect(r.keptPixels, `p=${r.p}`).toBe(kept);
    }
  });

  it('by hand: box over the left column (the pixels holding 4 and 2)', () => {
    const left = [[0, 0, 0, 1]] as const;
    const expected = (p: number): [boolean, number] => (p <= 40 ? [true, 1] : p <= 70 ? [false, 4 / 7] : p <= 90 ? [false, 6 / 9] : [false, 6 / 10]);
    for (const r of energyPointingSweep(map, left)) {
      const [hit, inside] = expected(r.p);
      expect(r.hit, `p=${r.p}`).toBe(hit);
      expect(r.insideFraction, `p=${r.p}`).toBeCloseTo(inside, 12);
    }
    // Levels off the 5 % grid, and exact boundaries: 40 % is reached by the 4 alone, 41 % is not.
    expect(energyPointing(map, left, 40).keptPixels).toBe(1);
    expect(energyPointing(map, left, 41).keptPixels).toBe(2);
    expect(energyPointing(map, left, 0.001).keptPixels).toBe(1);
    expect(() => energyPointing(map, left, 0)).toThrow(/\(0, 100\]/);
    expect(() => energyPointing(map, left, 101)).toThrow();
  });

  it('a mask works like the boxes that made it', () => {
    const boxes = [[0, 0, 0, 1]] as const;
    expect(energyPointingSweep(map, boxesMask(boxes, 2, 2))).toEqual(energyPointingSweep(map, boxes));
    expect(() => energyPointingSweep(map, new Uint8Array(3))).toThrow(/mask/);
  });

  it('exact fractions like 70 % of float energies are reached despite rounding', () => {
    const m = map2x2(0.4, 0.3, 0.2, 0.1);
    expect(energyPointing(m, [[0, 0, 1, 0]], 70)).toMatchObject({ hit: true, keptPixels: 2 });
    expect(energyPointing(m, [[0, 0, 1, 0]], 90).keptPixels).toBe(3);
  });

  it('all-zero map: a miss with inside fraction 0; zeros are never kept', () => {
    for (const r of energyPointingSweep(map2x2(0, 0, 0, 0), [[0, 0, 1, 1]])) {
      expect(r).toMatchObject({ hit: false, insideFraction: 0, keptPixels: 0 });
    }
    // Only pixel 0 is positive: kept alone even at 100 %, so a box over it alone hits.
    expect(energyPointing(map2x2(2, 0, 0, 0), [[0, 0, 0, 0]], 100)).toMatchObject({ hit: true, insideFraction: 1, keptPixels: 1 });
  });

  it('ties are cut in row-major order', () => {
    const flat = map2x2(1, 1, 1, 1);
    expect(energyPointing(flat, [[0, 0, 1, 0]], 25)).toMatchObject({ hit: true, keptPixels: 1 });
    expect(energyPointing(flat, [[0, 0, 1, 0]], 50)).toMatchObject({ hit: true, keptPixels: 2 });
    expect(energyPointing(flat, [[0, 0, 1, 0]], 75)).toMatchObject({ hit: false, keptPixels: 3 });
    expect(energyPointing(flat, [[0, 1, 1, 1]], 25).hit).toBe(false);
  });

  it('negative values: refused, or clipped on request', () => {
    expect(() => energyPointing(map2x2(1, -1, 0, 0), [[0, 0, 0, 0]], 50)).toThrow(/negative/);
    expect(energyPointing(map2x2(1, -1, 0, 0), [[0, 0, 0, 0]], 100, { negative: 'clip' })).toMatchObject({ hit: true, keptPixels: 1 });
    expect(() => energyPointing(map2x2(1, NaN, 0, 0), [[0, 0, 0, 0]], 50)).toThrow(/NaN/);
  });

  it('curve over images: accuracy and mean inside fraction per level', () => {
    const top = [[0, 0, 1, 0]] as const;
    const left = [[0, 0, 0, 1]] as const;
    const curve = energyPointingCurve(
      [
        { map, region: top },
        { map, region: left },
      ],
      [40, 70, 100],
    );
    expect(curve.images).toBe(2);
    expect(curve.levels).toEqual([40, 70, 100]);
    expect(curve.accuracy).toEqual([1, 0.5, 0]);
    expect(curve.meanInsideFraction[0]).toBeCloseTo(1, 12);
    expect(curve.meanInsideFraction[1]).toBeCloseTo((1 + 4 / 7) / 2, 12);
    expect(curve.meanInsideFraction[2]).toBeCloseTo((0.7 + 0.6) / 2, 12);
    expect(new EnergyPointingCurve().result().accuracy.every(Number.isNaN)).toBe(true);
  });

  it('agrees with a direct per-level computation on random maps', () => {
    const rng = mulberry32(2);
    for (let t = 0; t < 20; t++) {
      const w = 13;
      const h = 9;
      const data = Float32Array.from({ length: w * h }, () => (rng() < 0.3 ? 0 : Math.round(rng() * 8)));
      const boxes = [[Math.floor(rng() * 6), Math.floor(rng() * 4), 6 + Math.floor(rng() * 6), 4 + Math.floor(rng() * 4)]] as const;
      const mask = boxesMask(boxes, w, h);
      const order = Array.from({ length: w * h }, (_, i) => i).sort((a, b) => data[b]! - data[a]! || a - b);
      const total = data.reduce((s, v) => s + v, 0);
      for (const r of energyPointingSweep({ data, width: w, height: h }, boxes)) {
        if (total === 0) {
          expect(r.hit).toBe(false);
          continue;
        }
        let sum = 0;
        let inside = 0;
        let all = true;
        let k = 0;
        while (sum * 100 < r.p * total) {
          const i = order[k++]!;
          sum += data[i]!;
          if (mask[i]) inside += data[i]!;
          else all = false;
        }
        expect(r.keptPixels).toBe(k);
        expect(r.hit).toBe(all);
        expect(r.insideFraction).toBeCloseTo(inside / sum, 12);
      }
    }
  });

  it('accumulates many 224×224 maps (speed: see the pointing report timings, not a timed test)', () => {
    const rng = mulberry32(3);
    const maps = Array.from({ length: 50 }, () => ({
      data: Float32Array.from({ length: 224 * 224 }, () => (rng() < 0.5 ? 0 : rng())),
      width: 224,
      height: 224,
    }));
    const mask = boxesMask([[40, 50, 150, 180]], 224, 224);
    const curve = new EnergyPointingCurve();
    for (const m of maps) curve.add(m, mask);
    expect(curve.result().images).toBe(50);
  });
});
