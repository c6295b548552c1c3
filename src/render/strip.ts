/** The colormap strip of colorbars (colorbar.ts) and of figure grids (grid.ts). Pure TypeScript. */
import { colormapLUT, LUT_SIZE, type ColormapName } from './colormaps.js';

/**
 * Paints a vertical colormap strip into `canvas` (RGBA, row-major, `canvasWidth` wide): colormap
 * position `to` at the top row, `from` at the bottom row, linear in between (pixel centres).
 */
export function paintColorbar(canvas: Uint8ClampedArray, canvasWidth: number, rect: { x: number; y: number; width: number; height: number }, colormap: ColormapName, from = 0, to = 1): void {
  const lut = colormapLUT(colormap);
  const last = LUT_SIZE - 1;
  for (let r = 0; r < rect.height; r++) {
    const f = rect.height === 1 ? 1 : 1 - r / (rect.height - 1);
    const pos = from + (to - from) * f;
    const k = Math.round(Math.min(1, Math.max(0, pos)) * last) * 3;
    for (let c = 0; c < rect.width; c++) {
      const i = ((rect.y + r) * canvasWidth + rect.x + c) * 4;
      canvas[i] = lut[k]!;
      canvas[i + 1] = lut[k + 1]!;
      canvas[i + 2] = lut[k + 2]!;
      canvas[i + 3] = 255;
    }
  }
}
