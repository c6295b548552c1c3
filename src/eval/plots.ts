/**
 * Figures of the evaluations, drawn with Vega-Lite (compiled to Vega and rendered headless to SVG by
 * `View.toSVG`, no canvas needed) and converted to PNG by sharp (librsvg, which draws the text with
 * the system's fonts through fontconfig).
 */
import sharp from 'sharp';
import * as vega from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import type { AblationSummary } from './ablation.js';
import { POINTING_SUBSETS, type PointingSummary } from './pointing.js';

/** A figure to write: a file name under the output folder, its caption and its spec. */
export interface Figure {
  file: string;
  caption: string;
  spec: TopLevelSpec;
}

const CONFIG = {
  font: 'DejaVu Sans, Liberation Sans, Arial, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 12 },
  legend: { labelFontSize: 11, titleFontSize: 12, labelLimit: 260 },
  title: { fontSize: 14 },
};

/** Renders a Vega-Lite spec to SVG text. */
export async function renderSvg(spec: TopLevelSpec, scale = 1): Promise<string> {
  const vg = compile({ ...spec, config: { ...CONFIG, ...(spec.config ?? {}) } } as TopLevelSpec, { logger: vega.logger(vega.None) }).spec;
  const view = new vega.View(vega.parse(vg), { renderer: 'none', logLevel: vega.Error });
  try {
    return await view.toSVG(scale);
  } finally {
    view.finalize();
  }
}

/** Renders a Vega-Lite spec to PNG bytes (at twice the spec's pixel size, for sharp text). */
export async function renderPng(spec: TopLevelSpec, scale = 2): Promise<Uint8Array> {
  const svg = await renderSvg(spec, scale);
  const png = await sharp(Buffer.from(svg)).flatten({ background: '#ffffff' }).png().toBuffer();
  return new Uint8Array(png.buffer, png.byteOffset, png.length);
}

const pct = (v: number): number | null => (Number.isFinite(v) ? v * 100 : null);

/** The figures of a pointing summary: accuracy bars with baselines, energy curves (Figure 4). */
export function pointingFigures(s: PointingSummary, title: string): Figure[] {
  const subsetName: Record<string, string> = {
    all: `all (${s.subsetImages.all})`,
    small: `small objects (${s.subsetImages.small})`,
    difficult: `difficult (${s.subsetImages.difficult})`,
  };
  const bars = s.rows.flatMap((r) =>
    POINTING_SUBSETS.map((sub) => ({ row: r.label, kind: r.kind, subset: subsetName[sub], accuracy: pct(r.subsets[sub].overImages) })),
  ).filter((d) => d.accuracy !== null);
  const order = s.rows.map((r) => r.label);
  const methods = Object.keys(s.energy);
  const label = (m: string): string => s.rows.find((r) => r.name === m)?.label ?? m;
  const curve = (field: 'accuracy' | 'meanInsideFraction') =>
    methods.flatMap((m) => s.energy[m]!.levels.map((p, k) => ({ method: label(m), p, value: pct(s.energy[m]!.subsets.all[field][k]!) }))).filter((d) => d.value !== null);
  const lineSpec = (data: object[], y: string, t: string): TopLevelSpec => ({
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: t,
    width: 420,
    height: 280,
    data: { values: data },
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'p', type: 'quantitative', title: 'energy kept p (%)', scale: { domain: [0, 100] } },
      y: { field: 'value', type: 'quantitative', title: y, scale: { domain: [0, 100] } },
      color: { field: 'method', type: 'nominal', title: 'method', sort: methods.map(label) },
    },
  });
  return [
    {
      file: 'pointing-accuracy.png',
      caption: `Pointing game accuracy (over images, tolerance ${s.tolerance} px) of each method and of the centre and random baselines, on all images and on the small-object and difficult subsets.`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: `${title}: pointing game (tolerance ${s.tolerance} px)`,
        width: 620,
        height: 280,
        data: { values: bars },
        mark: { type: 'bar' },
        encoding: {
          x: { field: 'row', type: 'nominal', title: null, sort: order, axis: { labelAngle: -30, labelLimit: 220 } },
          xOffset: { field: 'subset', type: 'nominal', sort: POINTING_SUBSETS.map((x) => subsetName[x]) },
          y: { field: 'accuracy', type: 'quantitative', title: 'accuracy over images (%)', scale: { domain: [0, 100] } },
          color: { field: 'subset', type: 'nominal', title: 'images', sort: POINTING_SUBSETS.map((x) => subsetName[x]) },
          opacity: { field: 'kind', type: 'nominal', title: 'row', sort: ['method', 'baseline'], scale: { domain: ['method', 'baseline'], range: [1, 0.55] } },
        },
      },
    },
    {
      file: 'energy-accuracy.png',
      caption: 'Energy-threshold pointing game (Gu et al. Figure 4): accuracy vs the share p of the map\'s energy kept, one line per method (hit = every kept pixel inside the boxes).',
      spec: lineSpec(curve('accuracy'), 'accuracy (%)', `${title}: energy pointing game`),
    },
    {
      file: 'energy-inside.png',
      caption: 'Mean share of the kept energy that lies inside the boxes, vs p, one line per method.',
      spec: lineSpec(curve('meanInsideFraction'), 'kept energy inside the boxes (%)', `${title}: energy inside the boxes`),
    },
  ];
}

