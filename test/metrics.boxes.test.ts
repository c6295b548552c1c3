import { describe, expect, it } from 'vitest';
import {
  type Box,
  boxesAreaFraction,
  boxesMask,
  distanceToBox,
  distanceToBoxes,
  isSmallObject,
  pointInBoxes,
  resizeBoxes,
  scaleBoxes,
  toBoxes,
  toleranceAreaFraction,
  translateBoxes,
} from '../src/metrics/boxes.js';

describe('boxes', () => {
  it('validates raw boxes', () => {
    expect(toBoxes([[1, 2, 3, 4]])).toEqual([[1, 2, 3, 4]]);
    expect(() => toBoxes([[1, 2, 3]])).toThrow(/4 finite/);
    expect(() => toBoxes([[5, 2, 3, 4]])).toThrow(/x0 ≤ x1/);
    expect(() => toBoxes([[0, 0, NaN, 1]])).toThrow(/finite/);
  });

  it('scales 227 → 224 and translates for a crop', () => {
    const b: Box[] = [[9.08, 105.93, 50.39, 176.76]];
    const r = resizeBoxes(b, 227, 224)[0]!;
    const s = 224 / 227;
    expect(r[0]).toBeCloseTo(9.08 * s, 12);
    expect(r[3]).toBeCloseTo(176.76 * s, 12);
    expect(resizeBoxes([[0, 0, 100, 50]], { width: 200, height: 100 }, { width: 100, height: 200 })).toEqual([[0, 0, 50, 100]]);
    expect(scaleBoxes([[1, 2, 3, 4]], 2, 3)).toEqual([[2, 6, 6, 12]]);
    expect(translateBoxes([[10, 10, 20, 30]], -2, -2)).toEqual([[8, 8, 18, 28]]);
  });

  it('distance to the union: Euclidean, 0 inside and on the edge', () => {
    const b: Box = [10, 10, 20, 20];
    expect(distanceToBox(15, 15, b)).toBe(0);
    expect(distanceToBox(20, 10, b)).toBe(0);
    expect(distanceToBox(25, 15, b)).toBe(5);
    expect(distanceToBox(23, 24, b)).toBe(5); // 3-4-5 from the corner (20, 20)
    expect(distanceToBoxes(0, 0, [b, [0, 5, 1, 6]])).toBe(5);
    expect(distanceToBoxes(0, 0, [])).toBe(Infinity);
    expect(pointInBoxes(35, 15, [b], 15)).toBe(true);
    expect(pointInBoxes(36, 15, [b], 15)).toBe(false);
    // Within 15 along each axis but not in Euclidean distance.
    expect(pointInBoxes(31, 31, [b], 15)).toBe(false);
    expect(pointInBoxes(30, 30, [b], 15)).toBe(true);
  });

  it('mask: pixels (c, r) with x0 ≤ c ≤ x1, y0 ≤ r ≤ y1; union; clipped', () => {
    // Fractional box: columns 1, 2 (0.5 ≤ c ≤ 2.5), row 1 only (0.5 ≤ r ≤ 1).
    expect([...boxesMask([[0.5, 0.5, 2.5, 1]], 4, 3)]).toEqual([0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0]);
    // Inclusive integer box: 2×2 pixels.
    expect(boxesAreaFraction([[1, 1, 2, 2]], 4, 4)).toBe(4 / 16);
    // Overlapping boxes count once.
    expect(boxesAreaFraction([[0, 0, 1, 3], [1, 0, 2, 3]], 4, 4)).toBe(12 / 16);
    // Sticking out of the image.
    expect(boxesAreaFraction([[-10, -10, 1, 100]], 4, 4)).toBe(8 / 16);
    expect(boxesAreaFraction([], 4, 4)).toBe(0);
  });

  it('tolerance mask: pixels within the distance', () => {
    // 10×10, box over columns 0..4: 50 %; with tolerance 1 columns 0..5: 60 %.
    expect(toleranceAreaFraction([[0, 0, 4, 9]], 10, 10, 0)).toBe(0.5);
    expect(toleranceAreaFraction([[0, 0, 4, 9]], 10, 10, 1)).toBe(0.6);
    // A single pixel with tolerance 1: itself and its 4 neighbours (diagonals are √2 away).
    expect([...boxesMask([[2, 2, 2, 2]], 5, 5, 1)].reduce((a, b) => a + b, 0)).toBe(5);
    expect([...boxesMask([[2, 2, 2, 2]], 5, 5, Math.SQRT2)].reduce((a, b) => a + b, 0)).toBe(9);
  });

  it('small object: boxes cover less than half the image', () => {
    expect(isSmallObject([[0, 0, 4, 9]], 10, 10)).toBe(false); // exactly 50 %
    expect(isSmallObject([[0, 0, 3, 9]], 10, 10)).toBe(true);
    expect(isSmallObject([[0, 0, 3, 9]], 10, 10, 0.3)).toBe(false);
  });
});
