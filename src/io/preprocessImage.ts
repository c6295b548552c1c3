/**
 * Decoded image → model input, the one path that Node (sharp decoding, loadImage.ts), the page
 * (browser decoding, loadImageWeb.ts) and the command line share: transparency flattened onto
 * white, Pillow's bilinear resize (resize.ts) to the resize/crop plan, then channel order, x/255,
 * (x − mean)/std and layout (`toTensor`). The same RGBA pixels give the same tensor everywhere.
 *
 * ```ts
 * import { loadImage, preprocess, presets, topK } from 'backlight';
 * const image = await loadImage('cat.jpg');                 // { rgba, width, height, source }
 * const { tensor, plan } = preprocess(image, 'imagenet');   // or { preset: 'imagenet', crop: true }
 * const r = await explainer.explain(tensor, { method: 'lrp', params: { composite: 'gu2018', box: plan.box } });
 * topK(r.logits, 5, presets.imagenet.classes);              // [{ index: 285, name: 'Egyptian cat', … }, …]
 * ```
 */
import { BacklightError } from '../errors.js';
import type { TensorLike } from '../ir/tensor.js';
import { isPresetName, modelPicture, pixelBounds, presets, resizePlan, resolvePreprocess, toTensor, type Preprocess, type PreprocessOverrides, type Preset, type PresetName } from './preprocess.js';
import { resizeBilinear } from './resize.js';

/** A decoded image at its own size: 8-bit RGBA, row-major, not premultiplied. */
export interface DecodedImage {
  rgba: Uint8Array | Uint8ClampedArray;
  width: number;
  height: number;
  /** Where it came from (file name, URL, or the name given): names it in messages. */
  source: string;
}

/** 8-bit RGB pixels, row-major. */
export interface RGBImage {
  data: Uint8Array;
  width: number;
  height: number;
}

/** How an image became the input: enough to map an attribution back onto the original. */
export interface PreprocessPlan {
  /** The resolved preprocessing (size, crop, channels, layout, mean, std). */
  preprocess: Preprocess;
  /** The decoded image's size. */
  source: { width: number; height: number };
  /** The size the whole image was resized to (Pillow bilinear). */
  resized: { width: number; height: number };
  /** The window of the resized image that is the input (the input's size). */
  crop: { left: number; top: number; width: number; height: number };
  /** The same window in the original image's pixels (fractional): where to draw a map over it. */
  region: { x: number; y: number; width: number; height: number };
  /**
   * Per tensor channel, the values of a black and a white pixel, (0 − mean)/std and (1 − mean)/std:
   * LRP's zB box, to pass as `params.box`.
   */
  box: { low: number[]; high: number[] };
  /** The preset's class names, when it has them. */
  classes: readonly string[] | null;
}

export interface PreprocessedImage {
  /** The model input, [1, C, H, W] or [1, H, W, C]. */
  tensor: TensorLike;
  plan: PreprocessPlan;
  /** The input as the model sees it, before normalization (gray repeated in R, G and B for a gray input): for overlays at input size. */
  display: RGBImage;
}

/** A preset (by name or object), optionally with overrides, and the model's input shape to check against. */
export interface PreprocessOptions extends PreprocessOverrides {
  /** Default 'none' (the model's size, x/255): then `size` or `modelShape` must give the size. */
  preset?: PresetName | Preset;
  /** The model's input shape (e.g. `explainer.inputShape`): checked, and gives the size and layout. */
  modelShape?: readonly (number | string)[];
}

/**
 * The model input for a decoded image: `preprocess(image, 'imagenet')`, `preprocess(image,
 * presets.cifar10)`, or with overrides `preprocess(image, { preset: 'imagenet', crop: true })`
 * (torchvision's Resize(256) + CenterCrop(224)). Throws a usage BacklightError for options that do
 * not fit together or do not fit `modelShape`.
 */
export function preprocess(image: DecodedImage, how: PresetName | Preset | PreprocessOptions): PreprocessedImage {
  const { preset, overrides, modelShape } = splitOptions(how);
  const p = resolvePreprocess(preset, overrides, modelShape);
  return preprocessWith(image, p, presets[p.preset].classes);
}

