/**
 * What `backlight explain` reports: the summary written to `<out>/summary.json` and printed by
 * `--json` (one line), and the short text printed otherwise.
 */
import { createRequire } from 'node:module';
import { relative } from 'node:path';
import { describePreprocess, type Preprocess } from '../io/preprocess.js';
import type { ExplainMethodName as MethodName, MethodParams } from '../core.js';
import type { CliIO } from './errors.js';
import type { InputKind } from './inputs.js';
import { shapeText } from './inputs.js';
import { positionLabel, type TargetPosition } from '../core.js';

/** One target slot of an input's results and the name its files get. */
export interface TargetSlot extends TargetPosition {
  /** The class used for each image of the batch. */
  classes: number[];
  /** `<target>` in `<method>__<target>.npy`: the class when all images agree, else the spec label. */
  name: string;
}

// Class scores (shared with the browser page): src/methods/predictions.ts.
export { className, predictionOf, softmaxRow, topPredictions, type Prediction } from '../core.js';
import type { Prediction } from '../core.js';

/** One target explained by one method for one image, and the files that show it. */
export interface TargetUse extends Prediction {
  /** The target as asked: `max`, `3`, `top5-2` (the second of top5). */
  target: string;
  /** File names in the input's folder; png and overlay are null when no pictures are drawn. */
  npy: string;
  /** Layer maps (framework methods, --aggregation): layer → .npy of the raw map at its resolution. */
  layers?: Record<string, string>;
  png: string | null;
  overlay: string | null;
}

export interface ImageReport {
  /** Index in the batch. */
  index: number;
  /** The best classes, best first (5, or all classes of a smaller model). */
  predictions: Prediction[];
  /** The targets each method explained, with their files. */
  methods: Partial<Record<MethodName, TargetUse[]>>;
  /** The figure (methods × targets) in the input's folder; null when no pictures are drawn. */
  grid: string | null;
}

export interface MethodTiming {
  method: MethodName;
  compileMs: number;
  runMs: number;
}

export interface InputReport {
  input: string;
  kind: InputKind;
  dir: string;
  shape: number[];
  /** For image files: the size and format of the file as decoded. */
  original?: { width: number; height: number; format: string };
  /** The model the set was computed with (sets of different runs can share a folder). */
  model?: string;
  targets: TargetSlot[];
  /** targets[n][k] of the library: the class for image n and slot k. */
  perImage: number[][];
  images: ImageReport[];
  /** Every file written for this input (paths under --out). */
  files: string[];
  /** Why no PNG was drawn (null when they were). */
  noPictures: string | null;
  timings: MethodTiming[];
}

/**
 * What an input's targets.json records of its whole set (under `set`), so that summary.json can be
 * rebuilt from the sets in a folder: file names are relative to the set's folder; no timings.
 */
export interface SetRecord {
  model: string;
  kind: InputKind;
  original?: { width: number; height: number; format: string };
  images: ImageReport[];
  files: string[];
  noPictures: string | null;
}

/** An earlier run whose files are still in the folder (merged into this summary). */
export interface EarlierRun {
  commandLine: string;
  model: string;
  methods: MethodName[];
  targets: string[];
}

export interface PreprocessSummary extends Preprocess {
  description: string;
}

export interface DisplaySummary {
  png: boolean;
  /** Per method: what its heatmaps show. */
  methods: Partial<Record<MethodName, { values: 'signed channel sum' | 'max |.| over channels'; colormap: string }>>;
  clipPercentile: number;
  /** Overlay opacity. */
  opacity: number;
}

export interface ExplainReport {
  command: 'explain';
  /** The command line, quoted for a POSIX shell. */
  commandLine: string;
  argv: string[];
  versions: Versions;
  model: string;
  classes: number | null;
  labels: string | null;
  out: string;
  /** The methods that ran. */
  methods: MethodName[];
  /** The methods given that the model refused, and why (nothing of theirs was written). */
  refused: Array<{ method: MethodName; reason: string }>;
  /** The parameters each method was run with, defaults filled in (methods without any are left out). */
  params: Partial<Record<MethodName, MethodParams>>;
  /** The zB rule's pixel bounds and where they came from (null when no method uses zB). */
  zbBounds: { source: '--box' | 'preprocessing'; low: number[]; high: number[] } | null;
  targets: string[];
  /** The preprocessing of image files (or used to draw .npy inputs); null for .npy inputs without one. */
  preprocessing: PreprocessSummary | null;
  display: DisplaySummary;
  inputs: InputReport[];
  dumpGraph: string | null;
  /** One line each on what the run did differently from what was asked or on what its maps can show (also printed on stderr). */
  notes: string[];
  /** The path of summary.json. */
  summary: string;
  /** Earlier runs into the same folder whose files `inputs` still describes (oldest first). */
  earlierRuns?: EarlierRun[];
  timings: { loadMs: number; totalMs: number };
}

