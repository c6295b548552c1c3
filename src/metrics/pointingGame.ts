/**
 * The pointing game (Zhang et al., "Top-down Neural Attention by Excitation Backprop", 2016/2018).
 *
 * One image, one target class, one map: a **hit** if the map's maximum lies within `tolerance`
 * pixels (default 15, Euclidean) of the union of the class's ground-truth boxes (`pointInBoxes`),
 * a miss otherwise. Accuracy = hits / (hits + misses), reported two ways:
 * - over images: all hits / all images;
 * - over classes: the mean of the per-class accuracies (each class counts once, however many
 *   images it has).
 *
 * Ties: the map's maximum is the **first** maximum in row-major order (smallest y, then smallest x);
 * other pixels of equal value are ignored. NaN values are refused.
 *
 * Baselines, always reported next to a method:
 * - center: the point at the image's geometric center, ((W − 1)/2, (H − 1)/2) in pixel index units
 *   (111.5, 111.5 for 224×224 — between pixels, which is fine for a distance);
 * - random, sampled: one uniformly random pixel per image from a seeded PRNG;
 * - random, expected: the exact expectation of the sampled one, the fraction of the image's pixels
 *   within the tolerance of the boxes (a fractional "hit" per image).
 */
import { type Box, boxesMask, distanceToBoxes, maskFraction } from './boxes.js';
import { mulberry32, randomInt } from './random.js';
import { checkMap, type MetricMap, type Rng } from './types.js';

/** Zhang et al.'s tolerance, in pixels of the map. */
export const POINTING_TOLERANCE = 15;

/** The first maximum of a map in row-major order: its index and (x, y) = (column, row). */
export function argmaxPoint(map: MetricMap): { index: number; x: number; y: number; value: number } {
  checkMap(map);
  const d = map.data;
  let best = 0;
  let value = -Infinity;
  for (let i = 0; i < d.length; i++) {
    const v = d[i]!;
    if (Number.isNaN(v)) throw new RangeError(`argmaxPoint: NaN at index ${i}`);
    if (v > value) {
      value = v;
      best = i;
    }
  }
  return { index: best, x: best % map.width, y: Math.floor(best / map.width), value };
}

/** The center-point baseline's point: ((W − 1)/2, (H − 1)/2). */
export function centerPoint(width: number, height: number): { x: number; y: number } {
  return { x: (width - 1) / 2, y: (height - 1) / 2 };
}

/** A uniformly random pixel (x, y) of a `width × height` image. */
export function randomPoint(width: number, height: number, rng: Rng): { x: number; y: number } {
  const i = randomInt(rng, width * height);
  return { x: i % width, y: Math.floor(i / width) };
}

/** One pointing trial: where it pointed, how far from the boxes, and whether that is a hit. */
export interface PointingTrial {
  x: number;
  y: number;
  distance: number;
  hit: boolean;
}

/** Whether the point (x, y) hits: its distance to the union of the boxes is ≤ `tolerance`. */
export function pointingTrial(x: number, y: number, boxes: readonly Box[], tolerance = POINTING_TOLERANCE): PointingTrial {
  const distance = distanceToBoxes(x, y, boxes);
  return { x, y, distance, hit: distance <= tolerance };
}

/** The pointing game for one map: its first maximum against the boxes (in the map's pixels). */
export function pointingHit(map: MetricMap, boxes: readonly Box[], tolerance = POINTING_TOLERANCE): PointingTrial {
  const p = argmaxPoint(map);
  return pointingTrial(p.x, p.y, boxes, tolerance);
}

/** The exact expected hit rate of a uniformly random pixel: the fraction of pixels within tolerance. */
export function expectedRandomHit(boxes: readonly Box[], width: number, height: number, tolerance = POINTING_TOLERANCE): number {
  return maskFraction(boxesMask(boxes, width, height, tolerance));
}

/** Accuracy of one class. */
export interface ClassAccuracy {
  classId: number;
  images: number;
  hits: number;
  accuracy: number;
}

