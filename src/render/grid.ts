/**
 * Figure grids: rows = methods, columns = targets, the input image in a first column — the layout
 * of Nie et al. (2018), Figure 2. Pure TypeScript (no Node imports).
 *
 * `layoutGrid` computes everything as data: the canvas size, every tile's rectangle and every
 * label's text and position. `composeGrid` pastes tiles into an RGBA canvas, and `labelsSvg`
 * writes the labels as SVG text; the Node side (io/png.ts) composites the two with sharp, and a
 * browser can draw the same labels on a canvas with `fillText` (label `y` is the alphabetic
 * baseline, `anchor` maps to `textAlign` start/center/end).
 *
 * ```
 *  margin
 *  ┌──────────────────────────────────────────────────────────────┐
 *  │               title (optional)                               │
 *  │               input       282 tiger cat   285 Egyptian cat   │  ← column headers
 *  │  gradient    [tile]      [tile]          [tile]              │
 *  │  deconvnet               [tile]          [tile]              │  ← input: 'first-row'
 *  │  guided-bp               [tile]          [tile]              │
 *  └──────────────────────────────────────────────────────────────┘
 * ```
 * Sizes: with L = row-label width (0 when there are no row labels), c columns (targets, plus
 * one for the input unless `input: 'none'`), r rows, tiles w × h:
 *   width  = margin + (L > 0 ? L + gap : 0) + c·w + (c − 1)·gap + margin
 *   height = margin + T + H + gap + r·h + (r − 1)·gap + margin
 * where H = lines · ceil(fontSize · lineHeight) is the header band (`lines`: the most lines of any
 * column header, at least 1) and T the title band: ceil(titleSize · lineHeight) + gap with
 * titleSize = round(1.25 · fontSize), or 0 without title. With `colorbars`, the width grows by
 * gap + B + 6 + (the widest tick text), B = `COLORBAR_WIDTH`: each row's colorbar stands right of
 * its last tile, as tall as the tile, its ticks' text (role 'tick') right of it.
 */
import { escapeControl } from '../errors.js';
import { paintColorbar } from './strip.js';
import type { ColormapName, RGB } from './colormaps.js';
import { resizeRGBA, solidRGBA, type PixelImage, type RGBAImage, type Resample } from './heatmap.js';

export interface GridSpec {
  /** One label per row (the methods); '' for no label. */
  rows: readonly string[];
  /**
   * One header per map column (the targets): a line of text, or several lines (e.g. the class on
   * the first line and its score on the second). Every header starts on the band's first line.
   */
  columns: readonly (string | readonly string[])[];
  /** Tile size in pixels: a square side or {width, height}. */
  tile: number | { width: number; height: number };
  /**
   * Where the input image goes: in the first column of the first row only (default), of every
   * row, or nowhere (no input column).
   */
  input?: 'first-row' | 'each-row' | 'none';
  /** Header of the input column (default 'input'). */
  inputLabel?: string;
  title?: string;
  /** Space between tiles and between bands, in pixels (default 4). */
  gap?: number;
  /** Space around everything (default 8). */
  margin?: number;
  /** Label size in pixels (default 14). */
  fontSize?: number;
  /** Line height as a multiple of the font size (default 1.4). */
  lineHeight?: number;
  /** Width of the row-label column; default: the widest row label as measured. */
  rowLabelWidth?: number;
  /** Width of a text in pixels; default: an estimate, 0.6 · fontSize per character. */
  measureText?: (text: string, fontSize: number) => number;
  background?: RGB;
  textColor?: RGB;
  /** One colorbar per row (null: none for that row). */
  colorbars?: readonly (GridColorbar | null | undefined)[];
  /** Width kept for the colorbars' tick texts; default: the widest tick text as measured. */
  tickWidth?: number;
}

/** A row's colorbar: the colormap from `from` (bottom) to its end (top), and the ticks to mark. */
export interface GridColorbar {
  colormap: ColormapName;
  /** Colormap position at the bottom of the strip (default 0; 0.5: the upper half of a diverging map, where magnitudes are drawn). */
  from?: number;
  /** Ticks: `at` is the height on the strip (0 = bottom, 1 = top), `text` what to write there. */
  ticks: readonly { at: number; text: string }[];
}

/** Width in pixels of a grid's colorbar strips. */
export const COLORBAR_WIDTH = 12;

