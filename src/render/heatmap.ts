/**
 * Heatmaps and overlays as RGBA pixel buffers. Pure TypeScript (no Node imports): the same
 * buffers go to sharp in Node and to `ImageData` / a canvas in a browser.
 *
 * ```ts
 * const m = mapAt(result.maps.sum!, 0, 0);                       // image 0, target 0
 * const heat = heatmapRGBA(m.data, m.width, m.height, { signed: true });
 * const over = overlayRGBA(display, heat);                      // alpha 0.7 × |t| per pixel
 * ```
 */
import { BacklightError } from '../errors.js';
import { slotAt } from '../ir/slots.js';
import {
  COLORMAP_KIND,
  DEFAULT_MAGNITUDE_COLORMAP,
  DEFAULT_SIGNED_COLORMAP,
  LUT_SIZE,
  colormapLUT,
  type ColormapName,
  type RGB,
} from './colormaps.js';
import { normalizeMap, type NormalizedMap } from './normalize.js';

/** 8-bit RGBA pixels, row-major, like the browser's `ImageData`. */
export interface RGBAImage {
  data: Uint8ClampedArray;
  width: number;
  height: number;
}

/** 8-bit pixels with 1 (gray), 3 (RGB) or 4 (RGBA) channels; the count follows from the length. */
export interface PixelImage {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
}

/** A colourized map, and how strongly each pixel shows (|t|, for weighting overlays). */
export interface Heatmap extends RGBAImage {
  signed: boolean;
  /** The map value shown at full colour (see `normalize.ts`). */
  scale: number;
  /** |t| per pixel, in [0, 1]: 0 where the map is 0. */
  weight: Float32Array;
}

export interface HeatmapOptions {
  /** true: a signed map (diverging colours, 0 at the centre); false: a magnitude. */
  signed: boolean;
  /** Default: `rdbu` for signed maps, `inferno` for magnitudes. */
  colormap?: ColormapName;
  /** Percentile of |values| (signed) or values that gets full colour; default 99.5. */
  percentile?: number;
  /** The value that gets full colour, instead of a percentile (e.g. shared by several maps). */
  scale?: number;
}

export type Resample = 'nearest' | 'bilinear';

/** Number of channels of an image, from the length of its data. */
export function channelsOf(image: PixelImage): 1 | 3 | 4 {
  const px = image.width * image.height;
  for (const c of [4, 3, 1] as const) if (image.data.length === px * c) return c;
  throw new Error(`image data of length ${image.data.length} is not 1, 3 or 4 channels of ${image.width}×${image.height}`);
}

/** A signed or magnitude map, colourized with `colormap` (opaque RGBA). */
export function heatmapRGBA(map: ArrayLike<number>, width: number, height: number, options: HeatmapOptions): Heatmap {
  if (map.length !== width * height) throw new Error(`map of length ${map.length} is not ${width}×${height}`);
  return colorize(normalizeMap(map, options), width, height, options.colormap);
}

/**
 * Colourizes a normalized map. A diverging colormap puts 0 at its centre: signed values t ∈ [−1, 1]
 * span the whole map, magnitudes only its upper half (white to red). A sequential colormap puts 0
 * at its start: magnitudes span it, signed values are shifted to (t + 1) / 2.
 */
export function colorize(norm: NormalizedMap, width: number, height: number, colormap?: ColormapName): Heatmap {
  const name = colormap ?? (norm.signed ? DEFAULT_SIGNED_COLORMAP : DEFAULT_MAGNITUDE_COLORMAP);
  const lut = colormapLUT(name);
  const diverging = COLORMAP_KIND[name] === 'diverging';
  // t → position in [0, 1] of the colormap.
  const offset = norm.signed || diverging ? 0.5 : 0;
  const gain = offset === 0.5 ? 0.5 : 1;
  const n = width * height;
  const data = new Uint8ClampedArray(n * 4);
  const weight = new Float32Array(n);
  const last = LUT_SIZE - 1;
  for (let i = 0; i < n; i++) {
    const t = norm.data[i]!;
    const k = Math.round((offset + gain * t) * last) * 3;
    data[i * 4] = lut[k]!;
    data[i * 4 + 1] = lut[k + 1]!;
    data[i * 4 + 2] = lut[k + 2]!;
    data[i * 4 + 3] = 255;
    weight[i] = Math.abs(t);
  }
  return { data, width, height, signed: norm.signed, scale: norm.scale, weight };
}

