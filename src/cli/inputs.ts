/**
 * Inputs of `backlight explain`: .npy batches and image files, both turned into one `InputBatch`
 * (the tensor fed to the model, plus what is needed to draw pictures of it), so everything after
 * loading is the same for both.
 *
 * Preprocessing (`--preset` and its overrides) decides how an image file becomes a tensor; for a
 * .npy input, which is a tensor already, it only tells how to turn the tensor back into a picture
 * for overlays (`tensorToImage`). Without any preprocessing option a .npy input is drawn as the
 * min-max normalized gray of its channels.
 */
import { readFile } from 'node:fs/promises';
import { basename, extname } from 'node:path';
import { BacklightError } from '../errors.js';
import { fsReason } from '../io/files.js';
import { loadImage, type LoadedImage } from '../io/image.js';
import { decodeNpy } from '../io/npy.js';
import {
  PRESET_NAMES,
  isPresetName,
  resolvePreprocess,
  tensorToImage,
  type ChannelOrder,
  type Preprocess,
  type PreprocessOverrides,
  type TensorLayout,
} from '../io/preprocess.js';
import type { Dim } from '../ir/graph.js';
import type { TensorLike } from '../core.js';
import { minMaxGray, type ImageGeometry, type PixelImage } from '../render/index.js';
import { usage } from './options.js';

export type InputKind = 'npy' | 'image';

/** One input as given on the command line. */
export interface InputSpec {
  kind: InputKind;
  file: string;
}

/** One input batch, from a .npy file or an image file. */
export interface InputBatch {
  /** The file it came from, as given. */
  source: string;
  kind: InputKind;
  /** Name of its output folder under --out. */
  stem: string;
  /** The batch fed to the model, [N, …]. */
  tensor: TensorLike;
  /** Shape of one attribution file: the input's own shape ([N, …], or […] without a batch axis). */
  fileDims: number[];
  /** Where the channels of one image of the batch are; null when the input is not image-like. */
  geometry: ImageGeometry | null;
  /** One picture per image of the batch, at the input's resolution (empty when not image-like). */
  display: PixelImage[];
  /** For image files: the decoded file's size and format. */
  original?: { width: number; height: number; format: string };
  /** For image files: the decoded photo and its resize plan (overlays on the original). */
  photo?: LoadedImage['photo'];
}

/** The model as far as inputs care. */
export interface ModelInput {
  inputName: string;
  inputShape: Dim[];
}

/** Preprocessing options as commander parses them. */
export interface PreprocessCliOptions {
  preset?: string;
  size?: string;
  crop?: string | boolean;
  mean?: string;
  std?: string;
  layout?: string;
  channels?: string;
}

/** The preprocessing asked for, checked as far as possible without the model. */
export interface PreprocessRequest {
  preset: string;
  overrides: PreprocessOverrides;
  /** Whether any preprocessing option was given (for .npy inputs: draw with `tensorToImage`). */
  explicit: boolean;
}

function parseNumbers(flag: string, text: string): number[] {
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((p) => p === '') || values.some((v) => !Number.isFinite(v))) {
    throw usage(`${flag} '${text}' is not a comma-separated list of numbers (e.g. 0.485,0.456,0.406)`);
  }
  return values;
}

/** Parses and checks the preprocessing options (the model is checked later, in `resolveInputPreprocess`). */
export function parsePreprocessOptions(opts: PreprocessCliOptions): PreprocessRequest {
  const preset = opts.preset ?? 'none';
  if (!isPresetName(preset)) throw usage(`unknown preprocessing preset '${preset}': use one of ${PRESET_NAMES.join(', ')}`);
  const overrides: PreprocessOverrides = {};
  if (opts.size !== undefined) {
    const m = /^\s*([0-9]+)\s*(?:,\s*([0-9]+)\s*)?$/.exec(opts.size);
    const w = m ? Number(m[1]) : NaN;
    const h = m?.[2] !== undefined ? Number(m[2]) : w;
    if (!(Number.isSafeInteger(w) && Number.isSafeInteger(h) && w > 0 && h > 0)) {
      throw usage(`--size '${opts.size}' must be W or W,H in pixels (positive integers), e.g. 224 or 320,240`);
    }
    overrides.size = [w, h];
  }
  if (opts.crop !== undefined) {
    if (opts.crop === true) overrides.crop = true;
    else {
      const n = Number(opts.crop);
      if (!/^\s*[0-9]+\s*$/.test(String(opts.crop)) || !(n > 0)) throw usage(`--crop '${opts.crop}' must be the shorter side in pixels before the centre crop (a positive integer), or given without a value`);
      overrides.crop = n;
    }
  }
  if (opts.mean !== undefined) overrides.mean = parseNumbers('--mean', opts.mean);
  if (opts.std !== undefined) overrides.std = parseNumbers('--std', opts.std);
  if (opts.layout !== undefined) {
    const layout = opts.layout.trim().toLowerCase();
    if (layout !== 'nchw' && layout !== 'nhwc') throw usage(`--layout '${opts.layout}' must be nchw or nhwc`);
    overrides.layout = layout as TensorLayout;
  }
  if (opts.channels !== undefined) {
    const channels = opts.channels.trim().toLowerCase();
    if (!['rgb', 'bgr', 'gray'].includes(channels)) throw usage(`--channels '${opts.channels}' must be rgb, bgr or gray`);
    overrides.channels = channels as ChannelOrder;
  }
  if (overrides.mean && overrides.std && overrides.mean.length !== overrides.std.length && overrides.mean.length > 1 && overrides.std.length > 1) {
    throw usage(`--mean has ${overrides.mean.length} values but --std has ${overrides.std.length}: give one value per channel for both`);
  }
  const explicit = opts.preset !== undefined || Object.keys(overrides).length > 0;
  return { preset, overrides, explicit };
}

