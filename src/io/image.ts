/**
 * Image files → model input tensors (Node only: decoding uses sharp/libvips).
 *
 * Any format sharp reads (PNG, JPEG, WebP, GIF, TIFF, AVIF, …) is decoded to 8-bit sRGB: EXIF
 * orientation is applied, transparency is flattened onto white, gray and CMYK images become RGB
 * and 16-bit images 8-bit. The image is then resized (bilinear; the whole image to the input size,
 * or the shorter side before a centre crop — see preprocess.ts) and converted with `toTensor`.
 * A damaged file is refused rather than half-decoded: libvips warnings (e.g. a truncated JPEG)
 * count as errors.
 */
import { readFile } from 'node:fs/promises';
import sharp, { type OutputInfo } from 'sharp';
import { fsReason } from './files.js';
import { BacklightError } from '../errors.js';
import type { TensorLike } from '../ir/tensor.js';
import { inputDims, modelPicture, resizePlan, toTensor, type Preprocess } from './preprocess.js';

/** 8-bit RGB pixels, row-major. */
export interface RGBImage {
  data: Uint8Array;
  width: number;
  height: number;
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
  /**
   * The decoded photo at its own size (RGB) and how it became the input: resized to
   * `plan.width` × `plan.height`, then the input-sized window at (`plan.left`, `plan.top`) taken.
   * For overlays on the original photo (`backlight explain --overlay-on original`).
   */
  photo: { image: RGBImage; plan: { width: number; height: number; left: number; top: number } };
}

/** Reads and preprocesses one image file. Throws a BacklightError naming the file. */
export async function loadImage(path: string, preprocess: Preprocess): Promise<LoadedImage> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (e) {
    throw new BacklightError(`cannot read image '${path}': ${fsReason(e)}`);
  }
  return decodeImage(bytes, preprocess, path);
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
  // 1. Decode the whole image to 8-bit RGB.
  let full: { data: Buffer; info: OutputInfo };
  let format: string;
  try {
    if (bytes.length === 0) throw new Error('empty');
    format = (await sharp(bytes).metadata()).format ?? 'unknown';
    full = await sharp(bytes, { failOn: 'warning' })
      .autoOrient()
      .flatten({ background: { r: 255, g: 255, b: 255 } })
      .toColourspace('srgb')
      .removeAlpha()
      .raw({ depth: 'uchar' })
      .toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw new BacklightError(`cannot decode image '${source}': ${decodeReason(e, bytes)}`);
  }
  const { width: w0, height: h0, channels } = full.info;
  if (channels !== 3) throw new Error(`decoded '${source}' to ${channels} channels, expected 3`);

  // 2. Resize (and crop) to the input size; an image of the input size is taken as it is.
  const { width, height } = preprocess;
  const plan = resizePlan(w0, h0, preprocess);
  let pipeline = sharp(full.data, { raw: { width: w0, height: h0, channels: 3 } });
  if (plan.width !== w0 || plan.height !== h0) pipeline = pipeline.resize(plan.width, plan.height, { fit: 'fill', kernel: 'linear' });
  if (plan.width !== width || plan.height !== height) pipeline = pipeline.extract({ left: plan.left, top: plan.top, width, height });
  const resized = await pipeline.raw().toBuffer({ resolveWithObject: true });
  const rgb = new Uint8Array(resized.data.buffer, resized.data.byteOffset, resized.data.length);
  if (resized.info.width !== width || resized.info.height !== height || resized.info.channels !== 3) {
    throw new Error(`resizing '${source}' gave ${resized.info.width}×${resized.info.height}×${resized.info.channels}, expected ${width}×${height}×3`);
  }

  // 3. Normalize; the display image shows what the model gets (gray for a gray model).
  const tensor = toTensor(rgb, width, height, preprocess);
  const display = modelPicture(rgb, width, height, preprocess);
  const photo = { image: { data: new Uint8Array(full.data.buffer, full.data.byteOffset, full.data.length), width: w0, height: h0 }, plan };
  return { source, tensor, display: { data: display, width, height }, original: { width: w0, height: h0, format }, photo };
}

/** A one-line reason from a sharp/libvips error. */
function decodeReason(e: unknown, bytes: Uint8Array): string {
  if (bytes.length === 0) return 'the file is empty';
  const msg = ((e as Error)?.message ?? String(e)).split('\n')[0]!.trim();
  if (/unsupported image format/i.test(msg)) return 'not an image in a supported format (PNG, JPEG, WebP, GIF, TIFF, AVIF…)';
  if (/premature|truncat|read error|corrupt|unexpected end|invalid|bad /i.test(msg)) return `the file is damaged or truncated (${msg})`;
  return msg.replace(/^Input (buffer|file) /, '') || 'unknown decoding error';
}
