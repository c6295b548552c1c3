/**
 * The pictures of the public API: `heatmap`, `overlay` (over the original photo, at its
 * resolution) and `toPNG`; `colorbar` is in colorbar.ts. Pure TypeScript (no Node imports): the
 * same calls work in Node and in a browser.
 *
 * ```ts
 * const m = mapAt(r.maps.sum!, 0, 0);                              // image 0, target 0
 * const h = heatmap(m, { sign: 'all', colormap: 'coolwarm' });     // RGBA at the map's size
 * const o = overlay(photo, m, { plan, alpha: 0.6 });               // RGBA at the photo's size
 * const png = toPNG(o);                                            // PNG bytes
 * ```
 *
 * Sign modes, as Captum's `visualize_image_attr(sign=…)`: `all` keeps the sign (0 at the centre
 * of the colormap, the range ±s: Zennit's `imgify(symmetric=True)`; `symmetric: false` spans
 * [min, max] instead, as `imgify`'s default), `positive` and `negative` show only the values of
 * that sign (as a magnitude: 0 at the colormap's start), `absolute_value` shows |v|. The scale s is
 * the `clip` percentile of the values shown (|v| for `all`), 99.5 by default; values beyond it get
 * full colour. `outliers: 2` uses Captum's own threshold instead (`outlier_perc=2`): the smallest
 * value at which the sorted values shown have summed to 98 % of their total.
 */
import { encode } from 'fast-png';
import { BacklightError } from '../errors.js';
import { COLORMAP_KIND, DEFAULT_MAGNITUDE_COLORMAP, DEFAULT_SIGNED_COLORMAP, LUT_SIZE, colormapLUT, type ColormapName } from './colormaps.js';
import { channelsOf, type Heatmap, type PixelImage, type RGBAImage } from './heatmap.js';
import { DEFAULT_PERCENTILE, clipScale, percentile } from './normalize.js';

export const SIGN_MODES = ['all', 'positive', 'negative', 'absolute_value'] as const;
export type SignMode = (typeof SIGN_MODES)[number];

/**
 * A map to draw, one value per pixel: `{ data, width, height }` (e.g. from `mapAt`), or a tensor
 * `{ data, dims }` of shape [H, W] with any leading 1s, or [C, H, W] / [1, C, H, W] (an
 * attribution: summed over its channels, as Captum does).
 */
export type MapLike = { data: ArrayLike<number>; width: number; height: number } | { data: ArrayLike<number>; dims: readonly number[] };

export interface HeatmapStyle {
  /** Default: `rdbu` for sign `all`, `inferno` for the others. */
  colormap?: ColormapName;
  /** Which values to show (default `all`). */
  sign?: SignMode;
  /** Sign `all` only: centre 0 in the colormap (default true), or span [min, max]. */
  symmetric?: boolean;
  /** Percentile (0, 100] of the values shown that gets full colour (default 99.5). */
  clip?: number;
  /** The value that gets full colour, instead of the percentile (e.g. one scale for several maps). */
  scale?: number;
  /**
   * Captum's `outlier_perc`, instead of `clip`: s is the value at which the sorted values shown
   * (|v| for `all` and `negative`) have summed to (100 − outliers) % of their total.
   */
  outliers?: number;
}

/** A heatmap, with what a colorbar needs to explain it. */
export interface HeatmapImage extends Heatmap {
  colormap: ColormapName;
  sign: SignMode;
  /** The value shown at the colormap's start (`colorbar({ min: low })`). */
  low: number;
  /** The value shown at the colormap's end (`colorbar({ max: high })`). */
  high: number;
}

/** Where each map pixel sits in the colormap (0 to 1), and how strongly it shows (0 to 1). */
interface Positions {
  pos: Float32Array;
  weight: Float32Array;
  low: number;
  high: number;
  scale: number;
  colormap: ColormapName;
  sign: SignMode;
}

const usage = (msg: string): BacklightError => new BacklightError(msg, 'usage');

