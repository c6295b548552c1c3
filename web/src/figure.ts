/**
 * The whole figure as one PNG: the grid as the page shows it (input, then a map and an overlay per
 * target, a row per method), with its labels — the method, the class name and probability, the
 * value each map shows at full colour — and a colorbar per row, drawn on a canvas.
 */
import { colorbarCanvas, colorbarLegend, type FigureModel } from './view.js';

const PAD = 16;
const GAP = 6;
const TARGET_GAP = 18;
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif';
const TITLE = `600 14px ${FONT}`;
const SMALL = `12px ${FONT}`;
const BAR = { width: 14, height: 0, labelWidth: 40 };

/** 0.0978, 1.25e-5: the value at full colour. */
const formatScale = (v: number): string => (v === 0 || (Math.abs(v) >= 0.01 && Math.abs(v) < 1e4) ? String(+v.toPrecision(3)) : v.toExponential(2));

/** The CSS size a tile is shown at in the page (its drawn size in the figure). */
const shown = (c: HTMLCanvasElement): { width: number; height: number } => ({ width: parseFloat(c.style.width) || c.width, height: parseFloat(c.style.height) || c.height });

/** Draws the figure; `scale` multiplies every size (2 for a sharper PNG). */
export function drawFigure(model: FigureModel, scale = 1): HTMLCanvasElement {
  const measure = document.createElement('canvas').getContext('2d')!;
  const textWidth = (text: string, font: string): number => {
    measure.font = font;
    return Math.ceil(measure.measureText(text).width);
  };
  const input = shown(model.input);
  const cellSizes = model.rows[0]?.cells.map((c) => ({ map: shown(c.map), overlay: shown(c.overlay) })) ?? [];
  const colWidth = cellSizes.map((c) => c.map.width + GAP + c.overlay.width);
  const tileHeight = Math.max(input.height, ...cellSizes.map((c) => Math.max(c.map.height, c.overlay.height)));
  const labelWidth = Math.max(80, ...model.rows.map((r) => textWidth(r.title, TITLE))) + PAD;
  const headerHeight = 44;
  const rowHeight = tileHeight + 22;
  const barColumn = BAR.width + 6 + BAR.labelWidth;
  const colWidths = colWidth.map((w, k) => Math.max(w, textWidth(model.columns[k]?.title ?? '', TITLE)));
  const width = PAD + labelWidth + input.width + TARGET_GAP + colWidths.reduce((a, b) => a + b + TARGET_GAP, 0) + barColumn + PAD;
  const height = PAD + headerHeight + model.rows.length * rowHeight + PAD;

  const canvas = document.createElement('canvas');
  canvas.width = Math.round(width * scale);
  canvas.height = Math.round(height * scale);
  const ctx = canvas.getContext('2d')!;
  ctx.scale(scale, scale);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, width, height);
  ctx.fillStyle = '#1d1f23';
  ctx.textBaseline = 'alphabetic';

  const tile = (c: HTMLCanvasElement, x: number, y: number): void => {
    const s = shown(c);
    // Maps keep their pixels when enlarged; photos are smoothed.
    ctx.imageSmoothingEnabled = c.dataset.kind === 'photo';
    ctx.imageSmoothingQuality = 'high';
    ctx.drawImage(c, x, y, s.width, s.height);
  };
  const text = (t: string, x: number, y: number, font: string, align: CanvasTextAlign = 'left', color = '#1d1f23'): void => {
    ctx.font = font;
    ctx.textAlign = align;
    ctx.fillStyle = color;
    ctx.fillText(t, x, y);
  };

  // Header: the input, then the class and probability of each target.
  const x0 = PAD + labelWidth;
  text('input', x0 + input.width / 2, PAD + 18, TITLE, 'center');
  const colX: number[] = [];
  let x = x0 + input.width + TARGET_GAP;
  colWidths.forEach((w, k) => {
    colX.push(x);
    text(model.columns[k]!.title, x + w / 2, PAD + 18, TITLE, 'center');
    text(model.columns[k]!.subtitle, x + w / 2, PAD + 36, SMALL, 'center', '#61666e');
    x += w + TARGET_GAP;
  });
  const barX = x;

  model.rows.forEach((row, i) => {
    const y = PAD + headerHeight + i * rowHeight;
    text(row.title, PAD + labelWidth - PAD / 2, y + tileHeight / 2 + 5, TITLE, 'right');
    if (i === 0) tile(model.input, x0, y);
    row.cells.forEach((cell, k) => {
      const cx = colX[k]!;
      tile(cell.map, cx, y);
      tile(cell.overlay, cx + shown(cell.map).width + GAP, y);
      text(`max = ${formatScale(cell.scale)}`, cx + colWidths[k]! / 2, y + tileHeight + 15, SMALL, 'center', '#61666e');
    });
    // The colorbar: vertical, the top end is the map's max (+max for signed maps).
    const bar = colorbarCanvas(row.colormap, row.signed, 256, 1);
    ctx.save();
    ctx.imageSmoothingEnabled = true;
    ctx.translate(barX, y + tileHeight);
    ctx.rotate(-Math.PI / 2);
    ctx.drawImage(bar, 0, 0, tileHeight, BAR.width);
    ctx.restore();
    ctx.strokeStyle = '#61666e';
    ctx.lineWidth = 1;
    ctx.strokeRect(barX + 0.5, y + 0.5, BAR.width - 1, tileHeight - 1);
    const ends = colorbarLegend(row.signed);
    ends.forEach((label, j) => {
      const ly = y + tileHeight - (j / (ends.length - 1)) * tileHeight;
      text(label, barX + BAR.width + 4, Math.min(y + tileHeight, Math.max(y + 10, ly + 4)), SMALL);
    });
  });
  return canvas;
}
