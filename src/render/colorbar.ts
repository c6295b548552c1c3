/**
 * Colorbars: a vertical strip of a colormap with tick labels. Pure TypeScript (no Node imports).
 *
 * The strip is pixels; the tick labels and the title are data (`GridLabel`s, as the figure grids'
 * labels): `labelsSvg` writes them as SVG text (the command line composites that with sharp), and a
 * browser draws them with `fillText`. `toPNG` of a colorbar alone gives the strip and tick marks
 * without text.
 *
 * ```ts
 * const h = heatmap(map, { sign: 'all', colormap: 'coolwarm' });
 * const bar = colorbar({ colormap: h.colormap, min: h.low, max: h.high, height: 224, label: 'relevance' });
 * bar.labels; // [{ text: 'relevance', … }, { text: '−0.012', … }, { text: '0', … }, { text: '0.012', … }]
 * ```
 */
import { BacklightError } from '../errors.js';
import { COLORMAP_KIND, colormapLUT, type ColormapName, type RGB } from './colormaps.js';
import { estimateTextWidth, type GridLabel } from './grid.js';
import { solidRGBA, type RGBAImage } from './heatmap.js';
import { paintColorbar } from './strip.js';

/**
 * A tick value as short text: `0`, `0.0123`, `12.3`, `2.1e-6`; negative values with a true minus
 * sign (U+2212), as figures print them.
 */
export function formatTick(v: number): string {
  if (v === 0 || Object.is(v, -0)) return '0';
  if (!Number.isFinite(v)) return String(v);
  const a = Math.abs(v);
  const text = a >= 1e-3 && a < 1e4 ? String(Number(a.toPrecision(3))) : a.toExponential(1).replace('e+', 'e');
  return v < 0 ? `−${text}` : text;
}

export interface ColorbarOptions {
  /** The colormap, as the heatmap drew it (`heatmap(…).colormap`). */
  colormap: ColormapName;
  /** The value at the colormap's start (bottom of the bar): `heatmap(…).low`. */
  min: number;
  /** The value at the colormap's end (top of the bar): `heatmap(…).high`. */
  max: number;
  /** Height of the strip in pixels (default 256). */
  height?: number;
  /** Width of the strip in pixels (default 16). */
  width?: number;
  /** A title above the strip. */
  label?: string;
  /**
   * Values to mark: default min and max, and 0 between them when the colormap is diverging and 0
   * lies strictly inside (its centre then).
   */
  ticks?: readonly number[];
  /** Tick text (default `formatTick`). */
  format?: (value: number) => string;
  /** Label size in pixels (default 12). */
  fontSize?: number;
  background?: RGB;
  textColor?: RGB;
}

/** A colorbar: the strip and tick marks as pixels, the texts as labels to draw on top. */
export interface ColorbarImage extends RGBAImage {
  labels: GridLabel[];
  background: RGB;
  textColor: RGB;
}

/** Draws a colorbar (see the file comment). Throws a usage BacklightError for bad options. */
export function colorbar(options: ColorbarOptions): ColorbarImage {
  const { colormap, min, max } = options;
  colormapLUT(colormap); // checks the name
  const barH = options.height ?? 256;
  const barW = options.width ?? 16;
  const fontSize = options.fontSize ?? 12;
  for (const [name, v] of [['height', barH], ['width', barW], ['fontSize', fontSize]] as const) {
    if (!(Number.isInteger(v) && v >= 1 && v <= 16384)) throw new BacklightError(`colorbar: ${name} must be an integer from 1 to 16384, got ${v}`, 'usage');
  }
  if (!(Number.isFinite(min) && Number.isFinite(max) && min !== max)) throw new BacklightError(`colorbar: min and max must be two different finite numbers, got ${min} and ${max}`, 'usage');
  const format = options.format ?? formatTick;
  const ticks = options.ticks ?? (COLORMAP_KIND[colormap] === 'diverging' && Math.min(min, max) < 0 && Math.max(min, max) > 0 ? [min, 0, max] : [min, max]);
  const inside = (v: number): boolean => Number.isFinite(v) && (v - min) * (v - max) <= 0;
  const bad = ticks.find((t) => !inside(t));
  if (bad !== undefined) throw new BacklightError(`colorbar: tick ${bad} is outside [${Math.min(min, max)}, ${Math.max(min, max)}]`, 'usage');

  const margin = 4;
  const line = Math.ceil(fontSize * 1.4);
  const titleBand = options.label ? line : 0;
  // Half a line above and below the strip, so the end ticks' text is not cut.
  const pad = Math.ceil(line / 2);
  const texts = ticks.map(format);
  const textW = Math.max(0, ...texts.map((t) => estimateTextWidth(t, fontSize)));
  const mark = 4;
  const width = Math.max(margin + barW + mark + 2 + textW + margin, options.label ? estimateTextWidth(options.label, fontSize) + 2 * margin : 0);
  const height = margin + titleBand + pad + barH + pad + margin;
  const background = options.background ?? [255, 255, 255];
  const textColor = options.textColor ?? [0, 0, 0];
  const img = solidRGBA(width, height, background);
  const barX = margin;
  const barY = margin + titleBand + pad;
  paintColorbar(img.data, width, { x: barX, y: barY, width: barW, height: barH }, colormap);
  const labels: GridLabel[] = [];
  if (options.label) labels.push({ role: 'title', text: options.label, x: Math.round(width / 2), y: margin + Math.round(line / 2 + 0.35 * fontSize), anchor: 'middle', fontSize, maxWidth: width - 2 * margin });
  ticks.forEach((v, i) => {
    // Row of the value: the bar's top row is max, its bottom row min.
    const y = barY + Math.round((1 - (v - min) / (max - min)) * (barH - 1));
    for (let c = 0; c < mark; c++) img.data.set([...textColor, 255], (y * width + barX + barW + c) * 4);
    labels.push({ role: 'tick', text: texts[i]!, x: barX + barW + mark + 2, y: Math.round(y + 0.35 * fontSize), anchor: 'start', fontSize, maxWidth: textW });
  });
  return { ...img, labels, background, textColor };
}