/** Where a row's colorbar strip goes. */
export interface GridColorbarRect {
  row: number;
  colormap: ColormapName;
  /** Colormap position at the bottom row (the top row is 1). */
  from: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GridTile {
  kind: 'input' | 'map';
  /** Row index (methods). */
  row: number;
  /** Index into `columns` for maps; -1 for the input. */
  column: number;
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface GridLabel {
  role: 'title' | 'column' | 'row' | 'tick';
  /** The text to draw, shortened with '…' to fit `maxWidth`. */
  text: string;
  /** x of the anchor point, y of the alphabetic baseline. */
  x: number;
  y: number;
  anchor: 'start' | 'middle' | 'end';
  fontSize: number;
  maxWidth: number;
}

export interface GridLayout {
  width: number;
  height: number;
  tiles: GridTile[];
  labels: GridLabel[];
  /** The colorbar strips (empty without `colorbars`). */
  colorbars: GridColorbarRect[];
  background: RGB;
  textColor: RGB;
  fontSize: number;
}

/** The default width estimate of a text: 0.6 em per character (DejaVu Sans averages about that). */
export const estimateTextWidth = (text: string, fontSize: number): number => Math.ceil([...text].length * 0.6 * fontSize);

/** Baseline y that centres a line of text of `fontSize` vertically in [top, top + height]. */
const centredBaseline = (top: number, height: number, fontSize: number): number => Math.round(top + height / 2 + 0.35 * fontSize);

/** Shortens `text` with a trailing '…' until it fits `maxWidth` (returns '' when not even '…' fits). */
export function fitText(text: string, maxWidth: number, fontSize: number, measure = estimateTextWidth): string {
  if (measure(text, fontSize) <= maxWidth) return text;
  const chars = [...text];
  for (let n = chars.length - 1; n > 0; n--) {
    const t = `${chars.slice(0, n).join('').trimEnd()}…`;
    if (measure(t, fontSize) <= maxWidth) return t;
  }
  return measure('…', fontSize) <= maxWidth ? '…' : '';
}

export function layoutGrid(spec: GridSpec): GridLayout {
  const gap = spec.gap ?? 4;
  const margin = spec.margin ?? 8;
  const fontSize = spec.fontSize ?? 14;
  const lineHeight = spec.lineHeight ?? 1.4;
  const measure = spec.measureText ?? estimateTextWidth;
  const input = spec.input ?? 'first-row';
  const tw = typeof spec.tile === 'number' ? spec.tile : spec.tile.width;
  const th = typeof spec.tile === 'number' ? spec.tile : spec.tile.height;
  for (const [name, v] of [['tile width', tw], ['tile height', th], ['gap', gap], ['margin', margin], ['font size', fontSize]] as const) {
    if (!(Number.isInteger(v) && v >= (name.startsWith('tile') || name === 'font size' ? 1 : 0))) throw new Error(`grid: bad ${name} ${v}`);
  }
  if (spec.rows.length === 0) throw new Error('grid: no rows');
  if (spec.columns.length === 0 && input === 'none') throw new Error('grid: no columns');

  const rowLabelWidth = spec.rowLabelWidth ?? Math.max(0, ...spec.rows.map((r) => (r ? measure(r, fontSize) : 0)));
  const titleSize = Math.round(1.25 * fontSize);
  const titleBand = spec.title ? Math.ceil(titleSize * lineHeight) + gap : 0;
  const lineBand = Math.ceil(fontSize * lineHeight);
  const headerLines = (h: string | readonly string[]): readonly string[] => (typeof h === 'string' ? [h] : h);
  const headerBand = lineBand * Math.max(1, ...spec.columns.map((h) => headerLines(h).length));
  const inputCols = input === 'none' ? 0 : 1;
  const nc = inputCols + spec.columns.length;
  const nr = spec.rows.length;
  const x0 = margin + (rowLabelWidth > 0 ? rowLabelWidth + gap : 0);
  const y0 = margin + titleBand + headerBand + gap;
  const bars = spec.colorbars ?? [];
  const tickWidth = spec.tickWidth ?? Math.max(0, ...bars.flatMap((b) => (b ? b.ticks.map((t) => measure(escapeControl(t.text), fontSize)) : [])));
  const barBand = bars.some((b) => b) ? gap + COLORBAR_WIDTH + 6 + tickWidth : 0;
  const width = x0 + nc * tw + (nc - 1) * gap + barBand + margin;
  const height = y0 + nr * th + (nr - 1) * gap + margin;

  const colX = (c: number): number => x0 + c * (tw + gap);
  const rowY = (r: number): number => y0 + r * (th + gap);
  const tiles: GridTile[] = [];
  for (let r = 0; r < nr; r++) {
    if (input === 'each-row' || (input === 'first-row' && r === 0)) tiles.push({ kind: 'input', row: r, column: -1, x: colX(0), y: rowY(r), width: tw, height: th });
    for (let c = 0; c < spec.columns.length; c++) tiles.push({ kind: 'map', row: r, column: c, x: colX(inputCols + c), y: rowY(r), width: tw, height: th });
  }

  const labels: GridLabel[] = [];
  const label = (role: GridLabel['role'], text: string, x: number, y: number, anchor: GridLabel['anchor'], size: number, maxWidth: number): void => {
    // Names from models, files and labels: control characters (invalid in the SVG the labels
    // become) are shown escaped.
    const fitted = fitText(escapeControl(text), maxWidth, size, measure);
    if (fitted) labels.push({ role, text: fitted, x, y, anchor, fontSize: size, maxWidth });
  };
  if (spec.title) label('title', spec.title, Math.round(width / 2), centredBaseline(margin, titleBand - gap, titleSize), 'middle', titleSize, width - 2 * margin);
  const headers = [...(inputCols ? [spec.inputLabel ?? 'input'] : []), ...spec.columns];
  headers.forEach((h, c) =>
    headerLines(h).forEach((line, j) => label('column', line, colX(c) + Math.round(tw / 2), centredBaseline(margin + titleBand + j * lineBand, lineBand, fontSize), 'middle', fontSize, tw)),
  );
  if (rowLabelWidth > 0) {
    spec.rows.forEach((r, i) => r && label('row', r, margin + rowLabelWidth, centredBaseline(rowY(i), th, fontSize), 'end', fontSize, rowLabelWidth));
  }
  const colorbars: GridColorbarRect[] = [];
  bars.forEach((b, r) => {
    if (!b || r >= nr) return;
    const x = colX(nc - 1) + tw + gap;
    colorbars.push({ row: r, colormap: b.colormap, from: b.from ?? 0, x, y: rowY(r), width: COLORBAR_WIDTH, height: th });
    for (const t of b.ticks) {
      const y = rowY(r) + Math.round((1 - Math.min(1, Math.max(0, t.at))) * (th - 1));
      // The end ticks' text stays inside the row.
      const base = Math.min(rowY(r) + th, Math.max(rowY(r) + fontSize, Math.round(y + 0.35 * fontSize)));
      label('tick', t.text, x + COLORBAR_WIDTH + 6, base, 'start', fontSize, tickWidth);
    }
  });
  return { width, height, tiles, labels, colorbars, background: spec.background ?? [255, 255, 255], textColor: spec.textColor ?? [0, 0, 0], fontSize };
}

/** What goes into the tiles: the input image (one, or one per row), and `cells[row][column]`. */
export interface GridContent {
  input?: PixelImage | readonly (PixelImage | null | undefined)[];
  cells: readonly (readonly (PixelImage | null | undefined)[])[];
}

/**
 * Pastes the tiles into an RGBA canvas of the layout's size, on its background (labels are not
 * drawn: see `labelsSvg`). An image whose size differs from its tile is resized with `resample`
 * (default nearest: saliency pixels stay sharp); a missing image leaves its tile empty.
 */
export function composeGrid(layout: GridLayout, content: GridContent, resample: Resample = 'nearest'): RGBAImage {
  const canvas = solidRGBA(layout.width, layout.height, layout.background);
  for (const tile of layout.tiles) {
    const img = tile.kind === 'input' ? (isPixelImage(content.input) ? content.input : content.input?.[tile.row]) : content.cells[tile.row]?.[tile.column];
    if (!img) continue;
    const src = resizeRGBA(img, tile.width, tile.height, resample);
    for (let y = 0; y < tile.height; y++) {
      const from = y * tile.width * 4;
      const to = ((tile.y + y) * layout.width + tile.x) * 4;
      for (let i = 0; i < tile.width * 4; i += 4) {
        // Blend over the background where the tile is transparent.
        const a = src.data[from + i + 3]! / 255;
        for (let k = 0; k < 3; k++) canvas.data[to + i + k] = canvas.data[to + i + k]! + a * (src.data[from + i + k]! - canvas.data[to + i + k]!);
      }
    }
  }
  for (const b of layout.colorbars ?? []) paintColorbar(canvas.data, layout.width, b, b.colormap, b.from);
  return canvas;
}

function isPixelImage(x: GridContent['input']): x is PixelImage {
  return !!x && !Array.isArray(x) && 'data' in (x as object);
}

const escapeXml = (s: string): string => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c]!);

/** The labels of a layout as an SVG document of the layout's size (transparent background). */
export function labelsSvg(layout: Pick<GridLayout, 'width' | 'height' | 'labels' | 'textColor'>, fontFamily = 'DejaVu Sans, Helvetica, Arial, sans-serif'): string {
  const [r, g, b] = layout.textColor;
  const texts = layout.labels.map(
    (l) =>
      `<text x="${l.x}" y="${l.y}" font-size="${l.fontSize}" text-anchor="${l.anchor}"${l.role === 'title' ? ' font-weight="bold"' : ''}>${escapeXml(l.text)}</text>`,
  );
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${layout.width}" height="${layout.height}" viewBox="0 0 ${layout.width} ${layout.height}">`,
    `<g font-family="${escapeXml(fontFamily)}" fill="rgb(${r},${g},${b})">`,
    ...texts,
    '</g></svg>',
  ].join('\n');
}
