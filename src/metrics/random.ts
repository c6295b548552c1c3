/**
 * A small seeded PRNG for the random baselines, so that every run of a metric is reproducible.
 * Mulberry32: a 32-bit state advanced by a Weyl sequence and mixed by two multiply-xorshift rounds;
 * period 2³², quality ample for picking random points and classes.
 */
import type { Rng } from './types.js';

/** A generator of uniform numbers in [0, 1) from a 32-bit integer seed (same seed, same sequence). */
export function mulberry32(seed: number): Rng {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** A uniform integer in 0 … n − 1. */
export function randomInt(rng: Rng, n: number): number {
  if (!Number.isInteger(n) || n <= 0) throw new RangeError(`randomInt: n must be a positive integer, got ${n}`);
  return Math.min(n - 1, Math.floor(rng() * n));
}

/** Two distinct uniform integers in 0 … n − 1 (Nie et al.'s "two randomly chosen classes"). */
export function randomPair(rng: Rng, n: number): [number, number] {
  if (!Number.isInteger(n) || n < 2) throw new RangeError(`randomPair: n must be an integer ≥ 2, got ${n}`);
  const a = randomInt(rng, n);
  let b = randomInt(rng, n - 1);
  if (b >= a) b++;
  return [a, b];
}