/** The map as values + size; [C, H, W] attributions are summed over C. */
export function mapValues(map: MapLike, what = 'heatmap'): { data: ArrayLike<number>; width: number; height: number } {
  if ('width' in map) {
    const { width, height } = map;
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw usage(`${what}: map size ${width}×${height} is not two positive integers`);
    if (map.data.length !== width * height) throw usage(`${what}: map data has ${map.data.length} values, expected ${width}×${height} = ${width * height}`);
    return map;
  }
  const dims = [...map.dims];
  while (dims.length > 2 && dims[0] === 1) dims.shift();
  if (!(dims.length === 2 || dims.length === 3) || dims.some((d) => !(Number.isInteger(d) && d > 0))) {
    throw usage(`${what}: expected a map of shape [H, W] (or [1, …, H, W], [C, H, W]), got [${map.dims.join(', ')}]`);
  }
  const [c, height, width] = dims.length === 2 ? [1, dims[0]!, dims[1]!] : (dims as [number, number, number]);
  const n = width * height;
  if (map.data.length !== c * n) throw usage(`${what}: data has ${map.data.length} values for shape [${map.dims.join(', ')}]`);
  if (c === 1) return { data: map.data, width, height };
  const sum = new Float32Array(n);
  for (let k = 0; k < c; k++) for (let i = 0; i < n; i++) sum[i]! += map.data[k * n + i]!;
  return { data: sum, width, height };
}

function checkStyle(style: HeatmapStyle, what: string): { sign: SignMode; colormap: ColormapName; clip: number } {
  const sign = style.sign ?? 'all';
  if (!(SIGN_MODES as readonly string[]).includes(sign)) throw usage(`${what}: unknown sign '${String(sign)}': use one of ${SIGN_MODES.join(', ')}`);
  const colormap = style.colormap ?? (sign === 'all' ? DEFAULT_SIGNED_COLORMAP : DEFAULT_MAGNITUDE_COLORMAP);
  colormapLUT(colormap); // checks the name
  const clip = style.clip ?? DEFAULT_PERCENTILE;
  if (!(clip > 0 && clip <= 100)) throw usage(`${what}: clip must be a percentile in (0, 100], got ${clip}`);
  if (style.scale !== undefined && !(style.scale > 0 && Number.isFinite(style.scale))) throw usage(`${what}: scale must be a positive number, got ${style.scale}`);
  if (style.outliers !== undefined) {
    if (!(style.outliers >= 0 && style.outliers < 100)) throw usage(`${what}: outliers must be a percentage in [0, 100), got ${style.outliers}`);
    const other = style.scale !== undefined ? 'scale' : style.clip !== undefined ? 'clip' : style.symmetric === false ? 'symmetric: false' : null;
    if (other) throw usage(`${what}: give outliers or ${other}, not both`);
  }
  return { sign, colormap, clip };
}

/**
 * Captum's `_cumulative_sum_threshold`: the first sorted value at which the running sum reaches
 * `percent` % of the total (values ≥ 0 here). 0 for an all-zero map.
 */
export function cumulativeThreshold(values: ArrayLike<number>, percent: number): number {
  const sorted = Float64Array.from(values).sort();
  let total = 0;
  for (const v of sorted) total += v;
  const goal = total * 0.01 * percent;
  let sum = 0;
  for (const v of sorted) {
    sum += v;
    if (sum >= goal) return v;
  }
  return sorted[sorted.length - 1] ?? 0;
}