/**
 * The preprocessing for these inputs, checked against the model: always for image files; for
 * .npy inputs only when an option asked for one (null otherwise).
 */
export function resolveInputPreprocess(request: PreprocessRequest, model: ModelInput, kind: InputKind): Preprocess | null {
  if (kind === 'npy' && !request.explicit) return null;
  return resolvePreprocess(request.preset, request.overrides, model.inputShape);
}

/** The output folder name for an input file: its name without the extension. */
export function stemOf(file: string): string {
  const name = basename(file);
  const ext = extname(name);
  return ext && ext !== name ? name.slice(0, -ext.length) : name;
}

export function shapeText(dims: readonly Dim[]): string {
  return `[${dims.join(', ')}]`;
}

/** A tensor batch checked against the model: the batch to feed and the shape of its files. */
export interface FittedInput {
  tensor: TensorLike;
  fileDims: number[];
}

/**
 * Fits an array to the model input: checks its shape ([N, …], or one image without the batch
 * axis) and returns the batch to feed; throws a message with the expected and the actual shape.
 */
export function fitInput(array: TensorLike, model: ModelInput, source: string): FittedInput {
  const expected = model.inputShape;
  const got = array.dims;
  const rest = expected.slice(1);
  const batch = expected[0];
  const anyBatch = typeof batch !== 'number' || batch === 1;
  const wanted = `${shapeText([anyBatch ? 'N' : batch!, ...rest])}${anyBatch ? ` (or ${shapeText(rest)} for one image)` : ''}`;
  const fail = (why = ''): never => {
    throw new BacklightError(`${source}: expected an array of shape ${wanted} for model input '${model.inputName}', got ${shapeText(got)}${why}`);
  };
  let dims: number[];
  if (got.length === expected.length) dims = [...got];
  else if (got.length === expected.length - 1 && anyBatch) dims = [1, ...got];
  else return fail();
  if (dims.some((d) => !Number.isInteger(d) || d < 1)) fail(' (empty arrays cannot be explained)');
  for (let i = 1; i < dims.length; i++) {
    const e = expected[i]!;
    if (typeof e === 'number' && e !== dims[i]) fail();
  }
  if (!anyBatch && dims[0] !== batch) fail();
  return { tensor: { data: array.data, dims }, fileDims: [...got] };
}

/** Where the channels are in a batch [N, …] drawn with `p`, or guessed without (C = 1 or 3 at axis 1, else at axis 3). */
export function imageGeometry(dims: readonly number[], p: Preprocess | null): ImageGeometry | null {
  if (dims.length !== 4) return null;
  const [, d1, d2, d3] = dims as [number, number, number, number];
  const isC = (d: number): boolean => d === 1 || d === 3;
  const layout = p ? p.layout : isC(d1) ? 'nchw' : isC(d3) ? 'nhwc' : null;
  if (layout === null) return null;
  const g: ImageGeometry = layout === 'nchw' ? { layout, channels: d1, height: d2, width: d3 } : { layout, channels: d3, height: d1, width: d2 };
  return isC(g.channels) ? g : null;
}

/** Pictures of every image of a batch: `tensorToImage` with the preprocessing, else min-max gray. */
function displayImages(tensor: TensorLike, geometry: ImageGeometry | null, p: Preprocess | null): PixelImage[] {
  if (!geometry) return [];
  const n = tensor.dims[0]!;
  const per = geometry.channels * geometry.height * geometry.width;
  return Array.from({ length: n }, (_, i): PixelImage => {
    if (p) return tensorToImage(tensor, p, i);
    return { data: minMaxGray(tensor.data.subarray(i * per, (i + 1) * per), geometry), width: geometry.width, height: geometry.height };
  });
}

async function readNpyInput(file: string, model: ModelInput, p: Preprocess | null): Promise<InputBatch> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(file);
  } catch (e) {
    throw new BacklightError(`cannot read input file '${file}': ${fsReason(e)}`);
  }
  const { tensor, fileDims } = fitInput(decodeNpy(bytes, file), model, file);
  const geometry = imageGeometry(tensor.dims, p);
  if (p && (!geometry || geometry.channels !== (p.channels === 'gray' ? 1 : 3))) {
    throw new BacklightError(`${file}: shape ${shapeText(fileDims)} is not a batch of ${p.channels.toUpperCase()} images in ${p.layout.toUpperCase()} layout, as the preprocessing given says`, 'usage');
  }
  return { source: file, kind: 'npy', stem: stemOf(file), tensor, fileDims, geometry, display: displayImages(tensor, geometry, p) };
}

async function readImageInput(file: string, model: ModelInput, p: Preprocess): Promise<InputBatch> {
  const img = await loadImage(file, p);
  const { tensor, fileDims } = fitInput(img.tensor, model, file);
  const geometry = imageGeometry(tensor.dims, p);
  return { source: file, kind: 'image', stem: stemOf(file), tensor, fileDims, geometry, display: [img.display], original: img.original, photo: img.photo };
}

/** Reads one input; `p` is required for image files (see `resolveInputPreprocess`). */
export async function loadInput(spec: InputSpec, model: ModelInput, p: Preprocess | null): Promise<InputBatch> {
  if (spec.kind === 'npy') return readNpyInput(spec.file, model, p);
  if (!p) throw new Error('image inputs need a preprocessing');
  return readImageInput(spec.file, model, p);
}
