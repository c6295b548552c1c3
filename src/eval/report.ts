/**
 * The outputs of an evaluation folder, all recomputed from the per-image records:
 * - `summary.json`: the configuration (run.json), the summary, the runs' timings (runs.jsonl);
 * - `summary.csv`: one row per method (or baseline) × metric × image subset:
 *   `evaluation,name,kind,subset,metric,value,n`;
 * - `per-class.csv` (pointing): per class, the images and each method's and baseline's accuracy;
 * - PNG figures (plots.ts) and `index.html` with the tables and figures.
 * `finalizeRun` merges the shard files into results.jsonl first (`backlight eval merge`).
 */
import { basename, join } from 'node:path';
import { BacklightError } from '../errors.js';
import { writeFilesAtomic, type FileToWrite } from '../io/files.js';
import { describePreprocess, type Preprocess } from '../io/preprocess.js';
import type { MethodParams } from '../methods/methods.js';
import { summarizeAblation, type AblationConfig, type AblationRecord, type AblationSummary } from './ablation.js';
import { esc, fmt, fmtPct, table } from './html.js';
import { MAP_KIND_TEXT, type EvalMethodName, type MapKind } from './maps.js';
import type { Figure } from './plots.js';
import { POINTING_SUBSETS, summarizePointing, type PointingConfig, type PointingRecord, type PointingSummary } from './pointing.js';
import { mergeRecordFiles, readRunConfig, readRunLog, type BaseRecord } from './records.js';
import { summarizeSensitivity, type SensitivityConfig, type SensitivityRecord, type SensitivitySummary } from './sensitivity.js';
import { sensitivityCsvRows, sensitivityFigures, sensitivityHtml } from './sensitivityReport.js';
import { summarizeAdversarial, type AdversarialConfig, type AdversarialRecord, type AdversarialSummary } from './adversarial.js';
import { adversarialCsvRows, adversarialFigures, adversarialHtml } from './adversarialReport.js';

export const EVAL_KINDS = ['pointing', 'ablation', 'sensitivity', 'adversarial'] as const;
export type EvalKind = (typeof EVAL_KINDS)[number];

/** What run.json holds. Compared key by key on re-runs (see runner.ts). */
export interface RunConfig {
  evaluation: EvalKind;
  model: { file: string; sha256: string; inputShape: (number | string)[] };
  data: { folder: string; annotations: string };
  preprocess: Preprocess;
  methods: EvalMethodName[];
  maps: Record<string, MapKind>;
  params: Record<string, MethodParams>;
  /** The evaluation's own settings (PointingConfig or AblationConfig without `methods`). */
  settings: Record<string, unknown>;
}

export type AnySummary = PointingSummary | AblationSummary | SensitivitySummary | AdversarialSummary;

export function summarizeRecords(config: RunConfig, records: readonly BaseRecord[]): AnySummary {
  if (config.evaluation === 'pointing') {
    return summarizePointing(records as PointingRecord[], { ...(config.settings as Omit<PointingConfig, 'methods'>), methods: config.methods });
  }
  if (config.evaluation === 'sensitivity') {
    return summarizeSensitivity(records as SensitivityRecord[], { ...(config.settings as Omit<SensitivityConfig, 'methods'>), methods: config.methods });
  }
  if (config.evaluation === 'adversarial') {
    return summarizeAdversarial(records as AdversarialRecord[], { ...(config.settings as Omit<AdversarialConfig, 'methods'>), methods: config.methods });
  }
  return summarizeAblation(records as AblationRecord[], { ...(config.settings as Omit<AblationConfig, 'methods'>), methods: config.methods });
}

/** A short title: the model file's name and the evaluation. */
function titleOf(config: RunConfig): string {
  return basename(config.model.file).replace(/\.onnx$/i, '');
}

const csvCell = (v: unknown): string => {
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v ?? '');
  return /[",\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
};
const csvLine = (cells: unknown[]): string => `${cells.map(csvCell).join(',')}\n`;

export const CSV_HEADER = ['evaluation', 'name', 'kind', 'subset', 'metric', 'value', 'n'];