/** Colormap positions of a map's values (see the file comment). Non-finite values count as 0. */
function positions(values: ArrayLike<number>, style: HeatmapStyle, what: string): Positions {
  const { sign, colormap, clip } = checkStyle(style, what);
  const n = values.length;
  const v = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const x = values[i]!;
    v[i] = Number.isFinite(x) ? x : 0;
  }
  const pos = new Float32Array(n);
  const weight = new Float32Array(n);
  const diverging = COLORMAP_KIND[colormap] === 'diverging';
  const clamp = (x: number, lo: number, hi: number): number => (x < lo ? lo : x > hi ? hi : x);

  if (sign === 'all' && style.symmetric === false && style.scale === undefined) {
    // Zennit's imgify default: the colormap spans [low, high] (percentiles, so outliers clip).
    let low = percentile(v, 100 - clip);
    let high = percentile(v, clip);
    if (!(high > low)) [low, high] = [low - 1, high + 1]; // a constant map: mid-colormap
    const reach = Math.max(Math.abs(low), Math.abs(high));
    for (let i = 0; i < n; i++) {
      pos[i] = clamp((v[i]! - low) / (high - low), 0, 1);
      weight[i] = reach > 0 ? clamp(Math.abs(v[i]!) / reach, 0, 1) : 0;
    }
    return { pos, weight, low, high, scale: reach, colormap, sign };
  }

  // Every other case: t = u / s clipped, u the values shown.
  const shown = sign === 'all' ? v : v.map((x) => (sign === 'positive' ? Math.max(x, 0) : sign === 'negative' ? Math.max(-x, 0) : Math.abs(x)));
  const s =
    style.scale ??
    (style.outliers !== undefined ? cumulativeThreshold(sign === 'all' ? shown.map(Math.abs) : shown, 100 - style.outliers) : clipScale(shown, sign === 'all', clip));
  const inv = s > 0 ? 1 / s : 0;
  for (let i = 0; i < n; i++) {
    const t = clamp(shown[i]! * inv, sign === 'all' ? -1 : 0, 1);
    weight[i] = Math.abs(t);
    // A signed value, or a magnitude on a diverging map, is placed around the centre; a magnitude
    // on a sequential map from its start (negative values: the lower half of a diverging map).
    pos[i] = sign === 'all' ? 0.5 + 0.5 * t : !diverging ? t : sign === 'negative' ? 0.5 - 0.5 * t : 0.5 + 0.5 * t;
  }
  const signedRange = sign === 'all' || diverging;
  const low = signedRange ? -s : 0;
  const high = signedRange ? s : sign === 'negative' ? -s : s;
  return { pos, weight, low, high, scale: s, colormap, sign };
}

/** RGB of a colormap position. */
function lutAt(lut: Uint8Array, pos: number): number {
  return Math.round((pos < 0 ? 0 : pos > 1 ? 1 : pos) * (LUT_SIZE - 1)) * 3;
}

/**
 * A map as an opaque RGBA heatmap at the map's size, coloured as `style` says (see the file
 * comment). `low`/`high` are the values at the colormap's ends, for `colorbar`.
 */
export function heatmap(map: MapLike, style: HeatmapStyle = {}): HeatmapImage {
  const m = mapValues(map, 'heatmap');
  const p = positions(m.data, style, 'heatmap');
  const lut = colormapLUT(p.colormap);
  const n = m.width * m.height;
  const data = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    const k = lutAt(lut, p.pos[i]!);
    data[i * 4] = lut[k]!;
    data[i * 4 + 1] = lut[k + 1]!;
    data[i * 4 + 2] = lut[k + 2]!;
    data[i * 4 + 3] = 255;
  }
  return { data, width: m.width, height: m.height, signed: p.sign === 'all', scale: p.scale, weight: p.weight, colormap: p.colormap, sign: p.sign, low: p.low, high: p.high };
}

/**
 * How an image became the model input, as far as pictures care: it was resized to `width` ×
 * `height` (aspect kept or not), then the window of the map's size at (`left`, `top`) was taken.
 * A plain resize is `{ width: W, height: H, left: 0, top: 0 }` for a W × H input; a 500 × 375
 * photo with its shorter side resized to 256 and the centre 224 × 224 taken is
 * `{ width: 341, height: 256, left: 59, top: 16 }` (src/io/preprocess.ts `resizePlan`;
 * torchvision's CenterCrop rounds 58.5 to even, 58).
 */
