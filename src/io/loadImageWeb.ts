/**
 * `loadImage` for browsers (and Web Workers): a Blob/File, an ImageBitmap, an <img> element or a
 * URL → 8-bit RGBA at the image's own size, the same shape as Node's `loadImage`, for the same
 * `preprocess`. The browser decodes (EXIF orientation applied); nothing is resampled here:
 * `colorSpaceConversion: 'none'` keeps the stored pixel values (an ICC profile is ignored, as
 * Node's decoding and PIL do) and `premultiplyAlpha: 'none'` keeps colours of transparent pixels.
 * The pixels are read through a canvas of the image's size, drawn at (0, 0) without scaling;
 * a canvas stores premultiplied alpha, so semi-transparent pixels may come back a grey level off
 * (opaque images come back exactly as decoded).
 *
 * ```ts
 * import { loadImage, preprocess } from 'backlight/web';
 * const image = await loadImage(fileInput.files[0]);   // or a URL, an ImageBitmap, an <img>
 * const { tensor, plan } = preprocess(image, 'imagenet');
 * ```
 */
import { BacklightError } from '../errors.js';
import type { DecodedImage } from './preprocessImage.js';

/** What the browser's `loadImage` reads. */
export type WebImageInput = Blob | ImageBitmap | HTMLImageElement | URL | string;

const BITMAP_OPTIONS: ImageBitmapOptions = { imageOrientation: 'from-image', premultiplyAlpha: 'none', colorSpaceConversion: 'none' };

/**
 * Decodes an image to RGBA at its own size. A string is a URL (relative to the page). `name`
 * names the image in messages (default: the file's name or the URL). Throws a one-line
 * BacklightError.
 */
export async function loadImage(input: WebImageInput, name?: string): Promise<DecodedImage> {
  if (typeof input === 'string' || input instanceof URL) {
    const url = typeof input === 'string' ? input : input.href;
    let blob: Blob;
    try {
      const response = await fetch(url);
      if (!response.ok) throw new Error(`HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
      blob = await response.blob();
    } catch (e) {
      throw new BacklightError(`cannot fetch image '${url}': ${(e as Error).message}`);
    }
    return decodeBlob(blob, name ?? url);
  }
  if (typeof Blob !== 'undefined' && input instanceof Blob) return decodeBlob(input, name ?? ((input as Partial<File>).name || 'image'));
  if (typeof ImageBitmap !== 'undefined' && input instanceof ImageBitmap) return bitmapPixels(input, name ?? 'image');
  if (typeof HTMLImageElement !== 'undefined' && input instanceof HTMLImageElement) {
    const source = name ?? (input.currentSrc || input.src || 'image');
    let bitmap: ImageBitmap;
    try {
      await input.decode();
      bitmap = await createImageBitmap(input, BITMAP_OPTIONS);
    } catch {
      throw new BacklightError(`cannot decode image '${source}': the <img> element has no decodable image (not loaded, broken, or from another origin without CORS)`);
    }
    return closing(bitmap, source);
  }
  throw new BacklightError(`loadImage: expected a Blob, an ImageBitmap, an HTMLImageElement or a URL, got ${input === null ? 'null' : typeof input}`, 'usage');
}

/** Decodes image file bytes (a Blob or File) to RGBA at their own size. */
export async function decodeBlob(blob: Blob, source: string): Promise<DecodedImage> {
  let bitmap: ImageBitmap;
  try {
    if (blob.size === 0) throw new Error('empty');
    bitmap = await createImageBitmap(blob, BITMAP_OPTIONS);
  } catch {
    const why = blob.size === 0 ? 'the file is empty' : 'not an image in a supported format (PNG, JPEG, WebP, GIF, AVIF…), or the file is damaged';
    throw new BacklightError(`cannot decode image '${source}': ${why}`);
  }
  return closing(bitmap, source);
}

async function closing(bitmap: ImageBitmap, source: string): Promise<DecodedImage> {
  try {
    return bitmapPixels(bitmap, source);
  } finally {
    bitmap.close();
  }
}

/** The pixels of a bitmap, drawn unscaled on a canvas of its size. */
function bitmapPixels(bitmap: ImageBitmap, source: string): DecodedImage {
  const { width, height } = bitmap;
  if (!(width > 0 && height > 0)) throw new BacklightError(`cannot decode image '${source}': it has no pixels (${width}×${height})`);
  const canvas = typeof OffscreenCanvas !== 'undefined' ? new OffscreenCanvas(width, height) : Object.assign(document.createElement('canvas'), { width, height });
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' }) as CanvasRenderingContext2D | OffscreenCanvasRenderingContext2D | null;
  if (!ctx) throw new BacklightError(`cannot decode image '${source}': the browser gave no 2D canvas`);
  ctx.imageSmoothingEnabled = false;
  ctx.drawImage(bitmap, 0, 0);
  const { data } = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' });
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, source };
}
