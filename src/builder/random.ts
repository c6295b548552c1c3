/**
 * A small seeded PRNG for weight initialization: xoshiro128** seeded through splitmix32, with
 * Box–Muller normals (polar form). Deterministic across platforms (32-bit integer arithmetic only, and the
 * float math is IEEE double), so the same seed gives the same weights and the same model bytes.
 */

const INV_2_32 = 1 / 4294967296;
const INV_2_31 = 1 / 2147483648;

/** The standard deviation of He (Kaiming) normal initialization for a layer with `fanIn` inputs. */
export function heStd(fanIn: number): number {
  if (!(fanIn > 0)) throw new Error(`heStd: fan-in must be positive, got ${fanIn}`);
  return Math.sqrt(2 / fanIn);
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;
  /** The second value of the last Box–Muller pair, or NaN when none is pending. */
  private spare = NaN;

  constructor(seed: number) {
    if (!Number.isFinite(seed)) throw new Error(`Rng: seed must be a finite number, got ${seed}`);
    // splitmix32 expands the seed into the four state words; xoshiro must not start all-zero.
    let x = (Math.trunc(seed) ^ Math.trunc(seed / 4294967296)) >>> 0;
    const next = (): number => {
      x = (x + 0x9e3779b9) | 0;
      let z = x;
      z = Math.imul(z ^ (z >>> 16), 0x85ebca6b);
      z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
      return (z ^ (z >>> 16)) >>> 0;
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** A uniform 32-bit unsigned integer (xoshiro128**). */
  nextUint32(): number {
    const r = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return r;
  }

  /** Uniform on the open interval (0, 1); never 0, so log() is safe. */
  uniform(): number {
    return (this.nextUint32() + 0.5) * INV_2_32;
  }

  /** Uniform on the open interval (-1, 1), from one 32-bit draw. */
  private symmetric(): number {
    return ((this.nextUint32() | 0) + 0.5) * INV_2_31;
  }

  /**
   * A standard normal sample, by Box–Muller in its polar form (Marsaglia): a point (v1, v2) uniform
   * in the unit disk gives the cosine and sine of a uniform angle as v1/√s and v2/√s, and s = v1²+v2²
   * is itself uniform on (0, 1), so each pair costs one log and no sin/cos. The second value of the
   * pair is kept for the next call.
   */
  normal(): number {
    const spare = this.spare;
    if (spare === spare) {
      this.spare = NaN;
      return spare;
    }
    let v1: number, v2: number, s: number;
    do {
      v1 = this.symmetric();
      v2 = this.symmetric();
      s = v1 * v1 + v2 * v2;
    } while (s >= 1);
    const f = Math.sqrt((-2 * Math.log(s)) / s);
    this.spare = v2 * f;
    return v1 * f;
  }

  /** A normal sample with standard deviation `std`, resampled until it lies within ±2 std (TensorFlow's truncated_normal). */
  truncatedNormal(std: number): number {
    for (;;) {
      const z = this.normal();
      if (z >= -2 && z <= 2) return z * std;
    }
  }

  /** Uniform on [lo, hi). */
  uniformIn(lo: number, hi: number): number {
    return lo + (hi - lo) * (this.nextUint32() * INV_2_32);
  }

  /**
   * Fills `out` with normal samples of the given standard deviation: exactly
   * `out[i] = mean + std * normal()` for each i in turn, with the generator state in locals and
   * the xoshiro steps inlined, since VGG-16 has 138M weights to draw.
   */
  fillNormal(out: Float32Array, std: number, mean = 0): Float32Array {
    // Chunks keep each call short, so V8 optimizes the whole function rather than one long loop (OSR).
    const CHUNK = 1 << 16;
    for (let a = 0; a < out.length; a += CHUNK) this.fillNormalChunk(out.subarray(a, Math.min(out.length, a + CHUNK)), std, mean);
    return out;
  }

  private fillNormalChunk(out: Float32Array, std: number, mean: number): void {
    const n = out.length;
    let i = 0;
    if (n > 0 && this.spare === this.spare) out[i++] = mean + std * this.normal();
    let s0 = this.s0, s1 = this.s1, s2 = this.s2, s3 = this.s3;
    for (; i + 1 < n; i += 2) {
      let v1: number, v2: number, s: number;
      do {
        let r = Math.imul(s1, 5);
        r = Math.imul((r << 7) | (r >>> 25), 9);
        let t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        v1 = (r + 0.5) * INV_2_31;
        r = Math.imul(s1, 5);
        r = Math.imul((r << 7) | (r >>> 25), 9);
        t = s1 << 9;
        s2 ^= s0; s3 ^= s1; s1 ^= s2; s0 ^= s3; s2 ^= t; s3 = (s3 << 11) | (s3 >>> 21);
        v2 = (r + 0.5) * INV_2_31;
        s = v1 * v1 + v2 * v2;
      } while (s >= 1);
      const f = Math.sqrt((-2 * Math.log(s)) / s);
      out[i] = mean + std * (v1 * f);
      out[i + 1] = mean + std * (v2 * f);
    }
    this.s0 = s0; this.s1 = s1; this.s2 = s2; this.s3 = s3;
    if (i < n) out[i] = mean + std * this.normal();
  }

  /**
   * Fills `out` with truncated normal samples (within ±2 std): a bulk normal fill, then each entry
   * outside ±2 is redrawn with `normal()` until it falls inside, in index order.
   */
  fillTruncatedNormal(out: Float32Array, std: number, mean = 0): Float32Array {
    this.fillNormal(out, 1);
    for (let i = 0; i < out.length; i++) {
      let z = out[i]!;
      while (z < -2 || z > 2) z = this.normal();
      out[i] = mean + std * z;
    }
    return out;
  }

  /** Fills `out` with He-normal samples: N(0, 2 / fanIn). */
  fillHe(out: Float32Array, fanIn: number): Float32Array {
    return this.fillNormal(out, heStd(fanIn));
  }

  /** Fills `out` with uniform samples on [lo, hi). */
  fillUniform(out: Float32Array, lo: number, hi: number): Float32Array {
    for (let i = 0; i < out.length; i++) out[i] = this.uniformIn(lo, hi);
    return out;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
