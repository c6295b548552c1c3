/**
 * Drawing the page's parts from data: the backend badge, the class list, the grid of maps and
 * overlays (rows = methods, columns = targets, the input first, as `backlight explain`'s grid.png)
 * and the downloads of each map. The pictures come from the library's renderer (src/render/);
 * overlays of a photo are drawn over the photo itself (photo.ts).
 *
 * `renderGrid` also returns what it drew as a `FigureModel`, which figure.ts turns into one PNG.
 */
import { encodeNpy } from '../../src/io/npy.js';
import type { Preprocess } from '../../src/io/preprocess.js';
import { className, type Prediction } from '../../src/core.js';
import { COLORMAP_KIND, DEFAULT_PERCENTILE, colormapLUT, LUT_SIZE, toRGBA, type ColormapName, type ImageGeometry, type PixelImage } from '../../src/render/index.js';
import { displayOf, drawAttribution, formatProbability, methodLabel, methodSummary as summaryOf, slotAt, type ExplainMethodName } from '../../src/core.js';
import { photoOverlay, type Photo } from './photo.js';
import type { BackendInfo, MethodResult } from './protocol.js';

/** Overlay opacity: the command line's --opacity default. */
const OPACITY = 0.6;
/** Shown size of a tile's longer side in CSS pixels (small maps are scaled up by a whole factor, without smoothing). */
export const TILE = 224;
/** The range `tileSize` chooses from. */
export const TILE_MIN = 160;
export const TILE_MAX = 256;

/**
 * The tile size that fits the grid (the method labels, the input, a map and an overlay per target)
 * into `width` CSS pixels, within [TILE_MIN, TILE_MAX]; a wider grid scrolls in its box.
 */
export function tileSize(width: number, targets: number): number {
  const labels = 150;
  const gaps = 16 * (2 + 2 * targets) + 12 * targets;
  const fit = Math.floor((width - labels - gaps) / (1 + 2 * targets));
  return Math.max(TILE_MIN, Math.min(TILE_MAX, fit));
}

/** What a tile shows: a map (pixels matter: enlarged without smoothing) or a photo (enlarged smoothly). */
export type TileKind = 'map' | 'photo';

export function methodSummary(m: ExplainMethodName): string {
  return summaryOf(m);
}

export function backendText(b: BackendInfo): string {
  const wasm = `wasm · ${b.threads} thread${b.threads === 1 ? '' : 's'}${b.simd ? ' · SIMD' : ''}`;
  const base = b.providers[0] === 'webgpu' ? `WebGPU (${wasm} for the rest)` : b.fallback ? `${wasm} (WebGPU failed)` : wasm;
  return b.crossOriginIsolated ? base : `${base} · not cross-origin isolated`;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, props: Partial<HTMLElementTagNameMap[K]> = {}, ...children: (Node | string)[]): HTMLElementTagNameMap[K] {
  const e = Object.assign(document.createElement(tag), props);
  e.append(...children);
  return e;
}

/**
 * The shown size of a w × h picture whose longer side should be about `size`: an image smaller than
 * that is scaled up by a whole factor (crisp pixels), a larger one scaled down to fit.
 */
export function shownSize(w: number, h: number, size: number): { width: number; height: number; scale: number } {
  const longer = Math.max(w, h);
  const scale = longer <= size ? Math.max(1, Math.floor(size / longer)) : size / longer;
  return { width: Math.round(w * scale), height: Math.round(h * scale), scale };
}

/** A canvas at the image's own resolution, shown with its longer side about `size` CSS pixels. */
export function canvasOf(image: PixelImage, size = TILE, kind: TileKind = 'map'): HTMLCanvasElement {
  const rgba = toRGBA(image);
  const c = el('canvas', { width: image.width, height: image.height });
  c.getContext('2d')!.putImageData(new ImageData(new Uint8ClampedArray(rgba.data), image.width, image.height), 0, 0);
  const shown = shownSize(image.width, image.height, size);
  c.style.width = `${shown.width}px`;
  c.style.height = `${shown.height}px`;
  c.dataset.kind = kind;
  // Enlarged pictures keep their pixels; pictures shown smaller are smoothed.
  c.classList.add(shown.scale > 1 || (kind === 'map' && shown.scale === 1) ? 'pixelated' : 'smooth');
  return c;
}