export interface ResizeGeometry {
  width: number;
  height: number;
  left: number;
  top: number;
}

/**
 * How an image became the model input: a `ResizeGeometry`, or the plan `preprocess` returns
 * (`{ resized: { width, height }, crop: { left, top, … } }`).
 */
export type OverlayPlan = ResizeGeometry | { resized: { width: number; height: number }; crop: { left: number; top: number } };

/** A picture to draw over: 1-, 3- or 4-channel pixels, or a decoded image as `loadImage` returns it (`{ rgba, width, height }`). */
export type PhotoLike = PixelImage | { rgba: Uint8Array | Uint8ClampedArray; width: number; height: number };

export interface OverlayStyle extends HeatmapStyle {
  /** Opacity of the heatmap, 0 to 1 (default 0.6). */
  alpha?: number;
  /** How the image became the model input; default: the map was stretched over the whole image. */
  plan?: OverlayPlan;
  /**
   * `magnitude` (default): the heatmap's opacity is alpha × how strongly each pixel shows, so weak
   * areas show the image; `uniform`: alpha everywhere (the classic Grad-CAM look).
   */
  weighting?: 'magnitude' | 'uniform';
  /** Show the image in gray under the heatmap, so its colours stand out (default false). */
  grayImage?: boolean;
  /** Multiplies the image's colours under the heatmap, 0 to 1 (default 1). */
  brightness?: number;
  /** Multiplies the image's colours outside the map's window (a centre crop), 0 to 1 (default 1: unchanged). */
  outside?: number;
}

function checkUnit(what: string, name: string, v: number): number {
  if (!(v >= 0 && v <= 1)) throw usage(`${what}: ${name} must be in [0, 1], got ${v}`);
  return v;
}

/** The source coordinate (map pixels, centres at i + 0.5) of each output pixel along one axis, or NaN outside the window. */
function axisSamples(size: number, resized: number, offset: number, mapSize: number): { i0: Int32Array; i1: Int32Array; f: Float32Array; inside: Uint8Array } {
  const i0 = new Int32Array(size);
  const i1 = new Int32Array(size);
  const f = new Float32Array(size);
  const inside = new Uint8Array(size);
  for (let o = 0; o < size; o++) {
    const u = ((o + 0.5) * resized) / size - offset; // in map pixels, 0 at the window's edge
    if (!(u >= 0 && u < mapSize)) continue;
    inside[o] = 1;
    const x = Math.min(mapSize - 1, Math.max(0, u - 0.5));
    const a = Math.floor(x);
    i0[o] = a;
    i1[o] = Math.min(mapSize - 1, a + 1);
    f[o] = x - a;
  }
  return { i0, i1, f, inside };
}

/**
 * A map over an image at the image's resolution (RGBA, image size): the map's colormap positions
 * are upsampled bilinearly (half-pixel centres, edges clamped) through the inverse of `plan`, so
 * each photo pixel gets the map value of the point the model saw there; outside the crop window
 * the photo is left as it is (or dimmed by `outside`). The map is normalized at its own resolution,
 * as `heatmap` does, so a colorbar of `heatmap(map, style)` explains the overlay too.
 */
