/**
 * The pictures `backlight explain` draws for each image of an input, in memory (the caller writes
 * them with the other files of the input, all or none):
 *
 * - `<method>__<target>.png`: the heatmap at the input's resolution. By default every method is
 *   shown as a magnitude, max |·| over the channels with the sequential colormap (as Simonyan et
 *   al. show saliency maps); `--signed` shows the sum over the channels with the diverging
 *   colormap centred at 0 instead. Either way scaled by the `--clip` percentile (99.5).
 * - `<method>__<target>_overlay.png`: that heatmap over the picture in dimmed gray (opacity
 *   `--opacity` × the normalized magnitude, so weak areas show the image). For image files, over
 *   the original photo at its resolution (`--overlay-on original`, the default): the map is
 *   upsampled through the inverse of the resize (and centre crop: outside the crop window the photo
 *   is dimmed, `OUTSIDE_CROP`); `--overlay-on input` draws it over the model's input, as .npy
 *   inputs are.
 * - `grid.png`: rows = methods, columns = targets, the input first (Nie et al. 2018, Fig. 2); the
 *   column headers give the class (and name with --labels) and its softmax probability. A class
 *   met twice (`--target max,285` when 285 is predicted) gets one column. Each row ends in a
 *   colorbar: the values of its one map, or `0 … max` / `−max … 0 … +max` when the row has several
 *   maps (each map is scaled by its own `--clip` percentile).
 *
 * For a batch of N > 1 images (a .npy input), every name gets `_<n>` (the image's index) before
 * `.png` / `_overlay.png`: `gradient__3_0.png`, `grid_0.png`.
 */
import { basename } from 'node:path';
import { encodePng, gridPng } from '../io/png.js';
import { displayOf, drawAttribution, formatProbability, inputIndependenceNote, OVERLAY_STYLE, positionLabel, type ExplainMethodName, type Explanation } from '../core.js';
import {
  COLORMAP_KIND,
  estimateTextWidth,
  formatTick,
  layoutGrid,
  overlay,
  type ColormapName,
  type GridColorbar,
  type GridSpec,
  type ImageGeometry,
  type PixelImage,
  type OverlayPlan,
  type PhotoLike,
  type RGBAImage,
} from '../render/index.js';
import { className, softmaxRow, topPredictions, type TargetSlot } from './summary.js';

export interface PictureOptions {
  /** Draw PNGs at all (`--no-png` turns them off). */
  png: boolean;
  /** `--signed`: show the signed channel sum of methods whose attributions have meaningful signs. */
  signed: boolean;
  /** Percentile of the map that gets full colour. */
  clip: number;
  /** Overlay opacity. */
  opacity: number;
  /** `--colormap`: one colormap for every heatmap (default: each kind's own). */
  colormap?: ColormapName;
  /** `--overlay-on`: over the original photo (image files) or over the model's input. */
  overlayOn: 'original' | 'input';
}

// How methods are drawn (shared with the browser page): src/methods/display.ts.
export { OVERLAY_STYLE, displayOf, formatProbability, type MethodDisplay } from '../core.js';

/** The notes of a run: the plan's (targets merged), then one per method whose maps cannot depend on the image. */
export function runNotes(planNotes: readonly string[], methods: readonly string[], graph: Parameters<typeof inputIndependenceNote>[1]): string[] {
  return [...planNotes, ...methods.map((m) => inputIndependenceNote(m, graph)).filter((n): n is string => n !== null)];
}

/** Brightness of the photo outside the crop window in overlays: dimmed, so the window the model saw stands out. */
export const OUTSIDE_CROP = 0.5;

/** Grid tiles are at least this many pixels on their longer side (small inputs are scaled up). */
export const MIN_TILE = 192;

/** The tile size of the grid for an input of width × height: scaled up by an integer factor to ≥ MIN_TILE. */
export function gridTile(width: number, height: number): { width: number; height: number } {
  const f = Math.max(1, Math.ceil(MIN_TILE / Math.max(width, height)));
  return { width: width * f, height: height * f };
}

/** The grid's layout spec: rows = methods, one header (lines) per target, the input first, a colorbar per row when given. */
export function gridSpec(
  methods: readonly string[],
  headers: readonly (readonly string[])[],
  geometry: { width: number; height: number },
  title: string,
  colorbars?: readonly (GridColorbar | null)[],
): GridSpec {
  // Room for the longest tick text formatTick writes ('−1.2e-10'), so the size does not depend on the values.
  const tickWidth = estimateTextWidth('−1.2e-10', 14);
  return { rows: methods, columns: headers, tile: gridTile(geometry.width, geometry.height), title, input: 'first-row', inputLabel: 'input', ...(colorbars ? { colorbars, tickWidth } : {}) };
}

/**
 * A grid row's colorbar: the values of its one map (`scale` = the map's value at full colour), or
 * `0 … max` / `−max … 0 … +max` when the row holds several maps, each with its own scale. A
 * magnitude on a diverging colormap is drawn on its upper half (0 at the centre): so is the strip.
 */
export function rowColorbar(colormap: ColormapName, signed: boolean, scales: readonly number[]): GridColorbar {
  const one = scales.length === 1 && scales[0]! > 0 ? scales[0]! : null;
  const text = (v: -1 | 1): string => (one !== null ? formatTick(v * one) : v < 0 ? '−max' : signed ? '+max' : 'max');
  const ticks = signed ? [{ at: 0, text: text(-1) }, { at: 0.5, text: '0' }, { at: 1, text: text(1) }] : [{ at: 0, text: '0' }, { at: 1, text: text(1) }];
  return { colormap, ticks, ...(!signed && COLORMAP_KIND[colormap] === 'diverging' ? { from: 0.5 } : {}) };
}