function splitOptions(how: PresetName | Preset | PreprocessOptions): { preset: string; overrides: PreprocessOverrides; modelShape?: readonly (number | string)[] } {
  if (typeof how === 'string') return { preset: how, overrides: {} };
  if (how === null || typeof how !== 'object') throw new BacklightError(`preprocess: expected a preset name (${Object.keys(presets).join(', ')}), a preset or options, got ${String(how)}`, 'usage');
  if ('classes' in how && 'name' in how) {
    // Only the built-in objects: an edited copy would be silently read by its name alone.
    if (presets[how.name as PresetName] !== how) throw new BacklightError(`preprocess: a preset must be one of \`presets\` as it is; to change one, pass options: { preset: '${String(how.name)}', mean, std, size, … }`, 'usage');
    return { preset: how.name, overrides: {} };
  }
  const { preset, modelShape, ...overrides } = how as PreprocessOptions;
  const name = preset === undefined ? 'none' : typeof preset === 'string' ? preset : preset.name;
  if (!isPresetName(name)) return { preset: name, overrides }; // resolvePreprocess names the choices
  return { preset: name, overrides, modelShape };
}

/** The most pixels an image is resized to before its centre crop. */
export const MAX_RESIZED_PIXELS = 2 ** 28;

/** `preprocess` with a resolved preprocessing (the command line's and the page's path). */
export function preprocessWith(image: DecodedImage, p: Preprocess, classes: readonly string[] | null = null): PreprocessedImage {
  const { width: w0, height: h0 } = image;
  checkDecoded(image);
  const rgb = flattenOnWhite(image.rgba, w0, h0);
  const r = resizePlan(w0, h0, p);
  // A crop size far above the input size (--crop 1000000000) would resize to a giant image first:
  // its filter tables alone would not fit in memory.
  if (!(r.width * r.height <= MAX_RESIZED_PIXELS)) {
    throw new BacklightError(
      `image '${image.source}': resizing its ${w0}×${h0} pixels ${p.crop === null ? '' : `so the shorter side is ${p.crop} `}gives ${r.width}×${r.height} pixels, more than ${MAX_RESIZED_PIXELS} (2^28); ${p.crop === null ? 'use a smaller input size' : 'use a crop size near the input size (e.g. 256 for 224)'}`,
      'usage',
    );
  }
  const window = { left: r.left, top: r.top, width: p.width, height: p.height };
  // An image already of the plan's size is copied as it is (Pillow does the same).
  const input = resizeBilinear({ data: rgb, width: w0, height: h0, channels: 3 }, r.width, r.height, window);
  const sx = w0 / r.width;
  const sy = h0 / r.height;
  const plan: PreprocessPlan = {
    preprocess: p,
    source: { width: w0, height: h0 },
    resized: { width: r.width, height: r.height },
    crop: window,
    region: { x: r.left * sx, y: r.top * sy, width: p.width * sx, height: p.height * sy },
    box: pixelBounds(p),
    classes,
  };
  return { tensor: toTensor(input, p.width, p.height, p), plan, display: { data: modelPicture(input, p.width, p.height, p), width: p.width, height: p.height } };
}

function checkDecoded(image: DecodedImage): void {
  const { rgba, width, height, source } = image;
  if (!(Number.isSafeInteger(width) && Number.isSafeInteger(height) && width > 0 && height > 0)) {
    throw new BacklightError(`image '${source}': size ${width}×${height} is not a positive integer size`);
  }
  if (!(rgba instanceof Uint8Array || rgba instanceof Uint8ClampedArray) || rgba.length !== width * height * 4) {
    throw new BacklightError(`image '${source}': expected ${width * height * 4} RGBA bytes for ${width}×${height} pixels, got ${rgba?.length ?? 'none'}`);
  }
}

/**
 * RGBA → RGB over a white background: c · a/255 + 255 · (1 − a/255), rounded (never a tie). The
 * decoders give straight (not premultiplied) alpha; opaque pixels are unchanged.
 */
export function flattenOnWhite(rgba: Uint8Array | Uint8ClampedArray, width: number, height: number): Uint8Array {
  const n = width * height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    const a = rgba[i * 4 + 3]!;
    for (let k = 0; k < 3; k++) {
      const c = rgba[i * 4 + k]!;
      rgb[i * 3 + k] = a === 255 ? c : Math.round((c * a) / 255) + 255 - a;
    }
  }
  return rgb;
}
