/**
 * Bilinear resizing with antialiasing, bit for bit as Pillow's `Image.resize(size, Image.BILINEAR)`
 * on 8-bit images (libImaging/Resample.c), in plain TypeScript so Node and the browser compute the
 * same pixels. Models trained with torchvision on PIL images saw exactly these pixels.
 *
 * Pillow's resampling is separable: a horizontal pass, rounded to 8 bits, then a vertical pass.
 * When shrinking by a factor s > 1 the triangle filter is stretched to a support of s pixels (that
 * is the antialiasing: every source pixel under the stretched triangle contributes), when
 * enlarging it keeps a support of 1. Each output pixel's weights are normalized in float64 and
 * turned into 22-bit fixed point; sums start at one half (round to nearest) and are clipped to
 * 0…255. Channels are independent (Pillow resizes RGB and RGBA pixels channel by channel; RGBA
 * would be premultiplied first, which is why callers flatten transparency before resizing).
 *
 * ```ts
 * const small = resizeBilinear({ data: rgb, width: 451, height: 300, channels: 3 }, 224, 224);
 * // torchvision's Resize(256) + CenterCrop(224), computing only the window:
 * const plan = resizeCropPlan(451, 300, 256, 224, 224); // { width: 384, height: 256, left: 80, top: 16 }
 * const crop = resizeBilinear(image, plan.width, plan.height, { left: plan.left, top: plan.top, width: 224, height: 224 });
 * ```
 */

/** Interleaved 8-bit pixels, row-major, `channels` values per pixel (1 to 4). */
export interface PixelBuffer {
  data: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  channels: number;
}

/** A window of the resized image: only these output pixels are computed. */
export interface Window {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** Pillow's PRECISION_BITS for 8-bit images: 32 − 8 − 2. */
const PRECISION_BITS = 22;
const ONE = 1 << PRECISION_BITS;
const HALF = 1 << (PRECISION_BITS - 1);

/** Pillow's bilinear (triangle) filter, support 1. */
const triangle = (x: number): number => {
  const a = Math.abs(x);
  return a < 1 ? 1 - a : 0;
};

/** The weights of one axis: for output i, source pixels first[i] … first[i] + count[i] − 1. */
interface AxisWeights {
  first: Int32Array;
  count: Int32Array;
  /** ksize fixed-point weights per output pixel. */
  weights: Int32Array;
  ksize: number;
}

/** Pillow's precompute_coeffs + normalize_coeffs_8bpc for the whole source range [0, inSize]. */
function axisWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  const filterScale = Math.max(scale, 1);
  const support = 1 * filterScale;
  const ksize = Math.ceil(support) * 2 + 1;
  const first = new Int32Array(outSize);
  const count = new Int32Array(outSize);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  const ss = 1 / filterScale;
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    // C's (int) conversion truncates toward zero.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      const w = triangle((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (let x = 0; x < xmax; x++) {
      const w = ww !== 0 ? k[x]! / ww : k[x]!;
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * ONE) : Math.trunc(0.5 + w * ONE);
    }
    first[xx] = xmin;
    count[xx] = xmax;
  }
  return { first, count, weights, ksize };
}

/** Pillow's clip8: a 22-bit fixed-point sum (with its rounding half) to 0…255. */
const clip8 = (s: number): number => (s >= ONE * 256 ? 255 : s <= 0 ? 0 : s >> PRECISION_BITS);

/**
 * Resizes to outWidth × outHeight as Pillow's BILINEAR does, and returns the pixels of `window`
 * (default: all of it) — the same pixels as resizing everything and cropping afterwards, without
 * computing what the crop drops. A new buffer with the source's channel count.
 */