/** Pointing accuracy over a set of images. */
export interface PointingAccuracy {
  images: number;
  classes: number;
  /** Sum of the hits (fractional for the expected random baseline). */
  hits: number;
  /** hits / images. */
  overImages: number;
  /** Mean over classes of the per-class accuracies. */
  overClasses: number;
  /** Per class, by increasing class id. */
  perClass: ClassAccuracy[];
}

/**
 * Accumulates hits per image and per class. A hit is `true`/`false`, or a number in [0, 1] (an
 * expected hit, as for the exact random baseline).
 */
export class HitAccumulator {
  private readonly byClass = new Map<number, { images: number; hits: number }>();
  private images = 0;
  private hits = 0;

  add(classId: number, hit: boolean | number): void {
    const h = typeof hit === 'boolean' ? (hit ? 1 : 0) : hit;
    if (!(h >= 0 && h <= 1)) throw new RangeError(`HitAccumulator: a hit must be a boolean or in [0, 1], got ${hit}`);
    const c = this.byClass.get(classId) ?? { images: 0, hits: 0 };
    c.images++;
    c.hits += h;
    this.byClass.set(classId, c);
    this.images++;
    this.hits += h;
  }

  result(): PointingAccuracy {
    const perClass = [...this.byClass.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([classId, c]) => ({ classId, images: c.images, hits: c.hits, accuracy: c.hits / c.images }));
    const overClasses = perClass.length === 0 ? NaN : perClass.reduce((s, c) => s + c.accuracy, 0) / perClass.length;
    return {
      images: this.images,
      classes: perClass.length,
      hits: this.hits,
      overImages: this.images === 0 ? NaN : this.hits / this.images,
      overClasses,
      perClass,
    };
  }
}

/** One image of a pointing-game evaluation: the map, the target class and its boxes in map pixels. */
export interface PointingSample {
  map: MetricMap;
  classId: number;
  boxes: readonly Box[];
}

export interface PointingOptions {
  /** Pixels (default 15). */
  tolerance?: number;
  /** Seed of the sampled random baseline (default 0), or a generator of your own. */
  seed?: number;
  rng?: Rng;
}

/** A method's pointing accuracy with the three baselines on the same images. */
export interface PointingReport {
  tolerance: number;
  method: PointingAccuracy;
  center: PointingAccuracy;
  random: PointingAccuracy;
  randomExpected: PointingAccuracy;
}

/**
 * Streaming pointing game: `add` one sample at a time (it returns the method's trial), `report` at
 * the end. The sampled random baseline draws one pixel per added sample, in order.
 */
export class PointingGame {
  readonly tolerance: number;
  private readonly rng: Rng;
  private readonly method = new HitAccumulator();
  private readonly center = new HitAccumulator();
  private readonly random = new HitAccumulator();
  private readonly randomExpected = new HitAccumulator();

  constructor(options: PointingOptions = {}) {
    this.tolerance = options.tolerance ?? POINTING_TOLERANCE;
    if (!(this.tolerance >= 0)) throw new RangeError(`PointingGame: tolerance must be ≥ 0, got ${this.tolerance}`);
    this.rng = options.rng ?? mulberry32(options.seed ?? 0);
  }

  add(sample: PointingSample): PointingTrial {
    const { map, classId, boxes } = sample;
    const t = pointingHit(map, boxes, this.tolerance);
    this.method.add(classId, t.hit);
    const c = centerPoint(map.width, map.height);
    this.center.add(classId, pointingTrial(c.x, c.y, boxes, this.tolerance).hit);
    const r = randomPoint(map.width, map.height, this.rng);
    this.random.add(classId, pointingTrial(r.x, r.y, boxes, this.tolerance).hit);
    this.randomExpected.add(classId, expectedRandomHit(boxes, map.width, map.height, this.tolerance));
    return t;
  }

  report(): PointingReport {
    return {
      tolerance: this.tolerance,
      method: this.method.result(),
      center: this.center.result(),
      random: this.random.result(),
      randomExpected: this.randomExpected.result(),
    };
  }
}

/** The pointing game over a set of samples (see `PointingGame`). */
export function evaluatePointingGame(samples: Iterable<PointingSample>, options: PointingOptions = {}): PointingReport {
  const game = new PointingGame(options);
  for (const s of samples) game.add(s);
  return game.report();
}
