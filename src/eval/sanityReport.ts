/**
 * The report of `eval sanity`, recomputed from the records:
 * - `summary.json` (configuration, summary, runs) and `summary.csv`
 *   (`mode,stage,layer,method,metric,mean,sem,n`);
 * - per mode, a line plot of each metric vs the randomization stage, one line per method
 *   (`sanity-<mode>.png`, vega-lite), and a grid of maps — rows = methods, columns = stages, the
 *   input first — for each of the first images (`maps-<mode>-<i>.png`, Adebayo et al.'s Figure 2,
 *   Nie et al.'s Figure 9);
 * - `index.html` with the tables and figures.
 */
import { readFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFilesAtomic, type FileToWrite } from '../io/files.js';
import { loadImage } from '../io/image.js';
import { decodeNpy } from '../io/npy.js';
import { gridPng } from '../io/png.js';
import { describePreprocess } from '../io/preprocess.js';
import { heatmapRGBA, layoutGrid, type PixelImage } from '../render/index.js';
import type { Dataset } from './datasets.js';
import { MAP_KIND_TEXT, methodLabel, type EvalMethodName } from './maps.js';
import type { Figure } from './plots.js';
import { nonFiniteAsNull, type RunConfig } from './report.js';
import { readRecords, readRunLog, RESULTS_FILE } from './records.js';
import { mapsFile, SANITY_METRICS, summarizeSanity, type SanityMetric, type SanityMode, type SanityRecord, type SanitySettings, type SanityStage, type SanitySummary } from './sanity.js';
import { esc } from './html.js';

/** What run.json of a sanity run holds: the other evaluations' fields, with its own settings. */
export interface SanityConfig extends Omit<RunConfig, 'evaluation' | 'settings'> {
  evaluation: 'sanity';
  settings: SanitySettings;
}

export const METRIC_TEXT: Record<SanityMetric, string> = {
  spearmanAbs: 'Spearman ρ (scored map)',
  spearmanRaw: 'Spearman ρ (signed map)',
  ssim: 'SSIM (scored map)',
};

/** The label of a stage in tables and figures. */
export function stageLabel(s: Pick<SanityStage, 'mode' | 'layerName'>): string {
  return s.mode === 'original' ? 'trained' : s.layerName!;
}

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
const csvCell = (v: unknown): string => {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v ?? '');
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};