export interface Versions {
  backlight: string;
  onnxruntimeNode: string;
  node: string;
}

const require = createRequire(import.meta.url);

function versionOf(pkg: string): string {
  try {
    return (require(pkg) as { version?: string }).version ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/** Backlight's version (src/cli and dist/cli both sit two levels below package.json). */
export function backlightVersion(): string {
  const v = versionOf('../../package.json');
  return v === 'unknown' ? '0.0.0' : v;
}

export function versions(): Versions {
  return { backlight: backlightVersion(), onnxruntimeNode: versionOf('onnxruntime-node/package.json'), node: process.version };
}

/** Quotes one argument for a POSIX shell when it needs it. */
export function shellQuote(arg: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

export function commandLine(argv: readonly string[]): string {
  return ['backlight', ...argv.map(shellQuote)].join(' ');
}

export function summarizePreprocess(p: Preprocess | null): PreprocessSummary | null {
  return p ? { ...p, mean: [...p.mean], std: [...p.std], description: describePreprocess(p) } : null;
}

/** JSON with two-space indentation, but arrays of numbers on one line. */
export function prettyJson(value: unknown): string {
  return JSON.stringify(value, null, 2).replace(/\[\s*(-?[0-9.e+-]+(?:,\s*-?[0-9.e+-]+)*)\s*\]/g, (_, inner: string) => `[${inner.split(/,\s*/).join(', ')}]`);
}

export function round(ms: number): number {
  return Math.round(ms * 10) / 10;
}

/** Prints the report: nothing (quiet), one JSON line, or a short text. */
/** One line of a method's parameters: "composite gu2018, zB box [-2.12, …]..[2.25, …]". */
export function describeParams(p: MethodParams): string {
  const fmt = (v: readonly number[]): string => (v.length === 1 ? `${+v[0]!.toFixed(4)}` : `[${v.map((x) => +x.toFixed(4)).join(', ')}]`);
  const parts: string[] = [];
  if (typeof p.composite === 'string') parts.push(`composite ${p.composite}`);
  if (p.epsilon !== undefined) parts.push(`ε ${p.epsilon}`);
  if (p.alpha !== undefined || p.beta !== undefined) parts.push(`α ${p.alpha ?? 1}, β ${p.beta ?? 0}`);
  if (p.box) parts.push(`zB bounds ${fmt(p.box.low)} to ${fmt(p.box.high)}`);
  if (p.normalize) parts.push('sum-normalized');
  if (p.seed) parts.push(`seed ${p.seed}`);
  return parts.join(', ');
}

/** `written`: the input folders this run wrote (the text leaves out earlier sets summary.json also lists). */
export function printReport(report: ExplainReport, format: 'json' | 'text' | 'quiet', io: CliIO, written?: readonly string[]): void {
  if (format === 'quiet') return;
  if (format === 'json') {
    io.stdout(`${JSON.stringify(report)}\n`);
    return;
  }
  const lines: string[] = [];
  let count = 0;
  for (const r of report.inputs) {
    if (written && !written.includes(r.dir)) continue;
    const targets = r.targets.map((s) => (s.name === s.spec ? s.spec : `${positionLabel(s)}=${s.name}`)).join(', ');
    lines.push(`${r.input} ${shapeText(r.shape)}: targets ${targets}`);
    for (const img of r.images) {
      const best = img.predictions[0];
      if (!best) continue;
      const which = r.images.length > 1 ? ` (image ${img.index})` : '';
      lines.push(`  predicted${which}: ${best.index}${best.name ? ` ${best.name}` : ''} (p = ${best.probability.toFixed(3)})`);
    }
    for (const t of r.timings) lines.push(`  ${t.method.padEnd(18)}compile ${Math.round(t.compileMs)} ms, run ${Math.round(t.runMs)} ms`);
    lines.push(`  wrote ${r.files.length} files to ${r.dir}${r.dir.endsWith('/') ? '' : '/'}: ${r.files.map((f) => relative(r.dir, f)).join(', ')}`);
    if (r.noPictures) lines.push(`  no PNG: ${r.noPictures}`);
    count += r.files.length;
  }
  if (report.dumpGraph) {
    lines.push(`wrote the compiled graph of ${report.methods[0]} to ${report.dumpGraph}`);
    count++;
  }
  for (const [m, p] of Object.entries(report.params)) lines.push(`${m}: ${describeParams(p)}${report.zbBounds && p.box ? ` (from ${report.zbBounds.source})` : ''}`);
  const kept = report.inputs.length - (written?.length ?? report.inputs.length);
  lines.push(`wrote the summary to ${report.summary}${kept > 0 ? ` (it also lists ${kept} earlier input folder${kept === 1 ? '' : 's'} kept in ${report.out})` : ''}`);
  count++;
  lines.push(`done: ${count} files in ${(report.timings.totalMs / 1000).toFixed(2)} s`);
  io.stdout(`${lines.join('\n')}\n`);
}