/** The rows of summary.csv (without the header). */
export function summaryCsvRows(s: AnySummary): unknown[][] {
  if (s.evaluation === 'sensitivity') return sensitivityCsvRows(s);
  if (s.evaluation === 'adversarial') return adversarialCsvRows(s);
  const rows: unknown[][] = [];
  if (s.evaluation === 'pointing') {
    for (const r of s.rows) {
      for (const sub of POINTING_SUBSETS) {
        const a = r.subsets[sub];
        rows.push(['pointing', r.name, r.kind, sub, 'accuracy_images', a.overImages, a.images]);
        rows.push(['pointing', r.name, r.kind, sub, 'accuracy_classes', a.overClasses, a.classes]);
      }
    }
    for (const [m, e] of Object.entries(s.energy)) {
      for (const sub of POINTING_SUBSETS) {
        const es = e.subsets[sub];
        e.levels.forEach((p, k) => rows.push(['pointing', m, 'method', sub, `energy_accuracy_p${p}`, es.accuracy[k], es.images]));
        e.levels.forEach((p, k) => rows.push(['pointing', m, 'method', sub, `energy_inside_p${p}`, es.meanInsideFraction[k], es.images]));
      }
    }
  } else {
    for (const r of s.rows) {
      const add = (metric: string, v: number, n: number) => rows.push(['ablation', r.name, r.kind, 'all', metric, v, n]);
      add('logit_drop_mean', r.logitDrop.mean, r.logitDrop.n);
      add('logit_drop_sem', r.logitDrop.sem, r.logitDrop.n);
      add('prob_drop_mean', r.probDrop.mean, r.probDrop.n);
      add('prob_drop_sem', r.probDrop.sem, r.probDrop.n);
      if (r.deletionAuc) add('deletion_auc_mean', r.deletionAuc.mean, r.deletionAuc.n);
      if (r.insertionAuc) add('insertion_auc_mean', r.insertionAuc.mean, r.insertionAuc.n);
    }
  }
  return rows;
}

/** summary.csv as text. */
export function summaryCsv(s: AnySummary): string {
  return csvLine(CSV_HEADER) + summaryCsvRows(s).map(csvLine).join('');
}

function perClassCsv(s: PointingSummary): string {
  const names = s.rows.map((r) => r.name);
  const byClass = new Map<number, { images: number; acc: Record<string, number> }>();
  for (const name of names) {
    for (const c of s.perClass[name] ?? []) {
      const e = byClass.get(c.classId) ?? { images: c.images, acc: {} };
      e.acc[name] = c.accuracy;
      byClass.set(c.classId, e);
    }
  }
  const lines = [csvLine(['class', 'images', ...names])];
  for (const [c, e] of [...byClass.entries()].sort((a, b) => a[0] - b[0])) lines.push(csvLine([c, e.images, ...names.map((n) => e.acc[n])]));
  return lines.join('');
}

// ---------------------------------------------------------------------------------------------
// HTML


function pointingHtml(s: PointingSummary): string {
  const subsetHead = POINTING_SUBSETS.map((sub) => `${esc(sub)} (${s.subsetImages[sub]})`);
  const parts: string[] = [];
  parts.push(`<h2>Pointing game</h2><p>Hit: the map's first maximum lies within ${s.tolerance} px of a ground-truth box (in model-input pixels). Accuracy over images (hits / images); in brackets over classes (mean of the per-class accuracies). Subsets: <b>small</b> = boxes cover less than ${s.smallThreshold * 100} % of the image; <b>difficult</b> = small and missed by the centre point. ${s.images} images, ${s.classes} classes; the model's top-1 on them: ${fmtPct(s.top1)}.</p>`);
  parts.push(
    table(
      ['', ...subsetHead],
      s.rows.map((r) => [
        `${esc(r.label)}${r.kind === 'baseline' ? ' <span class="b">(baseline)</span>' : ''}`,
        ...POINTING_SUBSETS.map((sub) => `${fmtPct(r.subsets[sub].overImages)} <span class="c">(${fmtPct(r.subsets[sub].overClasses)})</span>`),
      ]),
    ),
  );
  const methods = Object.keys(s.energy);
  if (methods.length) {
    const levels = s.energy[methods[0]!]!.levels;
    const label = (m: string): string => esc(s.rows.find((r) => r.name === m)?.label ?? m);
    parts.push(`<h2>Energy-threshold pointing game</h2><p>Keep the highest pixels of the map until they hold p % of its energy; hit if every kept pixel lies inside the boxes. Accuracy over all ${s.subsetImages.all} images; below, the mean share of the kept energy inside the boxes.</p>`);
    parts.push(table(['p', ...levels.map(String)], methods.map((m) => [label(m), ...s.energy[m]!.subsets.all.accuracy.map(fmtPct)])));
    parts.push(table(['inside, p', ...levels.map(String)], methods.map((m) => [label(m), ...s.energy[m]!.subsets.all.meanInsideFraction.map(fmtPct)])));
  }
  return parts.join('\n');
}

