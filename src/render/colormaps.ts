/**
 * Colormaps as lookup tables. Pure TypeScript (no Node imports): runs unchanged in a browser.
 *
 * Every map takes t in [0, 1]. Signed saliency maps use a diverging map with the value 0 at
 * t = 0.5; magnitudes use a sequential map with 0 at t = 0 (see `heatmap.ts` for how a normalized
 * map becomes t).
 *
 * - `rdbu`: diverging, ColorBrewer RdBu reversed — dark blue (negative), near-white (0), dark red
 *   (positive). The default for signed maps.
 * - `bwr`: diverging, linear in RGB from pure blue through pure white to pure red (matplotlib's).
 * - `seismic`: diverging, matplotlib's: dark blue, blue, white, red, dark red.
 * - `coolwarm`: diverging, matplotlib's (Moreland's smooth cool-warm map, gray in the middle).
 * - `viridis`, `inferno`, `magma`, `plasma`: perceptually uniform sequential maps (dark = 0).
 *   `inferno` is the default for magnitudes.
 * - `hot`: sequential, matplotlib's black–red–yellow–white.
 * - `gray`: black (0) to white (1).
 *
 * The ColorBrewer and matplotlib perceptual maps come from the `d3-scale-chromatic` package; the
 * matplotlib maps d3 lacks (`seismic`, `coolwarm`, `hot`) are matplotlib's own segment data
 * (matplotlib/_cm.py), interpolated linearly as matplotlib does. test/render.api.test.ts checks
 * every map against matplotlib 3.6 (test/fixtures/colormaps.json, from
 * scripts/colormap_references.py). Each map is sampled once, on first use, into a table of
 * `LUT_SIZE` entries.
 */
import { interpolateInferno, interpolateMagma, interpolatePlasma, interpolateRdBu, interpolateViridis } from 'd3-scale-chromatic';
import { BacklightError } from '../errors.js';

export type RGB = [number, number, number];

export const COLORMAP_NAMES = ['rdbu', 'bwr', 'seismic', 'coolwarm', 'viridis', 'inferno', 'magma', 'plasma', 'hot', 'gray'] as const;
export type ColormapName = (typeof COLORMAP_NAMES)[number];

export type ColormapKind = 'diverging' | 'sequential';

export const COLORMAP_KIND: Readonly<Record<ColormapName, ColormapKind>> = {
  rdbu: 'diverging',
  bwr: 'diverging',
  seismic: 'diverging',
  coolwarm: 'diverging',
  viridis: 'sequential',
  inferno: 'sequential',
  magma: 'sequential',
  plasma: 'sequential',
  hot: 'sequential',
  gray: 'sequential',
};

export const DEFAULT_SIGNED_COLORMAP: ColormapName = 'rdbu';
export const DEFAULT_MAGNITUDE_COLORMAP: ColormapName = 'inferno';

/**
 * Entries of a table. Odd, so that the centre t = 0.5 (the value 0 of a signed map) has an entry of
 * its own: entry i holds the colour at t = i / (LUT_SIZE − 1).
 */
export const LUT_SIZE = 257;

/**
 * A matplotlib `LinearSegmentedColormap` segment: (x, value) anchors of one channel, x rising from
 * 0 to 1, values in [0, 1] (matplotlib's y0 = y1 form: no jumps).
 */
type Segment = readonly (readonly [number, number])[];

/** The value of a segment at t, linear between anchors (as matplotlib's `_create_lookup_table`). */
function segmentAt(seg: Segment, t: number): number {
  for (let i = 1; i < seg.length; i++) {
    const [x1, y1] = seg[i]!;
    if (t <= x1) {
      const [x0, y0] = seg[i - 1]!;
      return x1 > x0 ? y0 + ((t - x0) / (x1 - x0)) * (y1 - y0) : y1;
    }
  }
  return seg[seg.length - 1]![1];
}

/** A map of three segments (red, green, blue) as 0–255 RGB. */
const segmented = (r: Segment, g: Segment, b: Segment) => (t: number): RGB => [r, g, b].map((s) => Math.round(255 * segmentAt(s, t))) as RGB;

/** A map of colours evenly spaced from t = 0 to 1 (matplotlib's `from_list`). */
function evenly(colors: readonly (readonly [number, number, number])[]): (t: number) => RGB {
  const at = (k: number): Segment => colors.map((c, i) => [i / (colors.length - 1), c[k]!] as const);
  return segmented(at(0), at(1), at(2));
}

/** matplotlib's `_coolwarm_data`: 33 colours at x = i/32. */
const COOLWARM: readonly (readonly [number, number, number])[] = [
  [0.2298057, 0.298717966, 0.753683153], [0.26623388, 0.353094838, 0.801466763], [0.30386891, 0.406535296, 0.84495867],
  [0.342804478, 0.458757618, 0.883725899], [0.38301334, 0.50941904, 0.917387822], [0.424369608, 0.558148092, 0.945619588],
  [0.46666708, 0.604562568, 0.968154911], [0.509635204, 0.648280772, 0.98478814], [0.552953156, 0.688929332, 0.995375608],
  [0.596262162, 0.726149107, 0.999836203], [0.639176211, 0.759599947, 0.998151185], [0.681291281, 0.788964712, 0.990363227],
  [0.722193294, 0.813952739, 0.976574709], [0.761464949, 0.834302879, 0.956945269], [0.798691636, 0.849786142, 0.931688648],
  [0.833466556, 0.860207984, 0.901068838], [0.865395197, 0.86541021, 0.865395561], [0.897787179, 0.848937047, 0.820880546],
  [0.924127593, 0.827384882, 0.774508472], [0.944468518, 0.800927443, 0.726736146], [0.958852946, 0.769767752, 0.678007945],
  [0.96732803, 0.734132809, 0.628751763], [0.969954137, 0.694266682, 0.579375448], [0.966811177, 0.650421156, 0.530263762],
  [0.958003065, 0.602842431, 0.481775914], [0.943660866, 0.551750968, 0.434243684], [0.923944917, 0.49730856, 0.387970225],
  [0.89904617, 0.439559467, 0.343229596], [0.869186849, 0.378313092, 0.300267182], [0.834620542, 0.312874446, 0.259301199],
  [0.795631745, 0.24128379, 0.220525627], [0.752534934, 0.157246067, 0.184115123], [0.705673158, 0.01555616, 0.150232812],
];

/** The colour at t ∈ [0, 1] of each map (t is never outside [0, 1] here). */
const SOURCES: Record<ColormapName, (t: number) => RGB> = {
  rdbu: (t) => parseColor(interpolateRdBu(1 - t)),
  bwr: (t) => {
    const v = Math.round(255 * (t < 0.5 ? 2 * t : 2 * (1 - t)));
    return t < 0.5 ? [v, v, 255] : t > 0.5 ? [255, v, v] : [255, 255, 255];
  },
  seismic: evenly([[0, 0, 0.3], [0, 0, 1], [1, 1, 1], [1, 0, 0], [0.5, 0, 0]]),
  coolwarm: evenly(COOLWARM),
  viridis: (t) => parseColor(interpolateViridis(t)),
  inferno: (t) => parseColor(interpolateInferno(t)),
  magma: (t) => parseColor(interpolateMagma(t)),
  plasma: (t) => parseColor(interpolatePlasma(t)),
  hot: segmented(
    [[0, 0.0416], [0.365079, 1], [1, 1]],
    [[0, 0], [0.365079, 0], [0.746032, 1], [1, 1]],
    [[0, 0], [0.746032, 0], [1, 1]],
  ),
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
