/**
 * The photo behind the overlays: the decoded image at its own size (not the model's squashed or
 * cropped input), and a map drawn over it through the preprocessing's resize plan — a plain
 * resize stretches the map back over the whole photo, a resize + centre crop puts it over the crop
 * window only (the rest of the photo is shown dimmed).
 *
 * `photoOverlay` is the page's one entry point for this, so that it can be replaced by the
 * library's own `overlay(image, map, { plan })` once that exists.
 */
import { resizePlan, type Preprocess } from '../../src/io/preprocess.js';
import { OVERLAY_STYLE } from '../../src/core.js';
import { colorize, normalizeMap, overlayRGBA, type ColormapName, type RGBAImage } from '../../src/render/index.js';

/** Photos larger than this (longer side) are kept downscaled: the page only shows them. */
export const PHOTO_MAX_SIDE = 1600;

/** A decoded photo: its pixels (at most PHOTO_MAX_SIDE on the longer side) and its size as decoded. */
export interface Photo {
  image: RGBAImage;
  /** The size of the decoded file, which the resize plan is computed from. */
  width: number;
  height: number;
}

/** Decodes an image file to RGBA (EXIF orientation applied, transparency over white, as the command line does). */
export async function decodePhoto(file: Blob): Promise<Photo> {
  const bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' });
  try {
    const { width, height } = bitmap;
    const s = Math.min(1, PHOTO_MAX_SIDE / Math.max(width, height));
    const w = Math.max(1, Math.round(width * s));
    const h = Math.max(1, Math.round(height * s));
    const canvas = new OffscreenCanvas(w, h);
    const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
    ctx.fillStyle = '#ffffff';
    ctx.fillRect(0, 0, w, h);
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(bitmap, 0, 0, w, h);
    return { image: { data: ctx.getImageData(0, 0, w, h).data, width: w, height: h }, width, height };
  } finally {
    bitmap.close();
  }
}

/** Where the model's input lies in the photo's pixels: the window [x0, x1) × [y0, y1) and the scale. */
export interface InputWindow {
  /** Model-input pixels per photo pixel, along x and y. */
  sx: number;
  sy: number;
  /** Offset: model coordinate u = (x + 0.5)·sx − ox of photo pixel x's centre. */
  ox: number;
  oy: number;
}

/** The model input's window in the photo, from the resize plan of the photo's decoded size. */
export function inputWindow(photo: Photo, p: Preprocess): InputWindow {
  const plan = resizePlan(photo.width, photo.height, p);
  // Photo pixel → decoded pixel → resized pixel (plan.width × plan.height) → minus the crop offset.
  return { sx: plan.width / photo.image.width, sy: plan.height / photo.image.height, ox: plan.left, oy: plan.top };
}

/**
 * A map at the model's input size (width × height of `p`, one value per pixel), drawn over the
 * photo: normalized as the map tile is (same clip, same colours), sampled bilinearly at each photo
 * pixel's centre, and blended as the command line's overlays (`OVERLAY_STYLE`). Photo pixels
 * outside the model's input window (a centre crop) are dimmed further and get no colour.
 */
export function photoOverlay(
  map: Float32Array,
  photo: Photo,
  p: Preprocess,
  how: { signed: boolean; colormap: ColormapName; clip: number; opacity: number },
): RGBAImage {
  const { width: mw, height: mh } = p;
  if (map.length !== mw * mh) throw new Error(`photoOverlay: map of length ${map.length} is not ${mw}×${mh}`);
  const norm = normalizeMap(map, { signed: how.signed, percentile: how.clip });
  const { width: W, height: H } = photo.image;
  const win = inputWindow(photo, p);
  const t = new Float32Array(W * H);
  const outside = new Uint8Array(W * H);
  const sample = (u: number, v: number): number => {
    const x = Math.min(mw - 1, Math.max(0, u));
    const y = Math.min(mh - 1, Math.max(0, v));
    const x0 = Math.floor(x);
    const y0 = Math.floor(y);
    const x1 = Math.min(mw - 1, x0 + 1);
    const y1 = Math.min(mh - 1, y0 + 1);
    const fx = x - x0;
    const fy = y - y0;
    const d = norm.data;
    return (1 - fy) * ((1 - fx) * d[y0 * mw + x0]! + fx * d[y0 * mw + x1]!) + fy * ((1 - fx) * d[y1 * mw + x0]! + fx * d[y1 * mw + x1]!);
  };
  for (let y = 0; y < H; y++) {
    // Model coordinates of the pixel centre (u, v in [0, mw), [0, mh) inside the window).
    const v = (y + 0.5) * win.sy - win.oy;
    for (let x = 0; x < W; x++) {
      const u = (x + 0.5) * win.sx - win.ox;
      const i = y * W + x;
      if (u < 0 || v < 0 || u > mw || v > mh) outside[i] = 1;
      else t[i] = sample(u - 0.5, v - 0.5);
    }
  }
  const heat = colorize({ data: t, signed: norm.signed, scale: norm.scale }, W, H, how.colormap);
  const out = overlayRGBA(photo.image, heat, how.opacity, OVERLAY_STYLE);
  for (let i = 0; i < W * H; i++) {
    if (!outside[i]) continue;
    for (let k = 0; k < 3; k++) out.data[i * 4 + k] = out.data[i * 4 + k]! * 0.5;
  }
  return out;
}