/** A horizontal colorbar of a colormap: `signed` spans −1…1 with 0 in the middle, else 0…1. */
export function colorbarCanvas(colormap: ColormapName, signed: boolean, width = 120, height = 10): HTMLCanvasElement {
  const c = el('canvas', { width, height, className: 'colorbar' });
  const ctx = c.getContext('2d')!;
  const lut = colormapLUT(colormap);
  const img = ctx.createImageData(width, height);
  for (let x = 0; x < width; x++) {
    // Signed maps use the whole colormap; magnitudes on a diverging one only its upper half (as colorize).
    const f = x / (width - 1);
    const pos = !signed && COLORMAP_KIND[colormap] === 'diverging' ? 0.5 + f / 2 : f;
    const k = Math.round(pos * (LUT_SIZE - 1)) * 3;
    for (let y = 0; y < height; y++) img.data.set([lut[k]!, lut[k + 1]!, lut[k + 2]!, 255], (y * width + x) * 4);
  }
  ctx.putImageData(img, 0, 0);
  return c;
}

export function saveBlob(blob: Blob, name: string): void {
  const url = URL.createObjectURL(blob);
  const a = el('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

export function saveCanvas(canvas: HTMLCanvasElement, name: string): void {
  canvas.toBlob((b) => b && saveBlob(b, name), 'image/png');
}

export function renderPredictions(list: HTMLElement, predictions: readonly Prediction[], targets: readonly number[], labels: readonly string[] | null, onClick: (index: number) => void): void {
  list.replaceChildren(
    ...predictions.map((p) => {
      const bar = el('span', { className: 'bar' });
      bar.style.width = `${Math.max(1, Math.round(p.probability * 100))}%`;
      const button = el(
        'button',
        { type: 'button', className: targets.includes(p.index) ? 'class selected' : 'class', title: `logit ${p.logit.toFixed(3)}` },
        el('span', { className: 'label' }, className(p.index, labels)),
        el('span', { className: 'score' }, `p = ${formatProbability(p.probability)}`),
        bar,
      );
      button.dataset.class = String(p.index);
      button.addEventListener('click', () => onClick(p.index));
      return el('li', {}, button);
    }),
  );
}

export interface GridData {
  /** The input as the model sees it (its size). */
  display: PixelImage;
  geometry: ImageGeometry;
  /** The photo the input came from, with the preprocessing that made the input: overlays go over it. */
  photo: { photo: Photo; preprocess: Preprocess } | null;
  results: readonly MethodResult[];
  /** Softmax of the logits, per class. */
  probabilities: Float64Array;
  labels: readonly string[] | null;
  signed: boolean;
  /** The tiles' longer side in CSS pixels (default TILE). */
  tile?: number;
}

/** What the grid shows, for the whole-figure export (figure.ts). */
export interface FigureModel {
  input: HTMLCanvasElement;
  /** One per target: the class and its probability. */
  columns: { title: string; subtitle: string }[];
  rows: {
    title: string;
    colormap: ColormapName;
    signed: boolean;
    /** Per target: the map tile, the overlay tile, and the map value shown at full colour. */
    cells: { map: HTMLCanvasElement; overlay: HTMLCanvasElement; scale: number }[];
  }[];
}

/** "0 … max" or "−max … 0 … +max": what the ends of a colorbar mean (each map is scaled to its own max). */
export const colorbarLegend = (signed: boolean): string[] => (signed ? ['−max', '0', '+max'] : ['0', 'max']);

/**
 * The grid: a header row (input, then one column per target), then a row per method. A click on
 * any picture calls `onEnlarge` with it.
 */
export function renderGrid(container: HTMLElement, data: GridData, onEnlarge: (canvas: HTMLCanvasElement) => void): FigureModel {
  const targets = data.results[0]?.targets ?? [];
  const table = el('table', { className: 'maps' });
  const columns = targets.map((t) => ({ title: className(t, data.labels), subtitle: `p = ${formatProbability(data.probabilities[t] ?? 0)}` }));
  const head = el('tr', {}, el('th'), el('th', {}, 'input'));
  for (const c of columns) head.append(el('th', { className: 'target' }, c.title, el('div', { className: 'small' }, c.subtitle)));
  table.append(head);
  const tile = data.tile ?? TILE;
  const input = data.photo ? canvasOf(data.photo.photo.image, tile, 'photo') : canvasOf(data.display, tile);
  input.title = 'input';
  const clickable = (c: HTMLCanvasElement): HTMLCanvasElement => {
    c.tabIndex = 0;
    c.addEventListener('click', () => onEnlarge(c));
    c.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' || e.key === ' ') {
        e.preventDefault();
        onEnlarge(c);
      }
    });
    return c;
  };
  clickable(input);
  const rows: FigureModel['rows'] = [];
  data.results.forEach((r, row) => {
    const how = displayOf(r.method, data.signed);
    const timing = [...(r.timings.compileMs > 0 ? [`compile ${Math.round(r.timings.compileMs)} ms`] : []), `run ${Math.round(r.timings.runMs)} ms`].map((t) => el('div', { className: 'small' }, t));
    const legend = colorbarLegend(how.signed);
    const bar = el('div', { className: 'legend', title: `${how.signed ? 'signed channel sum' : 'max |·| over channels'}, each map scaled to its 99.5th percentile` }, colorbarCanvas(how.colormap, how.signed), el('div', { className: 'ends' }, ...legend.map((t) => el('span', {}, t))));
    const tr = el('tr', {}, el('th', { className: 'method', title: methodSummary(r.method) }, methodLabel(r.method), ...timing, bar));
    tr.append(el('td', {}, row === 0 ? input : ''));
    const figureRow: FigureModel['rows'][number] = { title: methodLabel(r.method), colormap: how.colormap, signed: how.signed, cells: [] };
    r.targets.forEach((t, k) => {
      const values = slotAt(r.attribution, 0, k);
      const drawn = drawAttribution(values, data.geometry, data.display, how, { clip: DEFAULT_PERCENTILE, opacity: OPACITY });
      const map = clickable(canvasOf(drawn.heat, tile));
      const overlay = data.photo
        ? canvasOf(photoOverlay(drawn.map, data.photo.photo, data.photo.preprocess, { signed: how.signed, colormap: how.colormap, clip: DEFAULT_PERCENTILE, opacity: OPACITY }), tile, 'photo')
        : canvasOf(drawn.overlay, tile);
      clickable(overlay);
      const name = className(t, data.labels);
      map.title = `${methodLabel(r.method)}, ${name}: ${how.signed ? 'signed channel sum' : 'max |·| over channels'} (click to enlarge)`;
      overlay.title = `${methodLabel(r.method)}, ${name}: overlay${data.photo ? ' on the photo' : ''} (click to enlarge)`;
      const stem = `${r.method}__${t}`;
      const npyDims = [1, ...r.attribution.dims.slice(2)];
      const link = (text: string, action: () => void): HTMLButtonElement => {
        const b = el('button', { type: 'button', className: 'link' }, text);
        b.addEventListener('click', action);
        return b;
      };
      const downloads = el(
        'div',
        { className: 'downloads' },
        link('map.png', () => saveCanvas(map, `${stem}.png`)),
        link('overlay.png', () => saveCanvas(overlay, `${stem}_overlay.png`)),
        link('.npy', () => saveBlob(new Blob([encodeNpy(values.slice(), npyDims) as Uint8Array<ArrayBuffer>]), `${stem}.npy`)),
      );
      const cell = el('td', { className: 'cell' }, el('div', { className: 'pair' }, map, overlay), downloads);
      cell.dataset.method = r.method;
      cell.dataset.class = String(t);
      tr.append(cell);
      figureRow.cells.push({ map, overlay, scale: drawn.heat.scale });
    });
    table.append(tr);
    rows.push(figureRow);
  });
  container.replaceChildren(table);
  return { input, columns, rows };
}