export interface OverlayOptions {
  /**
   * How the heatmap's opacity varies per pixel: `magnitude` multiplies `alpha` by |t| (areas where
   * the map is near 0 show the image), `uniform` uses `alpha` everywhere (the classic Grad-CAM
   * look, which veils the whole image). Default: `magnitude` for a `Heatmap` (signed or not),
   * `uniform` for a plain RGBA image. Either way the heatmap's own alpha channel multiplies in.
   */
  weighting?: 'magnitude' | 'uniform';
  /** Show the image in gray under the heatmap, so the colours stand out (default false). */
  grayImage?: boolean;
  /** Multiplies the image's colours under the heatmap, 0 to 1: below 1 dims it (default 1). */
  brightness?: number;
}

/**
 * Blends a heatmap over an image of the same size (use `resizeMap` first when the map's size
 * differs): per pixel, a = alpha × weight × heatmap alpha / 255 and out = (1 − a)·image + a·heat.
 * The result is opaque where the image is (an RGBA image keeps its alpha).
 */
export function overlayRGBA(image: PixelImage, heatmap: RGBAImage | Heatmap, alpha = 0.7, options: OverlayOptions = {}): RGBAImage {
  if (image.width !== heatmap.width || image.height !== heatmap.height) {
    throw new Error(`overlay: image ${image.width}×${image.height} and heatmap ${heatmap.width}×${heatmap.height} differ in size`);
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new BacklightError(`overlay alpha must be in [0, 1], got ${alpha}`, 'usage');
  const brightness = options.brightness ?? 1;
  if (!(brightness >= 0 && brightness <= 1)) throw new BacklightError(`overlay brightness must be in [0, 1], got ${brightness}`, 'usage');
  const weight = 'weight' in heatmap ? heatmap.weight : undefined;
  const byMagnitude = (options.weighting ?? (weight ? 'magnitude' : 'uniform')) === 'magnitude';
  if (byMagnitude && !weight) throw new Error('overlay: magnitude weighting needs a Heatmap from heatmapRGBA or colorize');
  const c = channelsOf(image);
  const src = image.data;
  const heat = heatmap.data;
  const n = image.width * image.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    let r: number, g: number, b: number;
    if (c === 1) r = g = b = src[i]!;
    else {
      r = src[i * c]!;
      g = src[i * c + 1]!;
      b = src[i * c + 2]!;
    }
    if (options.grayImage) r = g = b = 0.299 * r + 0.587 * g + 0.114 * b;
    if (brightness !== 1) {
      r *= brightness;
      g *= brightness;
      b *= brightness;
    }
    let a = (alpha * heat[i * 4 + 3]!) / 255;
    if (byMagnitude) a *= weight![i]!;
    out[i * 4] = r + a * (heat[i * 4]! - r);
    out[i * 4 + 1] = g + a * (heat[i * 4 + 1]! - g);
    out[i * 4 + 2] = b + a * (heat[i * 4 + 2]! - b);
    out[i * 4 + 3] = c === 4 ? src[i * 4 + 3]! : 255;
  }
  return { data: out, width: image.width, height: image.height };
}

/**
 * Resizes a one-channel map. `bilinear` samples at pixel centres (half-pixel offsets, edges
 * clamped), as PyTorch's `interpolate(align_corners=False)` and OpenCV do, without antialiasing.
 */
export function resizeMap(map: ArrayLike<number>, width: number, height: number, toWidth: number, toHeight: number, mode: Resample = 'bilinear'): Float32Array {
  if (map.length !== width * height) throw new Error(`map of length ${map.length} is not ${width}×${height}`);
  const out = new Float32Array(toWidth * toHeight);
  resample(width, height, toWidth, toHeight, mode, 1, (src, dst, w) => {
    out[dst]! += w * map[src]!;
  });
  return out;
}

