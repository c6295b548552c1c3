/**
 * From a per-pixel, per-channel array (one image of an attribution or an input) to one value per
 * pixel. Pure TypeScript (no Node imports).
 *
 * - `maxabs`: max |·| over channels — a magnitude, as in Simonyan et al.'s saliency maps;
 * - `sum`: the sum over channels — keeps the sign (what a signed heatmap shows).
 */

export type ChannelReduction = 'maxabs' | 'sum';

/** Where the channels of one image are: [C, H, W] (`nchw`) or [H, W, C] (`nhwc`). */
export interface ImageGeometry {
  layout: 'nchw' | 'nhwc';
  channels: number;
  height: number;
  width: number;
}

function checkLength(length: number, g: ImageGeometry): void {
  if (length !== g.channels * g.height * g.width) {
    throw new Error(`expected ${g.channels}×${g.height}×${g.width} values for one image, got ${length}`);
  }
}

/** Reduces one image's values over its channels to a height × width map (row-major). */
export function reduceChannels(data: ArrayLike<number>, g: ImageGeometry, reduce: ChannelReduction): Float32Array {
  checkLength(data.length, g);
  const n = g.height * g.width;
  const c = g.channels;
  const out = new Float32Array(n);
  const at = g.layout === 'nchw' ? (i: number, k: number): number => data[k * n + i]! : (i: number, k: number): number => data[i * c + k]!;
  for (let i = 0; i < n; i++) {
    let v = reduce === 'sum' ? 0 : -Infinity;
    for (let k = 0; k < c; k++) {
      const x = at(i, k);
      v = reduce === 'sum' ? v + x : Math.max(v, Math.abs(x));
    }
    out[i] = v;
  }
  return out;
}

/**
 * A gray picture of one image of arbitrary values: the mean over channels, scaled so the smallest
 * value is black and the largest white (a constant image is mid-gray). 8-bit, one channel.
 */
export function minMaxGray(data: ArrayLike<number>, g: ImageGeometry): Uint8Array {
  const mean = reduceChannels(data, g, 'sum');
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < mean.length; i++) {
    const v = mean[i]!;
    if (Number.isFinite(v)) {
      if (v < lo) lo = v;
      if (v > hi) hi = v;
    }
  }
  const out = new Uint8Array(mean.length);
  const range = hi - lo;
  for (let i = 0; i < mean.length; i++) {
    const v = mean[i]!;
    out[i] = !(range > 0) || !Number.isFinite(v) ? 128 : Math.round((255 * (v - lo)) / range);
  }
  return out;
}

/**
 * A picture of one image's signed values as they are (e.g. an attribution that recovers the input,
 * as Nie et al. draw them): every channel scaled by the same min-max over the whole image, 8-bit,
 * gray for one channel and RGB for three (in the tensor's channel order). A constant image is gray.
 */
export function minMaxPicture(data: ArrayLike<number>, g: ImageGeometry): { data: Uint8Array; width: number; height: number } {
  checkLength(data.length, g);
  if (g.channels !== 1 && g.channels !== 3) throw new Error(`minMaxPicture: 1 or 3 channels, got ${g.channels}`);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    if (v < lo) lo = v;
    if (v > hi) hi = v;
  }
  const range = hi - lo;
  const n = g.height * g.width;
  const c = g.channels;
  const out = new Uint8Array(n * c);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      const v = g.layout === 'nchw' ? data[k * n + i]! : data[i * c + k]!;
      out[i * c + k] = range > 0 && Number.isFinite(v) ? Math.round((255 * (v - lo)) / range) : 128;
    }
  }
  return { data: out, width: g.width, height: g.height };
}
