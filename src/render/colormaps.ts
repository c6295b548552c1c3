/**
 * Colormaps as lookup tables. Pure TypeScript (no Node imports): runs unchanged in a browser.
 *
 * Every map takes t in [0, 1]. Signed saliency maps use a diverging map with the value 0 at
 * t = 0.5; magnitudes use a sequential map with 0 at t = 0 (see `heatmap.ts` for how a normalized
 * map becomes t).
 *
 * - `rdbu`: diverging, ColorBrewer RdBu reversed — dark blue (negative), near-white (0), dark red
 *   (positive). The default for signed maps.
 * - `bwr`: diverging, linear in RGB from pure blue through pure white to pure red.
 * - `viridis`, `inferno`: perceptually uniform sequential maps (dark = 0). `inferno` is the
 *   default for magnitudes.
 * - `gray`: black (0) to white (1).
 *
 * The ColorBrewer and matplotlib maps come from the `d3-scale-chromatic` package; each is sampled
 * once, on first use, into a table of `LUT_SIZE` entries.
 */
import { interpolateInferno, interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';
import { BacklightError } from '../errors.js';

export type RGB = [number, number, number];

export const COLORMAP_NAMES = ['rdbu', 'bwr', 'viridis', 'inferno', 'gray'] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];

export type ColormapKind = 'diverging' | 'sequential';

export const COLORMAP_KIND: Readonly<Record<ColormapName, ColormapKind>> = {
  rdbu: 'diverging',
  bwr: 'diverging',
  viridis: 'sequential',
  inferno: 'sequential',
  gray: 'sequential',
};

export const DEFAULT_SIGNED_COLORMAP: ColormapName = 'rdbu';
export const DEFAULT_MAGNITUDE_COLORMAP: ColormapName = 'inferno';

/**
 * Entries of a table. Odd, so that the centre t = 0.5 (the value 0 of a signed map) has an entry of
 * its own: entry i holds the colour at t = i / (LUT_SIZE − 1).
 */
export const LUT_SIZE = 257;

/** The colour at t ∈ [0, 1] of each map (t is never outside [0, 1] here). */
const SOURCES: Record<ColormapName, (t: number) => RGB> = {
  rdbu: (t) => parseColor(interpolateRdBu(1 - t)),
  bwr: (t) => {
    const v = Math.round(255 * (t < 0.5 ? 2 * t : 2 * (1 - t)));
    return t < 0.5 ? [v, v, 255] : t > 0.5 ? [255, v, v] : [255, 255, 255];
  },
  viridis: (t) => parseColor(interpolateViridis(t)),
  inferno: (t) => parseColor(interpolateInferno(t)),
  gray: (t) => {
    const v = Math.round(255 * t);
    return [v, v, v];
  },
};

const luts = new Map<ColormapName, Uint8Array>();

export function isColormapName(name: string): name is ColormapName {
  return (COLORMAP_NAMES as readonly string[]).includes(name);
}

function checkName(name: string): ColormapName {
  if (!isColormapName(name)) {
    throw new BacklightError(`unknown colormap '${name}': use one of ${COLORMAP_NAMES.join(', ')}`, 'usage');
  }
  return name;
}

/** The table of a map: `LUT_SIZE` RGB triples, row after row (`[r0, g0, b0, r1, …]`). */
export function colormapLUT(name: ColormapName | string): Uint8Array {
  const key = checkName(name);
  let lut = luts.get(key);
  if (!lut) {
    lut = new Uint8Array(LUT_SIZE * 3);
    const f = SOURCES[key];
    for (let i = 0; i < LUT_SIZE; i++) lut.set(f(i / (LUT_SIZE - 1)), i * 3);
    luts.set(key, lut);
  }
  return lut;
}

/** Index of t ∈ [0, 1] in a table (t is clamped; NaN gives the centre for lack of a better one). */
export function lutIndex(t: number): number {
  if (!(t >= 0)) return t < 0 ? 0 : (LUT_SIZE - 1) >> 1;
  if (t >= 1) return LUT_SIZE - 1;
  return Math.round(t * (LUT_SIZE - 1));
}

/** The map as a function: t ∈ [0, 1] (clamped) → [r, g, b] in 0–255. */
export function colormap(name: ColormapName | string): (t: number) => RGB {
  const lut = colormapLUT(name);
  return (t) => {
    const i = lutIndex(t) * 3;
    return [lut[i]!, lut[i + 1]!, lut[i + 2]!];
  };
}

/** Parses the `#rrggbb` and `rgb(r, g, b)` strings that d3 returns. */
function parseColor(s: string): RGB {
  if (s.startsWith('#') && s.length === 7) {
    const v = parseInt(s.slice(1), 16);
    return [(v >> 16) & 255, (v >> 8) & 255, v & 255];
  }
  const m = /^rgb\(\s*(\d+),\s*(\d+),\s*(\d+)\s*\)$/.exec(s);
  if (!m) throw new Error(`unexpected colour '${s}' from d3-scale-chromatic`);
  return [Number(m[1]), Number(m[2]), Number(m[3])];
}