/** Resizes an image (1, 3 or 4 channels) to RGBA, like `resizeMap` per channel. */
export function resizeRGBA(image: PixelImage, toWidth: number, toHeight: number, mode: Resample = 'nearest'): RGBAImage {
  const rgba = toRGBA(image);
  if (toWidth === image.width && toHeight === image.height) return rgba;
  const acc = new Float32Array(toWidth * toHeight * 4);
  const s = rgba.data;
  resample(image.width, image.height, toWidth, toHeight, mode, 4, (src, dst, w) => {
    for (let c = 0; c < 4; c++) acc[dst + c]! += w * s[src + c]!;
  });
  return { data: Uint8ClampedArray.from(acc, (v) => Math.round(v)), width: toWidth, height: toHeight };
}

/**
 * Calls `add(srcIndex, dstIndex, weight)` for every source pixel that contributes to each output
 * pixel (indices are multiplied by `stride`).
 */
function resample(w: number, h: number, tw: number, th: number, mode: Resample, stride: number, add: (src: number, dst: number, weight: number) => void): void {
  if (!(Number.isInteger(tw) && Number.isInteger(th) && tw > 0 && th > 0)) throw new Error(`cannot resize to ${tw}×${th}`);
  const axis = (size: number, to: number): Array<[number, number, number]> =>
    Array.from({ length: to }, (_, o): [number, number, number] => {
      if (mode === 'nearest') {
        const i = Math.min(size - 1, Math.floor(((o + 0.5) * size) / to));
        return [i, i, 0];
      }
      const x = Math.min(size - 1, Math.max(0, ((o + 0.5) * size) / to - 0.5));
      const i0 = Math.floor(x);
      return [i0, Math.min(size - 1, i0 + 1), x - i0];
    });
  const xs = axis(w, tw);
  const ys = axis(h, th);
  for (let oy = 0; oy < th; oy++) {
    const [y0, y1, fy] = ys[oy]!;
    for (let ox = 0; ox < tw; ox++) {
      const [x0, x1, fx] = xs[ox]!;
      const dst = (oy * tw + ox) * stride;
      add((y0 * w + x0) * stride, dst, (1 - fx) * (1 - fy));
      if (fx > 0) add((y0 * w + x1) * stride, dst, fx * (1 - fy));
      if (fy > 0) add((y1 * w + x0) * stride, dst, (1 - fx) * fy);
      if (fx > 0 && fy > 0) add((y1 * w + x1) * stride, dst, fx * fy);
    }
  }
}

/** Any 1-, 3- or 4-channel image as RGBA (a new buffer unless it already is RGBA). */
export function toRGBA(image: PixelImage): RGBAImage {
  const c = channelsOf(image);
  if (c === 4) return { data: image.data instanceof Uint8ClampedArray ? image.data : new Uint8ClampedArray(image.data.buffer, image.data.byteOffset, image.data.length), width: image.width, height: image.height };
  const n = image.width * image.height;
  const out = new Uint8ClampedArray(n * 4);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) out[i * 4 + k] = image.data[c === 1 ? i : i * 3 + k]!;
    out[i * 4 + 3] = 255;
  }
  return { data: out, width: image.width, height: image.height };
}

/** A solid-colour RGBA image. */
export function solidRGBA(width: number, height: number, color: RGB, alpha = 255): RGBAImage {
  const data = new Uint8ClampedArray(width * height * 4);
  for (let i = 0; i < width * height; i++) data.set([color[0], color[1], color[2], alpha], i * 4);
  return { data, width, height };
}

/**
 * One map of a `[N, K, H, W]` tensor (the library's `maps.*`): image `n`, target `k`. Also takes
 * `[N, K, 1, H, W]`. The data is a view, not a copy.
 */
export function mapAt(maps: { data: Float32Array; dims: readonly number[] }, n: number, k: number): { data: Float32Array; width: number; height: number } {
  const d = maps.dims;
  const ok = d.length === 4 || (d.length === 5 && d[2] === 1);
  if (!ok) throw new Error(`expected maps of shape [N, K, H, W], got [${d}]`);
  const [nn, kk] = d as [number, number];
  const height = d[d.length - 2]!;
  const width = d[d.length - 1]!;
  if (!(n >= 0 && n < nn && k >= 0 && k < kk)) throw new Error(`map (${n}, ${k}) is outside [${d}]`);
  return { data: slotAt(maps, n, k), width, height };
}
