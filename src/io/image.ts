/**
 * Image files → model input tensors (Node only: decoding uses sharp/libvips).
 *
 * Two steps, kept apart: `decodeRGBA` decodes any format sharp reads (PNG, JPEG, WebP, GIF, TIFF,
 * AVIF, …) to 8-bit RGBA at the image's own size — EXIF orientation applied, gray and CMYK
 * images made RGB, 16-bit images 8-bit, the pixel values taken as stored (an embedded ICC profile
 * is not applied: PIL, and so torchvision's training pipelines, ignore it, and the page decodes
 * with colorSpaceConversion 'none'); then `preprocessWith` (preprocessImage.ts, shared with the
 * page) flattens transparency onto white, resizes with Pillow's bilinear filter in TypeScript and
 * normalizes. A damaged file is refused rather than half-decoded: libvips warnings (e.g. a
 * truncated JPEG) count as errors.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { fsReason } from './files.js';
import { BacklightError } from '../errors.js';
import type { TensorLike } from '../ir/tensor.js';
import { inputDims, type Preprocess } from './preprocess.js';
import { preprocessWith, type DecodedImage, type PreprocessPlan, type RGBImage } from './preprocessImage.js';

export type { RGBImage } from './preprocessImage.js';

/** A decoded image file, with the format sharp found. */
export interface DecodedFile extends DecodedImage {
  format: string;
}

export interface LoadedImage {
  /** The file name (or the source name given for bytes). */
  source: string;
  /** The model input, [1, C, H, W] or [1, H, W, C]. */
  tensor: TensorLike;
  /**
   * The image as the model sees it, before normalization: resized/cropped to the input size, RGB
   * (a gray model's input is repeated in R, G and B). For overlays.
   */
  display: RGBImage;
  /** Size of the decoded file (after EXIF orientation) and its format as sharp names it. */
  original: { width: number; height: number; format: string };
  /** The decoded file at its own size (for pictures over the original). */
  image: DecodedFile;
  /** Resize/crop geometry and the zB box. */
  plan: PreprocessPlan;
}

/** Reads an image file's bytes; throws a BacklightError naming the file. */
export async function readImageFile(path: string): Promise<Uint8Array> {
  try {
    return await readFile(path);
  } catch (e) {
    throw new BacklightError(`cannot read image '${path}': ${fsReason(e)}`);
  }
}

/** Reads and preprocesses one image file. Throws a BacklightError naming the file. */
export async function loadImage(path: string, preprocess: Preprocess): Promise<LoadedImage> {
  return decodeImage(await readImageFile(path), preprocess, path);
}

/** Several files as one batch [N, …] (all with the same preprocessing). */
export async function loadImages(paths: readonly string[], preprocess: Preprocess): Promise<{ tensor: TensorLike; images: LoadedImage[] }> {
  const images = await Promise.all(paths.map((p) => loadImage(p, preprocess)));
  const per = images[0]?.tensor.data.length ?? 0;
  const data = new Float32Array(per * images.length);
  images.forEach((img, i) => data.set(img.tensor.data, i * per));
  return { tensor: { data, dims: inputDims(preprocess, images.length) }, images };
}

/** The same as `loadImage` for bytes in memory; `source` names them in errors. */
export async function decodeImage(bytes: Uint8Array, preprocess: Preprocess, source = 'image'): Promise<LoadedImage> {
  const image = await decodeRGBA(bytes, source);
  const { tensor, display, plan } = preprocessWith(image, preprocess);
  return { source, tensor, display, original: { width: image.width, height: image.height, format: image.format }, image, plan };
}

/** Decodes image bytes to 8-bit RGBA at their own size (see the top of this file). */
export async function decodeRGBA(bytes: Uint8Array, source = 'image'): Promise<DecodedFile> {
  let format: string;
  let data: Buffer;
  let info: OutputInfo;
  try {
    if (bytes.length === 0) throw new Error('empty');
    const meta = await sharp(bytes).metadata();
    format = meta.format ?? 'unknown';
    refuseUnreadable(bytes, format, meta.depth, source);
    ({ data, info } = await sharp(bytes, { failOn: 'warning' })
      .autoOrient()
      .keepIccProfile()
      .toColourspace('srgb')
      .ensureAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true }));
  } catch (e) {
    if (e instanceof BacklightError) throw e;
    throw new BacklightError(`cannot decode image '${source}': ${decodeReason(e, bytes)}`);
  }
  const { width, height, channels } = info;
  if (channels !== 4 || data.length !== width * height * 4) throw new Error(`decoded '${source}' to ${width}×${height}×${channels} (${data.length} bytes), expected RGBA`);
  return { rgba: new Uint8Array(data.buffer, data.byteOffset, data.length), width, height, source, format };
}

/** Sample formats whose values map to 0…255 as the models expect (16-bit is scaled down by libvips). */
const READ_DEPTHS = new Set(['uchar', 'ushort']);

/**
 * Files that would decode to something other than what they show: an SVG that references other
 * files or URLs (librsvg leaves them out and draws a blank, or could reach outside the file) and
 * floating-point or 32-bit samples (a float32 TIFF in 0…1 becomes an all-black 8-bit image).
 */
function refuseUnreadable(bytes: Uint8Array, format: string, depth: string | undefined, source: string): void {
  if (format === 'svg') {
    const text = new TextDecoder().decode(bytes);
    const ref = /\b(?:xlink:)?href\s*=\s*["']\s*(?!#|data:)([^"']*)/i.exec(text) ?? /<!ENTITY[^>]*\bSYSTEM\s*["']([^"']*)/i.exec(text) ?? /@import\s+(?:url\()?["']?([^"')\s;]*)/i.exec(text);
    if (ref) throw new BacklightError(`cannot decode image '${source}': the SVG references '${ref[1]!.slice(0, 80)}'; SVG files with external references are not read (embed images as data: URLs)`);
  }
  if (depth !== undefined && !READ_DEPTHS.has(depth)) {
    throw new BacklightError(`cannot decode image '${source}': its samples are '${depth}' (${format}); only 8- and 16-bit integer images are read, since other ranges have no agreed mapping to 0…255 (convert the file, or pass the preprocessed tensor with --input-npy)`);
  }
}

/** A one-line reason from a sharp/libvips error. */
function decodeReason(e: unknown, bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  const msg = ((e as Error)?.message ?? String(e)).split('\n')[0]!.trim();
  if (/unsupported image format/i.test(msg)) return 'not an image in a supported format (PNG, JPEG, WebP, GIF, TIFF, AVIF…)';
  if (/premature|truncat|read error|corrupt|unexpected end|invalid|bad /i.test(msg)) return `the file is damaged or truncated (${msg})`;
  return msg.replace(/^Input (buffer|file) /, '') || 'unknown decoding error';
}
