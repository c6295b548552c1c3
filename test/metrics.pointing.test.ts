import { describe, expect, it } from 'vitest';
import type { Box } from '../src/metrics/boxes.js';
import {
  argmaxPoint,
  centerPoint,
  evaluatePointingGame,
  expectedRandomHit,
  HitAccumulator,
  PointingGame,
  pointingHit,
  type PointingSample,
} from '../src/metrics/pointingGame.js';
import { mulberry32, randomInt, randomPair } from '../src/metrics/random.js';
import type { MetricMap } from '../src/metrics/types.js';

function peaked(width: number, height: number, ...points: [number, number][]): MetricMap {
  const data = new Float32Array(width * height);
  for (let i = 0; i < data.length; i++) data[i] = 0.1 * ((i * 7919) % 13) / 13; // small clutter
  for (const [x, y] of points) data[y * width + x] = 5;
  return { data, width, height };
}

describe('pointing game: one map', () => {
  const box: Box = [10, 10, 20, 20];
  it('hit inside the box, within tolerance just outside, miss far away', () => {
    expect(pointingHit(peaked(64, 64, [15, 15]), [box]).hit).toBe(true);
    const near = pointingHit(peaked(64, 64, [30, 15]), [box]);
    expect(near).toMatchObject({ x: 30, y: 15, distance: 10, hit: true });
    expect(pointingHit(peaked(64, 64, [30, 15]), [box], 0).hit).toBe(false);
    expect(pointingHit(peaked(64, 64, [35, 15]), [box]).hit).toBe(true); // exactly 15 px
    expect(pointingHit(peaked(64, 64, [36, 15]), [box]).hit).toBe(false);
    expect(pointingHit(peaked(64, 64, [60, 60]), [box]).hit).toBe(false);
  });

  it('the union of the boxes counts', () => {
    const boxes: Box[] = [box, [50, 50, 60, 60]];
    expect(pointingHit(peaked(64, 64, [55, 63]), boxes).hit).toBe(true);
    expect(pointingHit(peaked(64, 64, [40, 40]), boxes, 5).hit).toBe(false);
  });

  it('ties: the first maximum in row-major order decides', () => {
    // (60, 0) comes before (15, 15) in row-major order.
    expect(argmaxPoint(peaked(64, 64, [15, 15], [60, 0]))).toMatchObject({ x: 60, y: 0, value: 5 });
    expect(pointingHit(peaked(64, 64, [15, 15], [60, 0]), [box]).hit).toBe(false);
    expect(pointingHit(peaked(64, 64, [15, 15], [60, 40]), [box]).hit).toBe(true);
    expect(() => argmaxPoint({ data: new Float32Array([0, NaN]), width: 2, height: 1 })).toThrow(/NaN/);
  });

  it('center baseline: (W − 1)/2, (H − 1)/2', () => {
    expect(centerPoint(224, 224)).toEqual({ x: 111.5, y: 111.5 });
    const flat = { data: new Float32Array(224 * 224), width: 224, height: 224 };
    const centred: PointingSample = { map: flat, classId: 1, boxes: [[100, 100, 123, 123]] };
    const corner: PointingSample = { map: flat, classId: 2, boxes: [[0, 0, 50, 50]] }; // 86.97 px away
    const r = evaluatePointingGame([centred, corner]);
    expect(r.center.overImages).toBe(0.5);
    expect(r.center.perClass.map((c) => c.accuracy)).toEqual([1, 0]);
  });
});

describe('pointing game: accumulation', () => {
  it('per image vs per class', () => {
    // Class 7: 2 hits of 3; class 3: 0 of 1. Over images 2/4; over classes (2/3 + 0)/2.
    const acc = new HitAccumulator();
    acc.add(7, true);
    acc.add(7, true);
    acc.add(7, false);
    acc.add(3, false);
    const r = acc.result();
    expect(r.images).toBe(4);
    expect(r.classes).toBe(2);
    expect(r.overImages).toBe(0.5);
    expect(r.overClasses).toBeCloseTo(1 / 3, 12);
    expect(r.perClass).toEqual([
      { classId: 3, images: 1, hits: 0, accuracy: 0 },
      { classId: 7, images: 3, hits: 2, accuracy: 2 / 3 },
    ]);
    expect(new HitAccumulator().result().overImages).toBeNaN();
    expect(() => acc.add(1, 1.5)).toThrow(/\[0, 1\]/);
  });

  it('the same on maps: method, center, random (sampled and expected)', () => {
    const box: Box[] = [[0, 0, 9, 9]];
    const samples: PointingSample[] = [
      { map: peaked(40, 40, [5, 5]), classId: 0, boxes: box },
      { map: peaked(40, 40, [39, 39]), classId: 0, boxes: box },
      { map: peaked(40, 40, [1, 1]), classId: 1, boxes: box },
      { map: peaked(40, 40, [2, 30]), classId: 2, boxes: box },
    ];
    const r = evaluatePointingGame(samples, { tolerance: 0 });
    expect(r.tolerance).toBe(0);
    expect(r.method.overImages).toBe(0.5);
    expect(r.method.overClasses).toBeCloseTo((0.5 + 1 + 0) / 3, 12);
    expect(r.center.overImages).toBe(0);
    // Exact random expectation: 100 of 1600 pixels.
    expect(r.randomExpected.overImages).toBeCloseTo(100 / 1600, 12);
    expect(r.randomExpected.overClasses).toBeCloseTo(100 / 1600, 12);
    // Reproducible with the same seed.
    expect(evaluatePointingGame(samples, { tolerance: 0, seed: 3 }).random).toEqual(evaluatePointingGame(samples, { tolerance: 0, seed: 3 }).random);
  });

  it('the sampled random baseline converges to the expected one', () => {
    const box: Box[] = [[0, 0, 15, 31]]; // left half of 32×32, tolerance 4: 20 of 32 columns
    const map = peaked(32, 32, [0, 0]);
    expect(expectedRandomHit(box, 32, 32, 4)).toBe(20 / 32);
    const game = new PointingGame({ tolerance: 4, seed: 42 });
    for (let i = 0; i < 4000; i++) game.add({ map, classId: i % 10, boxes: box });
    const r = game.report();
    expect(r.randomExpected.overImages).toBeCloseTo(20 / 32, 12);
    expect(Math.abs(r.random.overImages - 20 / 32)).toBeLessThan(0.03);
    expect(r.method.overImages).toBe(1);
  });
});

describe('seeded PRNG', () => {
  it('is deterministic and uniform enough', () => {
    const a = mulberry32(1);
    const b = mulberry32(1);
    const xs = Array.from({ length: 10000 }, () => a());
    expect(xs.slice(0, 5)).toEqual(Array.from({ length: 5 }, () => b()));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const mean = xs.reduce((s, v) => s + v, 0) / xs.length;
    expect(Math.abs(mean - 0.5)).toBeLessThan(0.02);
    const counts = new Array(10).fill(0);
    const r = mulberry32(9);
    for (let i = 0; i < 10000; i++) counts[randomInt(r, 10)]++;
    for (const c of counts) expect(Math.abs(c - 1000)).toBeLessThan(150);
  });

  it('randomPair gives two distinct classes', () => {
    const r = mulberry32(5);
    for (let i = 0; i < 1000; i++) {
      const [p, q] = randomPair(r, 3);
      expect(p).not.toBe(q);
      expect(p >= 0 && p < 3 && q >= 0 && q < 3).toBe(true);
    }
    expect(() => randomPair(r, 1)).toThrow();
  });
});