function ablationHtml(s: AblationSummary): string {
  const parts: string[] = [];
  parts.push(`<h2>Patch ablation (Gu et al. Table 1 layout)</h2><p>Mean drop of the target's (${s.target === 'label' ? 'ground-truth' : 'predicted'} class) logit when a ${s.patchSize}×${s.patchSize} patch around the map's maximum is replaced by the dataset mean (fill ${s.fill.map((v) => +v.toFixed(4)).join(', ')} in normalized units); <i>Random</i>: the patch around a random pixel. ${s.images} images; top-1 ${fmtPct(s.top1)}; mean target logit before ${fmt(s.before.logit.mean, 3)}, probability ${fmt(s.before.prob.mean, 3)}.</p>`);
  parts.push(table(['', ...s.rows.map((r) => esc(r.label))], [
    ['logit drop', ...s.table1.logitDrop.map((v) => fmt(v))],
    ['probability drop', ...s.table1.probDrop.map((v) => fmt(v))],
  ]));
  const hasCurves = s.rows.some((r) => r.deletionAuc);
  const head = ['', 'logit drop (± sem)', 'probability drop (± sem)', ...(hasCurves ? ['deletion AUC ↓', 'insertion AUC ↑'] : [])];
  parts.push(table(head, s.rows.map((r) => [
    esc(r.label),
    `${fmt(r.logitDrop.mean)} ± ${fmt(r.logitDrop.sem)}`,
    `${fmt(r.probDrop.mean)} ± ${fmt(r.probDrop.sem)}`,
    ...(hasCurves ? [fmt(r.deletionAuc?.mean), fmt(r.insertionAuc?.mean)] : []),
  ])));
  if (hasCurves) parts.push(`<p>Deletion / insertion: ${s.steps} steps, pixels ordered by decreasing map value, deleted to (or inserted from) the baseline 0; AUC of the target's softmax probability over the fraction of pixels changed.</p>`);
  return parts.join('\n');
}

function configHtml(config: RunConfig, summary: AnySummary, runs: unknown[]): string {
  const rows: string[][] = [
    ['model', `${esc(config.model.file)} <span class="c">sha256 ${esc(config.model.sha256.slice(0, 16))}…, input [${config.model.inputShape.join(', ')}]</span>`],
    ['data', `${esc(config.data.folder)} <span class="c">(${esc(basename(config.data.annotations))})</span>`],
    ['preprocessing', esc(describePreprocess(config.preprocess))],
    ['maps', config.methods.map((m) => `${esc(m)}: ${esc(MAP_KIND_TEXT[config.maps[m]!])}`).join('<br>')],
    ['settings', `<code>${esc(JSON.stringify(config.settings))}</code>`],
  ];
  const params = Object.entries(config.params).filter(([, p]) => Object.keys(p).length > 0);
  if (params.length) rows.push(['method parameters', params.map(([m, p]) => `${esc(m)}: <code>${esc(JSON.stringify(p))}</code>`).join('<br>')]);
  const timing = runs
    .map((r) => r as { processed?: number; seconds?: number; shard?: string | null; loadAverage?: number[]; threads?: number | null; finished?: string })
    .map((r) => `${r.processed} images in ${r.seconds} s${r.shard ? ` (shard ${r.shard})` : ''}, load ${(r.loadAverage ?? []).join(' / ')}${r.threads ? `, ${r.threads} threads` : ''}${r.finished ? ` — ${esc(r.finished)}` : ''}`);
  if (timing.length) rows.push(['runs', timing.join('<br>')]);
  rows.push(['images', String(summary.images)]);
  return `<h2>Configuration</h2>${table(['', ''], rows)}`;
}