export function overlay(photo: PhotoLike, map: MapLike, style: OverlayStyle = {}): RGBAImage {
  const what = 'overlay';
  const image: PixelImage = 'rgba' in photo ? { data: photo.rgba, width: photo.width, height: photo.height } : photo;
  const m = mapValues(map, what);
  const c = channelsOf(image);
  const { width: w0, height: h0 } = image;
  const alpha = checkUnit(what, 'alpha', style.alpha ?? 0.6);
  const brightness = checkUnit(what, 'brightness', style.brightness ?? 1);
  const outside = checkUnit(what, 'outside', style.outside ?? 1);
  const given = style.plan;
  const plan: ResizeGeometry = !given
    ? { width: m.width, height: m.height, left: 0, top: 0 }
    : 'resized' in given
      ? { width: given.resized.width, height: given.resized.height, left: given.crop.left, top: given.crop.top }
      : given;
  const ints = [plan.width, plan.height, plan.left, plan.top];
  if (!ints.every((v) => Number.isInteger(v) && v >= 0) || plan.width < 1 || plan.height < 1 || plan.left + m.width > plan.width || plan.top + m.height > plan.height) {
    throw usage(`${what}: the map (${m.width}×${m.height}) does not fit the plan's window at (${plan.left}, ${plan.top}) of a ${plan.width}×${plan.height} resize`);
  }
  const p = positions(m.data, style, what);
  const lut = colormapLUT(p.colormap);
  const uniform = (style.weighting ?? 'magnitude') === 'uniform';
  const xs = axisSamples(w0, plan.width, plan.left, m.width);
  const ys = axisSamples(h0, plan.height, plan.top, m.height);
  const src = image.data;
  const out = new Uint8ClampedArray(w0 * h0 * 4);
  const mw = m.width;
  // The map's row at this photo row, interpolated vertically once (then only horizontally per pixel).
  const rowPos = new Float32Array(mw);
  const rowWeight = new Float32Array(mw);
  for (let y = 0; y < h0; y++) {
    const inY = ys.inside[y] === 1;
    if (inY) {
      const r0 = ys.i0[y]! * mw;
      const r1 = ys.i1[y]! * mw;
      const fy = ys.f[y]!;
      for (let j = 0; j < mw; j++) {
        rowPos[j] = p.pos[r0 + j]! + fy * (p.pos[r1 + j]! - p.pos[r0 + j]!);
        rowWeight[j] = uniform ? 1 : p.weight[r0 + j]! + fy * (p.weight[r1 + j]! - p.weight[r0 + j]!);
      }
    }
    for (let x = 0; x < w0; x++) {
      const i = y * w0 + x;
      let r: number, g: number, b: number;
      if (c === 1) r = g = b = src[i]!;
      else {
        r = src[i * c]!;
        g = src[i * c + 1]!;
        b = src[i * c + 2]!;
      }
      const o = i * 4;
      out[o + 3] = c === 4 ? src[i * 4 + 3]! : 255;
      if (!(inY && xs.inside[x] === 1)) {
        out[o] = r * outside;
        out[o + 1] = g * outside;
        out[o + 2] = b * outside;
        continue;
      }
      if (style.grayImage) r = g = b = 0.299 * r + 0.587 * g + 0.114 * b;
      r *= brightness;
      g *= brightness;
      b *= brightness;
      const a0 = xs.i0[x]!;
      const a1 = xs.i1[x]!;
      const fx = xs.f[x]!;
      const pos = rowPos[a0]! + fx * (rowPos[a1]! - rowPos[a0]!);
      const k = lutAt(lut, pos);
      const a = alpha * (rowWeight[a0]! + fx * (rowWeight[a1]! - rowWeight[a0]!));
      out[o] = r + a * (lut[k]! - r);
      out[o + 1] = g + a * (lut[k + 1]! - g);
      out[o + 2] = b + a * (lut[k + 2]! - b);
    }
  }
  return { data: out, width: w0, height: h0 };
}

/**
 * PNG bytes of an image with 1 (gray), 3 (RGB) or 4 (RGBA) 8-bit channels (the count follows from
 * the data's length). Pure JavaScript (fast-png): the same bytes in Node and in a browser.
 */
export function toPNG(image: PixelImage): Uint8Array {
  const { width, height } = image;
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) throw usage(`toPNG: image size ${width}×${height} is not two positive integers`);
  let channels: number;
  try {
    channels = channelsOf(image);
  } catch (e) {
    throw usage(`toPNG: ${(e as Error).message}`);
  }
  return encode({ width, height, data: image.data, channels, depth: 8 });
}