export function pictureName(method: ExplainMethodName, slotName: string, n: number, batch: number, overlay: boolean): string {
  return `${method}__${slotName}${batch > 1 ? `_${n}` : ''}${overlay ? '_overlay' : ''}.png`;
}

export function gridName(n: number, batch: number): string {
  return batch > 1 ? `grid_${n}.png` : 'grid.png';
}

/** One picture drawn: its file name (in the input's folder) and PNG bytes. */
export interface Picture {
  name: string;
  data: Uint8Array;
}

export interface ImagePictures {
  /** The PNGs in order: heatmaps and overlays per method and target, then the grid. */
  pictures: Picture[];
  /** names[method][k]: the heatmap and overlay of slot k. */
  names: Partial<Record<ExplainMethodName, Array<{ png: string; overlay: string }>>>;
  grid: string;
}

/** What `drawImage` needs of an input. */
export interface PictureInput {
  source: string;
  geometry: ImageGeometry;
  display: readonly PixelImage[];
  batch: number;
  /** An image file's decoded photo at its own size and how it became the input (for `--overlay-on original`). */
  photo?: { image: PhotoLike; plan: OverlayPlan };
}

function withoutAlpha(img: RGBAImage): Uint8Array {
  const n = img.width * img.height;
  const out = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) {
    out[i * 3] = img.data[i * 4]!;
    out[i * 3 + 1] = img.data[i * 4 + 1]!;
    out[i * 3 + 2] = img.data[i * 4 + 2]!;
  }
  return out;
}

/** The column header of slot k for image n: the class, then its probability (and the spec when it is not the class). */
export function slotHeader(slot: TargetSlot, n: number, probability: number, labels: readonly string[] | null): string[] {
  const c = slot.classes[n]!;
  const spec = slot.spec === String(c) ? '' : ` (${positionLabel(slot)})`;
  return [className(c, labels), `p=${formatProbability(probability)}${spec}`];
}

/** What `drawImage` needs of an explanation (an earlier run's can be read back from its files). */
export type DrawableResult = Pick<Explanation<ExplainMethodName>, 'method' | 'logits' | 'attributionAt'>;

/** Draws every picture of image n of an input (nothing is written here). */
export async function drawImage(
  input: PictureInput,
  n: number,
  results: readonly DrawableResult[],
  slots: readonly TargetSlot[],
  labels: readonly string[] | null,
  options: PictureOptions,
): Promise<ImagePictures> {
  const { geometry } = input;
  const { width, height } = geometry;
  const display = input.display[n]!;
  const logits = results[0]!.logits;
  const probs = softmaxRow(logits, n);
  const pictures: Picture[] = [];
  const names: ImagePictures['names'] = {};
  const cells: RGBAImage[][] = [];
  const colorbars: GridColorbar[] = [];
  // Grid columns: the first slot of each class of this image (a class met twice is drawn once).
  const columns = slots.map((_, k) => k).filter((k) => slots.findIndex((s) => s.classes[n] === slots[k]!.classes[n]) === k);
  const photo = options.overlayOn === 'original' ? input.photo : undefined;
  for (const r of results) {
    const how = displayOf(r.method, options.signed, options.colormap);
    const row: RGBAImage[] = [];
    const scales: number[] = [];
    const rowNames: Array<{ png: string; overlay: string }> = [];
    const drawn = new Set<string>();
    for (const [k, slot] of slots.entries()) {
      const { map, heat, overlay: over } = drawAttribution(r.attributionAt(n, k), geometry, display, how, { clip: options.clip, opacity: options.opacity });
      if (columns.includes(k)) {
        row.push(heat);
        scales.push(heat.scale);
      }
      const png = pictureName(r.method, slot.name, n, input.batch, false);
      const overlayName = pictureName(r.method, slot.name, n, input.batch, true);
      rowNames.push({ png, overlay: overlayName });
      if (drawn.has(png)) continue; // the same class twice (e.g. max and its index): the same picture
      drawn.add(png);
      pictures.push({ name: png, data: await encodePng(withoutAlpha(heat), width, height) });
      // Over the photo: the same normalization (the clip percentile of the map at the input's
      // resolution), upsampled through the inverse of the resize.
      const onPhoto = photo
        ? overlay(photo.image, { data: map, width, height }, { plan: photo.plan, alpha: options.opacity, colormap: how.colormap, sign: how.signed ? 'all' : 'absolute_value', clip: options.clip, ...OVERLAY_STYLE, outside: OUTSIDE_CROP })
        : over;
      pictures.push({ name: overlayName, data: await encodePng(withoutAlpha(onPhoto), onPhoto.width, onPhoto.height) });
    }
    cells.push(row);
    colorbars.push(rowColorbar(how.colormap, how.signed, scales));
    names[r.method] = rowNames;
  }
  const headers = columns.map((k) => slotHeader(slots[k]!, n, probs[slots[k]!.classes[n]!]!, labels));
  const best = topPredictions(logits, n, labels, 1)[0]!;
  const title = `${basename(input.source)}${input.batch > 1 ? ` [${n}]` : ''}: predicted ${className(best.index, labels)} (p=${formatProbability(best.probability)})`;
  const layout = layoutGrid(gridSpec(results.map((r) => r.method), headers, geometry, title, colorbars));
  const grid = gridName(n, input.batch);
  pictures.push({ name: grid, data: await gridPng(layout, { input: display, cells }) });
  return { pictures, names, grid };
}