export function indexHtml(config: RunConfig, summary: AnySummary, figures: Figure[], runs: unknown[]): string {
  const title = `${titleOf(config)} — ${config.evaluation} evaluation`;
  const body =
    summary.evaluation === 'pointing' ? pointingHtml(summary) :
    summary.evaluation === 'sensitivity' ? sensitivityHtml(summary) :
    summary.evaluation === 'adversarial' ? adversarialHtml(summary) :
    ablationHtml(summary);
  const figs = figures.map((f) => `<figure><img src="${esc(f.file)}" alt="${esc(f.caption)}"><figcaption>${esc(f.caption)}</figcaption></figure>`).join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)}</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:14px}th,td{border:1px solid #ccc;padding:4px 8px;text-align:right}
thead th{background:#f3f3f3}tbody th{text-align:left;font-weight:normal}td:first-child{text-align:left}
.c,.b{color:#777;font-size:12px}figure{margin:1.5em 0}img{max-width:100%}figcaption{color:#555;font-size:14px}
code{font-size:12px}
</style></head><body>
<h1>${esc(title)}</h1>
<p>Per-image records: <a href="results.jsonl">results.jsonl</a>; summary: <a href="summary.json">summary.json</a>, <a href="summary.csv">summary.csv</a>${summary.evaluation === 'pointing' ? ', <a href="per-class.csv">per-class.csv</a>' : ''}.</p>
${body}
${figs}
${configHtml(config, summary, runs)}
</body></html>
`;
}

/**
 * JSON of summaries: non-finite numbers as null, and the per-class accuracies (hundreds of classes
 * × rows) left to per-class.csv.
 */
export function jsonReplacer(key: string, value: unknown): unknown {
  if (key === 'perClass') return 'per-class.csv';
  return nonFiniteAsNull(key, value);
}

/** JSON.stringify replacer: NaN and ±∞ (which JSON cannot hold) as null. */
export function nonFiniteAsNull(_key: string, value: unknown): unknown {
  return typeof value === 'number' && !Number.isFinite(value) ? null : value;
}

/** Everything written into the folder, given the summary. */
export async function reportFiles(out: string, config: RunConfig, summary: AnySummary, runs: unknown[]): Promise<FileToWrite[]> {
  const title = titleOf(config);
  // Vega is loaded only when figures are drawn (it adds ~0.3 s to the start of every command).
  const { ablationFigures, pointingFigures, renderPng } = await import('./plots.js');
  const figures =
    summary.evaluation === 'pointing' ? pointingFigures(summary, title) :
    summary.evaluation === 'sensitivity' ? sensitivityFigures(summary, title) :
    summary.evaluation === 'adversarial' ? adversarialFigures(summary, title) :
    ablationFigures(summary, title);
  const files: FileToWrite[] = [];
  const summaryJson = { evaluation: config.evaluation, config, summary, runs };
  files.push({ path: join(out, 'summary.json'), data: `${JSON.stringify(summaryJson, jsonReplacer, 2)}\n` });
  files.push({ path: join(out, 'summary.csv'), data: summaryCsv(summary) });
  if (summary.evaluation === 'pointing') files.push({ path: join(out, 'per-class.csv'), data: perClassCsv(summary) });
  if (summary.images > 0) for (const f of figures) files.push({ path: join(out, f.file), data: await renderPng(f.spec) });
  files.push({ path: join(out, 'index.html'), data: indexHtml(config, summary, summary.images > 0 ? figures : [], runs) });
  return files;
}

export interface FinalizeResult {
  config: RunConfig;
  summary: AnySummary;
  records: number;
  shards: string[];
  files: string[];
}

/**
 * Merges every record file of `out` into results.jsonl, recomputes the summary and writes the
 * report. Throws a usage error when `out` holds no evaluation (no run.json).
 */
export async function finalizeRun(out: string): Promise<FinalizeResult> {
  const config = await readRunConfig<RunConfig>(out);
  if (!config) throw new BacklightError(`'${out}' holds no evaluation (no run.json): give the --out folder of an 'eval ${EVAL_KINDS.join('|')}' run`, 'usage');
  if (String(config.evaluation) === 'sanity') {
    throw new BacklightError(`'${out}' holds an 'eval sanity' run, which is not sharded: there is nothing to merge (rerun 'eval sanity' with the same options to resume it)`, 'usage');
  }
  if (!(EVAL_KINDS as readonly string[]).includes(config.evaluation)) throw new BacklightError(`'${join(out, 'run.json')}' names an unknown evaluation '${String(config.evaluation)}'`);
  const { records, shards } = await mergeRecordFiles<BaseRecord>(out, true);
  const summary = summarizeRecords(config, records);
  const files = await reportFiles(out, config, summary, await readRunLog(out));
  await writeFilesAtomic(files);
  return { config, summary, records: records.length, shards, files: files.map((f) => f.path) };
}