/** The figures of an ablation summary: mean drops (Table 1) and mean deletion/insertion curves. */
export function ablationFigures(s: AblationSummary, title: string): Figure[] {
  const order = s.rows.map((r) => r.label);
  const drops = s.rows.flatMap((r) => [
    { row: r.label, kind: r.kind, measure: 'target logit', mean: r.logitDrop.mean, lo: r.logitDrop.mean - r.logitDrop.sem, hi: r.logitDrop.mean + r.logitDrop.sem },
    { row: r.label, kind: r.kind, measure: 'target probability', mean: r.probDrop.mean, lo: r.probDrop.mean - r.probDrop.sem, hi: r.probDrop.mean + r.probDrop.sem },
  ]).map((d) => ({ ...d, lo: Number.isFinite(d.lo) ? d.lo : d.mean, hi: Number.isFinite(d.hi) ? d.hi : d.mean })).filter((d) => Number.isFinite(d.mean));
  const figures: Figure[] = [
    {
      file: 'ablation-drop.png',
      caption: `Mean drop of the target's logit and probability when a ${s.patchSize}×${s.patchSize} patch at the map's maximum (or at a random pixel) is replaced by the dataset mean; error bars ± 1 standard error.`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: `${title}: patch ablation (${s.patchSize} px)`,
        data: { values: drops },
        facet: { column: { field: 'measure', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: { step: 44 },
          height: 240,
          layer: [
            {
              mark: { type: 'bar' },
              encoding: {
                x: { field: 'row', type: 'nominal', title: null, sort: order, axis: { labelAngle: -30 } },
                y: { field: 'mean', type: 'quantitative', title: 'mean drop (before − after)' },
                color: { field: 'kind', type: 'nominal', title: null, scale: { domain: ['method', 'baseline'], range: ['#4c78a8', '#bab0ac'] } },
              },
            },
            {
              mark: { type: 'rule' },
              encoding: {
                x: { field: 'row', type: 'nominal', sort: order },
                y: { field: 'lo', type: 'quantitative' },
                y2: { field: 'hi' },
              },
            },
          ],
        },
      } as TopLevelSpec,
    },
  ];
  const methodRows = s.rows.filter((r) => r.deletionCurve && r.deletionCurve.length > 0);
  if (methodRows.length > 0) {
    const pts = methodRows.flatMap((r) =>
      (['deletion', 'insertion'] as const).flatMap((mode) => {
        const c = (mode === 'deletion' ? r.deletionCurve : r.insertionCurve) ?? [];
        return c.map((v, k) => ({ method: r.label, mode, fraction: (100 * k) / (c.length - 1), prob: v }));
      }),
    );
    figures.push({
      file: 'deletion-insertion.png',
      caption: `Mean deletion and insertion curves (${s.steps} steps, baseline 0): the target's probability as the pixels with the highest map values are removed (deletion) or restored (insertion).`,
      spec: {
        $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
        title: `${title}: deletion and insertion`,
        data: { values: pts },
        facet: { column: { field: 'mode', type: 'nominal', title: null } },
        spec: {
          width: 300,
          height: 240,
          mark: { type: 'line', point: false },
          encoding: {
            x: { field: 'fraction', type: 'quantitative', title: 'pixels changed (%)' },
            y: { field: 'prob', type: 'quantitative', title: 'target probability' },
            color: { field: 'method', type: 'nominal', title: 'method', sort: methodRows.map((r) => r.label) },
          },
        },
      } as TopLevelSpec,
    });
  }
  return figures;
}
