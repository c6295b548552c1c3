/**
 * Inputs in the page: image files decoded by the browser to RGBA at their own size
 * (src/io/loadImageWeb.ts: no canvas resampling) and preprocessed by the command line's own code
 * (src/io/preprocessImage.ts: Pillow's bilinear resize in TypeScript, the same resize/crop plan,
 * normalization and layout), so the page and `backlight explain` feed the same tensor for the same
 * decoded pixels (test/preprocess.api.test.ts checks it in Chromium on the shared photos); and
 * .npy tensors.
 */
import { BacklightError } from '../../src/errors.js';
import { decodeNpy, type NpyArray } from '../../src/io/npy.js';
import { decodeBlob } from '../../src/io/loadImageWeb.js';
import { inputDims, tensorToImage, type Preprocess } from '../../src/io/preprocess.js';
import { preprocessWith, type DecodedImage, type PreprocessPlan } from '../../src/io/preprocessImage.js';
import { minMaxGray, type ImageGeometry, type PixelImage } from '../../src/render/index.js';
import type { TensorLike } from '../../src/core.js';

/** One input ready to explain: the tensor [1, …], and what the overlays are drawn on. */
export interface PreparedInput {
  tensor: TensorLike;
  /** The input as the model sees it, at the input size. */
  display: PixelImage;
  geometry: ImageGeometry;
  /** For image files: the decoded photo at its own size, and how it became the input (for overlays on the original). */
  image?: DecodedImage;
  plan?: PreprocessPlan;
}

/**
 * An image file → the model input: decoded by the browser (EXIF orientation applied,
 * transparency flattened onto white), resized and normalized exactly as the command line does.
 */
export async function decodeImage(file: Blob, name: string, p: Preprocess): Promise<PreparedInput> {
  return prepareImage(await decodeBlob(file, name), p);
}

/** A decoded image → the model input, with the command line's preprocessing. */
export function prepareImage(image: DecodedImage, p: Preprocess): PreparedInput {
  const { tensor, display, plan } = preprocessWith(image, p);
  return { tensor, display, geometry: geometryOf(p), image, plan };
}

export function readNpy(bytes: ArrayBuffer, name: string): NpyArray {
  const a = decodeNpy(new Uint8Array(bytes), name);
  if (a.dims.length < 2) throw new BacklightError(`${name}: shape [${a.dims}] is not an image [C, H, W] or a batch of images [N, …]`);
  // One image without the batch axis: make it a batch of one.
  if (a.dims.length === 3) return { data: a.data, dims: [1, ...a.dims] };
  return a;
}

/**
 * Image `index` of a .npy batch: the tensor as it is, drawn through the preprocessing's inverse
 * when its shape fits (else as the min-max gray of its channels).
 */
export function npyImage(a: NpyArray, index: number, p: Preprocess | null): PreparedInput {
  const per = a.data.length / a.dims[0]!;
  const tensor = { data: a.data.slice(index * per, (index + 1) * per), dims: [1, ...a.dims.slice(1)] };
  if (p && sameDims(tensor.dims, inputDims(p, 1))) {
    const img = tensorToImage(tensor, p);
    return { tensor, display: img, geometry: geometryOf(p) };
  }
  const [c, h, w] = tensor.dims.length === 4 ? (tensor.dims.slice(1) as [number, number, number]) : [1, tensor.dims.at(-2) ?? 1, tensor.dims.at(-1) ?? per];
  const geometry: ImageGeometry = { layout: 'nchw', channels: c, height: h, width: w };
  return { tensor, display: { data: minMaxGray(tensor.data, geometry), width: w, height: h }, geometry };
}

function geometryOf(p: Preprocess): ImageGeometry {
  return { layout: p.layout, channels: p.channels === 'gray' ? 1 : 3, height: p.height, width: p.width };
}

const sameDims = (a: readonly number[], b: readonly number[]): boolean => a.length === b.length && a.every((d, i) => d === b[i]);