export function resizeBilinear(src: PixelBuffer, outWidth: number, outHeight: number, window?: Window): Uint8Array {
  const { data, width: w0, height: h0, channels: c } = src;
  const win = window ?? { left: 0, top: 0, width: outWidth, height: outHeight };
  checkArgs(src, outWidth, outHeight, win);

  const sameWidth = outWidth === w0;
  const sameHeight = outHeight === h0;
  const horiz = sameWidth ? null : axisWeights(w0, outWidth);
  const vert = sameHeight ? null : axisWeights(h0, outHeight);

  // Source rows the vertical pass reads for the window's rows.
  const rowFirst = vert ? vert.first[win.top]! : win.top;
  const rowEnd = vert ? vert.first[win.top + win.height - 1]! + vert.count[win.top + win.height - 1]! : win.top + win.height;
  const rows = rowEnd - rowFirst;

  // Horizontal pass: rows rowFirst … rowEnd − 1, the window's columns only.
  const tmp = new Uint8Array(rows * win.width * c);
  for (let y = 0; y < rows; y++) {
    const srcRow = (rowFirst + y) * w0 * c;
    const outRow = y * win.width * c;
    for (let i = 0; i < win.width; i++) {
      const xx = win.left + i;
      if (!horiz) {
        for (let ch = 0; ch < c; ch++) tmp[outRow + i * c + ch] = data[srcRow + xx * c + ch]!;
        continue;
      }
      const n = horiz.count[xx]!;
      const kBase = xx * horiz.ksize;
      // All channels in one sweep over the source pixels (the hot loop on large photos).
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      let s3 = HALF;
      let at = srcRow + horiz.first[xx]! * c;
      for (let x = 0; x < n; x++, at += c) {
        const k = horiz.weights[kBase + x]!;
        s0 += data[at]! * k;
        if (c > 1) s1 += data[at + 1]! * k;
        if (c > 2) s2 += data[at + 2]! * k;
        if (c > 3) s3 += data[at + 3]! * k;
      }
      const o = outRow + i * c;
      tmp[o] = clip8(s0);
      if (c > 1) tmp[o + 1] = clip8(s1);
      if (c > 2) tmp[o + 2] = clip8(s2);
      if (c > 3) tmp[o + 3] = clip8(s3);
    }
  }

  // Vertical pass over the rounded rows.
  if (!vert) return tmp;
  const out = new Uint8Array(win.width * win.height * c);
  const stride = win.width * c;
  for (let j = 0; j < win.height; j++) {
    const yy = win.top + j;
    const ymin = vert.first[yy]! - rowFirst;
    const n = vert.count[yy]!;
    const kBase = yy * vert.ksize;
    for (let i = 0; i < stride; i++) {
      let s = HALF;
      for (let y = 0; y < n; y++) s += tmp[(ymin + y) * stride + i]! * vert.weights[kBase + y]!;
      out[j * stride + i] = clip8(s);
    }
  }
  return out;
}

function checkArgs(src: PixelBuffer, outWidth: number, outHeight: number, win: Window): void {
  const { width, height, channels, data } = src;
  const positive = (v: number): boolean => Number.isSafeInteger(v) && v > 0;
  if (![width, height, outWidth, outHeight, win.width, win.height].every(positive) || !(Number.isInteger(channels) && channels >= 1 && channels <= 4)) {
    throw new RangeError(`resizeBilinear: sizes must be positive integers and channels 1 to 4, got ${width}×${height}×${channels} → ${outWidth}×${outHeight}`);
  }
  if (data.length !== width * height * channels) throw new RangeError(`resizeBilinear: a ${width}×${height}×${channels} image has ${width * height * channels} bytes, got ${data.length}`);
  if (!(Number.isSafeInteger(win.left) && Number.isSafeInteger(win.top) && win.left >= 0 && win.top >= 0 && win.left + win.width <= outWidth && win.top + win.height <= outHeight)) {
    throw new RangeError(`resizeBilinear: window ${win.width}×${win.height} at (${win.left}, ${win.top}) is not inside ${outWidth}×${outHeight}`);
  }
}

/** Python's round(): halves go to the even neighbour (torchvision's CenterCrop uses it). */
export const roundHalfEven = (x: number): number => {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
};

/**
 * torchvision's `Resize(shorter)` + `CenterCrop([height, width])` on a w0 × h0 image: the shorter
 * side becomes `shorter` and the longer `int(shorter · long / short)` (truncated, as torchvision
 * computes it), then the window at (round((W − width)/2), round((H − height)/2)) with Python's
 * rounding. `shorter` must be at least width and height (torchvision would pad otherwise).
 */
export function resizeCropPlan(w0: number, h0: number, shorter: number, width: number, height: number): { width: number; height: number; left: number; top: number } {
  const [rw, rh] = w0 <= h0 ? [shorter, Math.trunc((shorter * h0) / w0)] : [Math.trunc((shorter * w0) / h0), shorter];
  return { width: rw, height: rh, left: roundHalfEven((rw - width) / 2), top: roundHalfEven((rh - height) / 2) };
}
