/**
 * PNG output (Node only: encoding uses sharp). Files are written atomically with the CLI's
 * `writeFileAtomic` (temporary file + rename), so a reader never sees half a PNG.
 *
 * Grids: the tiles are pasted by `composeGrid` (src/render, pure), the labels are SVG text from
 * `labelsSvg`, rendered by sharp's librsvg with the system's fonts (fontconfig; DejaVu Sans on
 * Debian's fonts-dejavu-core) and composited on top.
 */
import sharp from 'sharp';
import { writeFileAtomic } from './files.js';
import { channelsOf, composeGrid, labelsSvg, type GridContent, type GridLayout, type PixelImage, type Resample } from '../render/index.js';

/** PNG bytes of 8-bit pixels with 1 (gray), 3 or 4 channels (the count follows from the length). */
export async function encodePng(pixels: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<Uint8Array> {
  const channels = channelsOf({ data: pixels, width, height });
  let img = sharp(pixels, { raw: { width, height, channels } });
  // sharp would store one raw channel as sRGB; keep a gray PNG gray.
  if (channels === 1) img = img.toColourspace('b-w');
  const buf = await img.png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Writes 8-bit pixels (gray, RGB or RGBA) as a PNG file, atomically; creates the folder. */
export async function writePng(path: string, pixels: Uint8Array | Uint8ClampedArray, width: number, height: number): Promise<void> {
  await writeFileAtomic(path, await encodePng(pixels, width, height));
}

/** Writes a `PixelImage` (e.g. a heatmap or overlay from src/render) as a PNG file. */
export async function writeImagePng(path: string, image: PixelImage): Promise<void> {
  await writePng(path, image.data, image.width, image.height);
}

export interface GridDrawOptions {
  /** How tiles of another size than the layout's are resized (default nearest). */
  resample?: Resample;
  /** CSS font-family list for the labels. */
  fontFamily?: string;
}

/** A figure grid (tiles + labels) as PNG bytes. */
export async function gridPng(layout: GridLayout, content: GridContent, options: GridDrawOptions = {}): Promise<Uint8Array> {
  const canvas = composeGrid(layout, content, options.resample);
  let img = sharp(canvas.data, { raw: { width: canvas.width, height: canvas.height, channels: 4 } });
  if (layout.labels.length > 0) img = img.composite([{ input: Buffer.from(labelsSvg(layout, options.fontFamily)), left: 0, top: 0 }]);
  // The canvas is opaque: store RGB.
  const buf = await img.removeAlpha().png().toBuffer();
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.length);
}

/** Draws a figure grid (see src/render/grid.ts) into a PNG file, atomically. */
export async function drawGrid(path: string, layout: GridLayout, content: GridContent, options: GridDrawOptions = {}): Promise<void> {
  await writeFileAtomic(path, await gridPng(layout, content, options));
}
