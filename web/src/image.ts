/**
 * Inputs in the page: image files decoded by the browser and preprocessed like the command line
 * does (src/io/preprocess.ts: the same resize/crop plan, normalization and layout), and .npy
 * tensors. Resizing uses the browser's own high-quality resampling, so a resized photo can differ
 * from the command line's (libvips) by a grey level here and there; an image already at the input
 * size is taken as it is.
 */
import { BacklightError } from '../../src/errors.js';
import { decodeNpy, type NpyArray } from '../../src/io/npy.js';
import { inputDims, modelPicture, resizePlan, tensorToImage, toTensor, type Preprocess } from '../../src/io/preprocess.js';
import { minMaxGray, type ImageGeometry, type PixelImage } from '../../src/render/index.js';
import type { TensorLike } from '../../src/core.js';

/** One input ready to explain: the tensor [1, …], and what the overlays are drawn on. */
export interface PreparedInput {
  tensor: TensorLike;
  display: PixelImage;
  geometry: ImageGeometry;
}

/** Decodes an image file to 8-bit RGB at the input size (EXIF orientation applied, transparency on white). */
export async function decodeImage(file: Blob, name: string, p: Preprocess): Promise<PreparedInput> {
  let bitmap: ImageBitmap;
  try {
    if (file.size === 0) throw new Error('empty');
    bitmap = await createImageBitmap(file, { imageOrientation: 'from-image', premultiplyAlpha: 'none' });
  } catch {
    const why = file.size === 0 ? 'the file is empty' : 'not an image in a supported format (PNG, JPEG, WebP, GIF, AVIF…), or the file is damaged';
    throw new BacklightError(`cannot decode image '${name}': ${why}`);
  }
  const plan = resizePlan(bitmap.width, bitmap.height, p);
  const canvas = new OffscreenCanvas(p.width, p.height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true })!;
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, p.width, p.height);
  ctx.imageSmoothingEnabled = true;
  ctx.imageSmoothingQuality = 'high';
  ctx.drawImage(bitmap, -plan.left, -plan.top, plan.width, plan.height);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, p.width, p.height).data;
  const n = p.width * p.height;
  const rgb = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    rgb[i * 3] = rgba[i * 4]!;
    rgb[i * 3 + 1] = rgba[i * 4 + 1]!;
    rgb[i * 3 + 2] = rgba[i * 4 + 2]!;
  }
  const tensor = toTensor(rgb, p.width, p.height, p);
  return { tensor, display: { data: modelPicture(rgb, p.width, p.height, p), width: p.width, height: p.height }, geometry: geometryOf(p) };
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