export function sanityCsv(s: SanitySummary): string {
  const lines = ['mode,stage,layer,method,metric,mean,sem,n'];
  for (const st of s.stages) {
    for (const m of s.methods) {
      for (const k of SANITY_METRICS) {
        const v = st.methods[m]![k];
        lines.push([st.mode, st.id, st.layerName ?? '', m, k, v.mean, v.sem, v.n].map(csvCell).join(','));
      }
    }
    lines.push([st.mode, st.id, st.layerName ?? '', '', 'prediction_unchanged', st.agreement, '', st.images].map(csvCell).join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** The stages of a mode, the trained model first. */
const stagesOf = (s: SanitySummary, mode: SanityMode): SanitySummary['stages'] => s.stages.filter((x) => x.mode === 'original' || x.mode === mode);

const MODE_TEXT: Record<SanityMode, string> = {
  cascading: 'cascading randomization (from the logits down to the layer)',
  single: 'single-layer randomization (only the layer)',
};

/** Line plots of each metric vs the stage, one line per method (with ± 1 sem bands). */
export function sanityFigures(s: SanitySummary, modes: readonly SanityMode[], title: string): Figure[] {
  return modes.map((mode) => {
    const stages = stagesOf(s, mode);
    const order = stages.map((st) => stageLabel(st));
    const values = stages.flatMap((st) =>
      s.methods.flatMap((m) =>
        SANITY_METRICS.map((k) => {
          const v = st.methods[m]![k];
          const sem = Number.isFinite(v.sem) ? v.sem : 0;
          return { stage: stageLabel(st), method: methodLabel(m as EvalMethodName), metric: METRIC_TEXT[k], mean: Number.isFinite(v.mean) ? v.mean : null, lo: v.mean - sem, hi: v.mean + sem };
        }),
      ),
    ).filter((d) => d.mean !== null);
    const x = { field: 'stage', type: 'nominal' as const, sort: order, title: mode === 'cascading' ? 'randomized from the logits down to' : 'randomized layer', axis: { labelAngle: -60, labelLimit: 140 } };
    const color = { field: 'method', type: 'nominal' as const, title: 'method', sort: s.methods.map((m) => methodLabel(m as EvalMethodName)) };
    const spec = {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title: `${title}: ${MODE_TEXT[mode]}`,
      data: { values },
      facet: { column: { field: 'metric', type: 'nominal', title: null, sort: SANITY_METRICS.map((k) => METRIC_TEXT[k]) } },
      spec: {
        width: Math.max(220, 14 * order.length),
        height: 220,
        layer: [
          { mark: { type: 'errorband', opacity: 0.25 }, encoding: { x, y: { field: 'lo', type: 'quantitative', title: 'similarity to the trained model\'s map' }, y2: { field: 'hi' }, color } },
          { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', scale: { domainMax: 1 } }, color } },
        ],
      },
    } as TopLevelSpec;
    return {
      file: `sanity-${mode}.png`,
      caption: `${MODE_TEXT[mode][0]!.toUpperCase()}${MODE_TEXT[mode].slice(1)}: mean similarity of each method's map to the trained model's map over ${s.images} images (band: ± 1 standard error), stage by stage from the top layer down.`,
      spec,
    };
  });
}

/** At most `max` evenly spaced items, the first and last included. */
function spread<T>(items: readonly T[], max: number): T[] {
  if (items.length <= max) return [...items];
  return Array.from({ length: max }, (_, k) => items[Math.round((k * (items.length - 1)) / (max - 1))]!);
}

/** A layer name as one or two header lines (split at its last dot). */
function headerLines(label: string): string[] {
  const dot = label.lastIndexOf('.');
  return dot > 0 ? [label.slice(0, dot), label.slice(dot + 1)] : [label];
}

/** The map grids (rows = methods, columns = stages) of the figure images; missing maps leave tiles empty. */
async function mapGrids(out: string, config: SanityConfig, dataset: Dataset, s: SanitySummary, title: string): Promise<{ file: string; caption: string; png: Uint8Array }[]> {
  const n = Math.min(config.settings.figureImages, dataset.entries.length);
  const stages = new Map<string, Float32Array | null>();
  let h = 0;
  let w = 0;
  for (const st of s.stages) {
    try {
      const a = decodeNpy(await readFile(mapsFile(out, st.id)), mapsFile(out, st.id));
      [, , h, w] = a.dims as [number, number, number, number];
      stages.set(st.id, a.data);
    } catch {
      stages.set(st.id, null);
    }
  }
  if (h === 0) return [];
  const tile = Math.max(64, Math.min(112, Math.max(h, w)));
  const methods = config.methods;
  const grids: { file: string; caption: string; png: Uint8Array }[] = [];
  for (let i = 0; i < n; i++) {
    const entry = dataset.entries[i]!;
    const display = (await loadImage(entry.path, config.preprocess)).display;
    for (const mode of config.settings.modes) {
      const shown = spread(stagesOf(s, mode), 21);
      const layout = layoutGrid({
        rows: methods.map((m) => methodLabel(m)),
        columns: shown.map((st) => headerLines(stageLabel(st))),
        tile,
        fontSize: 11,
        title: `${title}, ${entry.file}: ${mode === 'cascading' ? 'cascading randomization (top → down)' : 'single-layer randomization'}`,
      });
      const cells = methods.map((_, mi) =>
        shown.map((st): PixelImage | null => {
          const data = stages.get(st.id);
          if (!data) return null;
          const start = (i * methods.length + mi) * h * w;
          return heatmapRGBA(data.subarray(start, start + h * w), w, h, { signed: false });
        }),
      );
      const png = await gridPng(layout, { input: display, cells }, { resample: tile >= Math.max(h, w) ? 'nearest' : 'bilinear' });
      grids.push({
        file: `maps-${mode}-${i}.png`,
        caption: `${entry.file}: the maps (scored map, 99.5th-percentile colour scale per tile) of the trained model and of the ${mode === 'cascading' ? 'cascade' : 'single-layer'} stages${shown.length < stagesOf(s, mode).length ? ` (${shown.length} of ${stagesOf(s, mode).length}, evenly spaced)` : ''}; column = the layer re-initialized ${mode === 'cascading' ? 'last (with every layer above it)' : ''}.`,
        png,
      });
    }
  }
  return grids;
}

function table(head: string[], body: string[][]): string {
  return `<table><thead><tr>${head.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}

function modeTable(s: SanitySummary, mode: SanityMode): string {
  const head = ['stage', ...s.methods.map((m) => `${esc(methodLabel(m as EvalMethodName))}<br><span class="c">ρ scored / ρ signed / SSIM</span>`), 'prediction unchanged'];
  const rows = stagesOf(s, mode).map((st) => [
    esc(stageLabel(st)),
    ...s.methods.map((m) => SANITY_METRICS.map((k) => fmt(st.methods[m]![k].mean)).join(' / ')),
    Number.isFinite(st.agreement) ? `${(100 * st.agreement).toFixed(1)} %` : '–',
  ]);
  return `<h2>${esc(MODE_TEXT[mode][0]!.toUpperCase() + MODE_TEXT[mode].slice(1))}</h2>${table(head, rows)}`;
}

export function sanityHtml(config: SanityConfig, s: SanitySummary, figures: { file: string; caption: string }[], runs: unknown[]): string {
  const title = `${basename(config.model.file).replace(/\.onnx$/i, '')} — sanity checks`;
  const init = config.settings.init === 'he' ? 'He normal N(0, 2/fan-in)' : "a truncated normal (±2σ) with the layer's own trained standard deviation";
  const figs = figures.map((f) => `<figure><img src="${esc(f.file)}" alt="${esc(f.caption)}"><figcaption>${esc(f.caption)}</figcaption></figure>`).join('\n');
  const layers = config.settings.layers.map((l) => `${l.index}: ${esc(l.name)} (${esc(l.op)}${l.batchNorm ? ` + ${esc(l.batchNorm)}` : ''})`).join(', ');
  const timing = runs
    .map((r) => r as { processed?: number; seconds?: number; finished?: string; loadAverage?: number[] })
    .map((r) => `${r.processed} image × stage pairs in ${r.seconds} s${r.loadAverage ? `, load ${r.loadAverage.join(' / ')}` : ''}${r.finished ? ` — ${esc(r.finished)}` : ''}`);
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
thead th{background:#f3f3f3}tbody th{text-align:left;font-weight:normal}
.c{color:#777;font-size:11px;font-weight:normal}figure{margin:1.5em 0}img{max-width:100%}figcaption{color:#555;font-size:14px}code{font-size:12px}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Model randomization (Adebayo et al. 2018; Nie et al. 2018 §4.5). <b>Cascading</b>: the layers from the logits down to the named one are re-initialized, the ones below keep their trained weights. <b>Single</b>: only the named layer is re-initialized. Re-initialization: weights from ${init}, biases 0, BatchNormalization reset (scale 1, shift 0, mean 0, variance 1); seed ${config.settings.seed}. Each stage's map of the ${config.settings.target === 'label' ? 'ground-truth' : "trained model's predicted"} class is compared with the trained model's map: Spearman's ρ of the scored maps (${config.methods.map((m) => `${esc(m)}: ${esc(MAP_KIND_TEXT[config.maps[m]!])}`).join('; ')}), Spearman's ρ of the signed channel sums, and the SSIM of the min-max normalized scored maps. A method whose map depends on the model keeps low similarity once layers are random; one that stays near 1 does not explain the model. ${s.images} images; per-record data: <a href="${RESULTS_FILE}">${RESULTS_FILE}</a>, <a href="summary.json">summary.json</a>, <a href="summary.csv">summary.csv</a>.</p>
${config.settings.modes.map((m) => modeTable(s, m)).join('\n')}
${figs}
<h2>Configuration</h2>
${table(['', ''], [
  ['model', `${esc(config.model.file)} <span class="c">sha256 ${esc(config.model.sha256.slice(0, 16))}…, input [${config.model.inputShape.join(', ')}]</span>`],
  ['data', `${esc(config.data.folder)} <span class="c">(${esc(basename(config.data.annotations))})</span>`],
  ['preprocessing', esc(describePreprocess(config.preprocess))],
  ['learnable layers', layers],
  ['runs', timing.join('<br>') || '–'],
])}
</body></html>
`;
}

/** Reads the records of `out` and writes the summary, CSV, figures and index.html. */
export async function writeSanityReport(out: string, config: SanityConfig, stages: readonly SanityStage[], dataset: Dataset): Promise<{ summary: SanitySummary; files: string[] }> {
  const { records } = await readRecords<SanityRecord>(join(out, RESULTS_FILE));
  const summary = summarizeSanity(records, stages, config.methods);
  const runs = await readRunLog(out);
  const title = basename(config.model.file).replace(/\.onnx$/i, '');
  const files: FileToWrite[] = [
    { path: join(out, 'summary.json'), data: `${JSON.stringify({ evaluation: 'sanity', config, summary, runs }, nonFiniteAsNull, 2)}\n` },
    { path: join(out, 'summary.csv'), data: sanityCsv(summary) },
  ];
  const shown: { file: string; caption: string }[] = [];
  if (summary.images > 0) {
    const { renderPng } = await import('./plots.js');
    for (const f of sanityFigures(summary, config.settings.modes, title)) {
      files.push({ path: join(out, f.file), data: await renderPng(f.spec) });
      shown.push(f);
    }
    for (const g of await mapGrids(out, config, dataset, summary, title)) {
      files.push({ path: join(out, g.file), data: g.png });
      shown.push(g);
    }
  }
  files.push({ path: join(out, 'index.html'), data: sanityHtml(config, summary, shown, runs) });
  await writeFilesAtomic(files);
  return { summary, files: files.map((f) => f.path) };
}
