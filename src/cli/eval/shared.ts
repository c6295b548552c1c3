/**
 * `backlight eval`: evaluate explanations on a labelled image set.
 *
 * ```sh
 * npx backlight eval pointing --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --out eval/pointing
 * npx backlight eval ablation --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --out eval/ablation
 * npx backlight eval pointing … --shard 0/2 --out eval/pointing   # and 1/2 elsewhere, then:
 * npx backlight eval merge eval/pointing
 * ```
 *
 * The runner (src/eval/runner.ts) appends one JSON line per image to `<out>/results.jsonl` (or the
 * shard's file), skips images already there, and — unless sharded — writes the summary, CSV,
 * figures and index.html (src/eval/report.ts). Everything that can be checked is checked before
 * the first image: options, model, preprocessing, data list, output folder, configuration.
 */
import { resolve } from 'node:path';
import cliProgress from 'cli-progress';
import type { Command } from 'commander';
import { Explainer } from '../../index.js';
import { checkWritableFolder, readHashed } from '../../io/files.js';
import { loadImage } from '../../io/image.js';
import { PRESET_NAMES, resolvePreprocess, type Preprocess } from '../../io/preprocess.js';
import type { CoreExplainer } from '../../core.js';
import { GRADIENT_FAMILY } from '../../core.js';
import { ENERGY_LEVELS } from '../../metrics/energyPointing.js';
import { ablationEvaluation, defaultPatchSize, type AblationConfig } from '../../eval/ablation.js';
import { loadDataset, parseShard, shardEntries, type Dataset, type Shard } from '../../eval/datasets.js';
import { Forward } from '../../eval/forward.js';
import { evalMethodNames, mapKind, paramsOf, type EvalMethodName } from '../../eval/maps.js';
import { DEFAULT_POINTING, POINTING_SUBSETS, pointingEvaluation, type PointingConfig, type PointingRecord } from '../../eval/pointing.js';
import { readRunConfig, type BaseRecord } from '../../eval/records.js';
import { adversarialEvaluation, DEFAULT_EPSILON, type AdversarialConfig } from '../../eval/adversarial.js';
import { adversarialText } from '../../eval/adversarialReport.js';
import { sensitivityEvaluation, SENSITIVITY_METHODS } from '../../eval/sensitivity.js';
import { sensitivityText } from '../../eval/sensitivityReport.js';
import { readLabels } from '../labels.js';
import { finalizeRun, jsonReplacer, type AnySummary, type EvalKind, type FinalizeResult, type RunConfig } from '../../eval/report.js';
import { runEvaluation, type Evaluation, type RunProgress, type RunStats } from '../../eval/runner.js';
import type { CliIO } from '../errors.js';
import { parsePreprocessOptions, type PreprocessCliOptions } from '../inputs.js';
import { collect, integerOption, numberOption, usage } from '../options.js';

/** Options shared by `eval pointing` and `eval ablation`, as commander parses them. */
export interface EvalCliOptions extends PreprocessCliOptions {
  model: string;
  data: string;
  annotations?: string;
  method?: string[];
  out: string;
  limit?: string;
  batch?: string;
  shard?: string;
  threads?: string;
  seed?: string;
  quiet?: boolean;
  json?: boolean;
  // pointing
  tolerance?: string;
  levels?: string;
  small?: string;
  // ablation
  patch?: string;
  fill?: string;
  steps?: string;
  target?: string;
  // adversarial
  epsilon?: string;
  grid?: string;
  labels?: string;
}

/** What `backlight eval …` reports (`--json` prints it on one line). */
export interface EvalReport {
  evaluation: EvalKind;
  out: string;
  shard: string | null;
  run: RunStats;
  /** Absent for a shard (run `eval merge`). */
  summary?: AnySummary;
  files?: string[];
}

/** The methods of `--method` (comma-separated, repeatable); default: the gradient family. */
export function parseMethods(values: readonly string[] | undefined, defaults: readonly EvalMethodName[] = GRADIENT_FAMILY): EvalMethodName[] {
  const methods: EvalMethodName[] = [];
  for (const value of values?.length ? values : [defaults.join(',')]) {
    for (const raw of value.split(',')) {
      const name = raw.trim();
      const available = evalMethodNames();
      if (!name) throw usage(`--method '${value}' has an empty entry (available: ${available.join(', ')})`);
      if (!(available as readonly string[]).includes(name)) {
        throw usage(`unknown method '${name}' for eval (available: ${available.join(', ')})`);
      }
      const m = name as EvalMethodName;
      if (!methods.includes(m)) methods.push(m);
    }
  }
  return methods;
}

/** `--levels 5,10,…` or `--levels 5:100:5` (start:end:step). */
export function parseLevels(text: string | undefined): number[] {
  if (text === undefined) return [...ENERGY_LEVELS];
  const bad = (): never => {
    throw usage(`--levels '${text}' must be percentages in (0, 100]: a list (5,10,50,100) or start:end:step (5:100:5)`);
  };
  let levels: number[];
  const range = /^\s*([0-9.]+)\s*:\s*([0-9.]+)\s*:\s*([0-9.]+)\s*$/.exec(text);
  if (range) {
    const [a, b, s] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (!(s > 0 && a <= b)) bad();
    levels = [];
    for (let k = 0; a + k * s <= b + 1e-9; k++) levels.push(+(a + k * s).toFixed(6));
  } else {
    const parts = text.split(',').map((x) => x.trim());
    levels = parts.map(Number);
    if (parts.some((x) => x === '')) bad();
  }
  if (levels.length === 0 || levels.some((p) => !(p > 0 && p <= 100))) bad();
  return levels;
}

/** `--epsilon 2/255` or `--epsilon 0.008`: the FGSM step in [0, 1] pixel units. */
export function parseEpsilon(text: string | undefined): { epsilon: number; epsilonText: string } {
  const t = (text ?? DEFAULT_EPSILON).replace(/\s+/g, '');
  const m = /^([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)(?:\/([0-9]*\.?[0-9]+))?$/i.exec(t);
  const v = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
  if (!(Number.isFinite(v) && v > 0 && v <= 1)) throw usage(`--epsilon '${text}' must be a step in (0, 1] in pixel units of [0, 1] images: a number (0.008) or a fraction (2/255)`);
  return { epsilon: v, epsilonText: t };
}

/** Everything the options say, checked without touching files. */
export interface EvalPlan {
  evaluation: 'pointing' | 'ablation' | 'sensitivity' | 'adversarial';
  model: string;
  data: string;
  annotations?: string;
  methods: EvalMethodName[];
  out: string;
  limit?: number;
  batch: number;
  shard: Shard | null;
  threads?: number;
  seed: number;
  format: 'text' | 'json' | 'quiet';
  preprocess: ReturnType<typeof parsePreprocessOptions>;
  pointing?: Omit<PointingConfig, 'methods'>;
  ablation?: { patchSize?: number; fill: 'preset' | 'dataset' | number[]; steps: number; target: 'label' | 'predicted' };
  adversarial?: Omit<AdversarialConfig, 'methods'> & { labels?: string };
}

export function planEval(evaluation: EvalPlan['evaluation'], opts: EvalCliOptions): EvalPlan {
  if (opts.json && opts.quiet) throw usage('give either --json or --quiet, not both');
  const plan: EvalPlan = {
    evaluation,
    model: opts.model,
    data: opts.data,
    annotations: opts.annotations,
    methods: parseMethods(opts.method, evaluation === 'sensitivity' || evaluation === 'adversarial' ? SENSITIVITY_METHODS : GRADIENT_FAMILY),
    out: opts.out,
    limit: opts.limit === undefined ? undefined : integerOption('--limit', opts.limit, 0, 1),
    batch: integerOption('--batch', opts.batch, 1, 1),
    shard: opts.shard === undefined ? null : parseShard(opts.shard),
    threads: opts.threads === undefined ? undefined : integerOption('--threads', opts.threads, 0, 1),
    seed: integerOption('--seed', opts.seed, 0, 0),
    format: opts.json ? 'json' : opts.quiet ? 'quiet' : 'text',
    preprocess: parsePreprocessOptions(opts),
  };
  if (evaluation === 'sensitivity') return plan;
  if (evaluation === 'adversarial') {
    const target = (opts.target ?? 'predicted').trim().toLowerCase();
    if (target !== 'label' && target !== 'predicted') throw usage(`--target '${opts.target}' must be 'predicted' (the model's class on x) or 'label' (the ground truth)`);
    plan.adversarial = { ...parseEpsilon(opts.epsilon), target, grid: integerOption('--grid', opts.grid, 3, 0), labels: opts.labels };
    return plan;
  }
  if (evaluation === 'pointing') {
    plan.pointing = {
      tolerance: numberOption('--tolerance', opts.tolerance, DEFAULT_POINTING.tolerance, (v) => v >= 0, '≥ 0 (pixels)'),
      levels: parseLevels(opts.levels),
      seed: plan.seed,
      smallThreshold: numberOption('--small', opts.small, DEFAULT_POINTING.smallThreshold, (v) => v > 0 && v <= 1, 'in (0, 1] (share of the image)'),
    };
  } else {
    let fill: 'preset' | 'dataset' | number[] = 'preset';
    if (opts.fill !== undefined) {
      const f = opts.fill.trim().toLowerCase();
      if (f === 'preset' || f === 'dataset') fill = f;
      else {
        const parts = f.split(',').map((x) => x.trim());
        const values = parts.map(Number);
        if (parts.some((x) => x === '') || values.some((v) => !Number.isFinite(v))) {
          throw usage(`--fill '${opts.fill}' must be 'preset' (0, the preset's mean), 'dataset' (the images' per-channel mean) or numbers in normalized units (one, or one per channel)`);
        }
        fill = values;
      }
    }
    const target = (opts.target ?? 'label').trim().toLowerCase();
    if (target !== 'label' && target !== 'predicted') throw usage(`--target '${opts.target}' must be 'label' (the ground-truth class) or 'predicted'`);
    plan.ablation = {
      patchSize: opts.patch === undefined ? undefined : integerOption('--patch', opts.patch, 0, 1),
      fill,
      steps: integerOption('--steps', opts.steps, 16, 0),
      target,
    };
  }
  return plan;
}

/** A progress bar with ETA on the terminal (nothing without a TTY, or with --quiet/--json). */
export function evalProgress(io: CliIO | undefined, label: string, enabled: boolean): RunProgress | undefined {
  const stream = io?.progress;
  if (!enabled || !stream?.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {value}/{total} | ETA {eta_formatted} | {duration_formatted} | {file}`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start: (total) => {
      if (total > 0) {
        bar.start(total, 0, { file: '' });
        started = true;
      }
    },
    tick: (done, _total, file) => {
      if (started) bar.update(done, { file });
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}

/** The per-channel mean of the normalized inputs of the dataset's images (`--fill dataset`). */
async function datasetMean(dataset: Dataset, preprocess: Preprocess): Promise<number[]> {
  const c = preprocess.channels === 'gray' ? 1 : 3;
  const sums = new Float64Array(c);
  let count = 0;
  for (const e of dataset.entries) {
    const img = await loadImage(e.path, preprocess);
    const d = img.tensor.data;
    const n = d.length / c;
    for (let i = 0; i < d.length; i++) sums[preprocess.layout === 'nchw' ? Math.floor(i / n) : i % c]! += d[i]!;
    count += n;
  }
  return Array.from(sums, (s) => s / count);
}

/** Runs `eval pointing` or `eval ablation` for a checked plan. */
export async function evalCommand(plan: EvalPlan, io?: CliIO): Promise<EvalReport> {
  await checkWritableFolder(plan.out);
  const dataset = await loadDataset({ data: plan.data, annotations: plan.annotations, limit: plan.limit });
  const model = resolve(plan.model);
  const { bytes, hash } = await readHashed(model);
  // A compiled session per method (and the FGSM gradient), kept across batches.
  const explainer: CoreExplainer = await Explainer.load(bytes, { source: plan.model, threads: plan.threads, maxSessions: plan.methods.length + 2 });
  const preprocess = resolvePreprocess(plan.preprocess.preset, plan.preprocess.overrides, explainer.inputShape);
  if (preprocess.layout !== 'nchw') throw usage('eval supports NCHW models only (the maps and patches are [C, H, W])');
  const imageDims = [preprocess.channels === 'gray' ? 1 : 3, preprocess.height, preprocess.width];
  const base = {
    model: { file: model, sha256: hash, inputShape: [...explainer.inputShape] },
    data: { folder: dataset.folder, annotations: dataset.annotations },
    preprocess,
    methods: plan.methods,
    maps: Object.fromEntries(plan.methods.map((m) => [m, mapKind(m)])),
    params: Object.fromEntries(plan.methods.map((m) => [m, paramsOf(m, preprocess)])),
  };

  let config: RunConfig;
  let evaluation: Evaluation<BaseRecord>;
  let forward: Forward | null = null;
  if (plan.evaluation === 'sensitivity') {
    const classes = explainer.canonical([1, ...imageDims]).graph.outputs[0]!.shape[1];
    if (!(typeof classes === 'number' && classes >= 2)) throw usage(`class sensitivity needs a classifier with at least 2 classes; '${plan.model}' has output shape [${explainer.canonical([1, ...imageDims]).graph.outputs[0]!.shape}]`);
    const settings = { seed: plan.seed };
    config = { evaluation: 'sensitivity', ...base, params: Object.fromEntries(plan.methods.map((m) => [m, paramsOf(m, preprocess)])), settings };
    forward = new Forward(explainer, imageDims, plan.batch, plan.threads);
    evaluation = sensitivityEvaluation(explainer, forward, preprocess, { ...settings, methods: plan.methods }) as Evaluation<BaseRecord>;
  } else if (plan.evaluation === 'adversarial') {
    const { labels: labelsFile, ...settings } = plan.adversarial!;
    const classes = explainer.canonical([1, ...imageDims]).graph.outputs[0]!.shape[1] as number;
    const labels = labelsFile !== undefined ? await readLabels(labelsFile, classes) : null;
    config = { evaluation: 'adversarial', ...base, settings: { ...settings } };
    forward = new Forward(explainer, imageDims, plan.batch, plan.threads);
    evaluation = adversarialEvaluation(explainer, forward, preprocess, { ...settings, methods: plan.methods }, plan.out, labels) as Evaluation<BaseRecord>;
  } else if (plan.evaluation === 'pointing') {
    const settings = plan.pointing!;
    if (!dataset.entries.some((e) => (e.boxes?.length ?? 0) > 0)) {
      throw usage(`the pointing game needs ground-truth boxes, and no entry of '${dataset.annotations}' has any`);
    }
    config = { evaluation: 'pointing', ...base, settings: { ...settings } };
    evaluation = pointingEvaluation(explainer, preprocess, { ...settings, methods: plan.methods }) as Evaluation<BaseRecord>;
  } else {
    const a = plan.ablation!;
    const channels = imageDims[0]!;
    let fill: number[];
    let fillSource: AblationConfig['fillSource'];
    if (a.fill === 'preset') [fill, fillSource] = [new Array<number>(channels).fill(0), 'preset'];
    else if (a.fill === 'dataset') {
      const previous = await readRunConfig<RunConfig>(plan.out);
      const prev = previous?.settings as Partial<AblationConfig> | undefined;
      fill = prev?.fillSource === 'dataset' && Array.isArray(prev.fill) ? prev.fill : await datasetMean(dataset, preprocess);
      fillSource = 'dataset';
    } else {
      if (a.fill.length !== 1 && a.fill.length !== channels) throw usage(`--fill has ${a.fill.length} values, but the input has ${channels} channels: give 1 or ${channels}`);
      fill = a.fill.length === 1 ? new Array<number>(channels).fill(a.fill[0]!) : a.fill;
      fillSource = 'given';
    }
    const side = Math.min(preprocess.width, preprocess.height);
    const patchSize = a.patchSize ?? defaultPatchSize(side);
    if (patchSize > side) throw usage(`--patch ${patchSize} is larger than the input (${preprocess.width}×${preprocess.height})`);
    const settings: Omit<AblationConfig, 'methods'> = { patchSize, fill, fillSource, steps: a.steps, baseline: 0, target: a.target, seed: plan.seed };
    config = { evaluation: 'ablation', ...base, settings: { ...settings } };
    forward = new Forward(explainer, imageDims, Math.max(plan.batch, a.steps + 1, 8), plan.threads);
    evaluation = ablationEvaluation(explainer, forward, preprocess, { ...settings, methods: plan.methods }) as Evaluation<BaseRecord>;
  }

  const selected = shardEntries(dataset.entries, plan.shard).length;
  const label = plan.shard ? `${plan.evaluation} ${plan.shard.index}/${plan.shard.count}` : plan.evaluation;
  const progress = evalProgress(io, label, plan.format === 'text' && selected > 0);
  let run: RunStats;
  try {
    run = await runEvaluation({
      out: plan.out,
      dataset,
      preprocess,
      evaluation,
      config: config as unknown as Record<string, unknown>,
      shard: plan.shard,
      batch: plan.batch,
      progress,
      runInfo: { threads: plan.threads ?? null, methods: plan.methods },
    });
  } finally {
    await forward?.release();
    await explainer.release();
  }
  const report: EvalReport = { evaluation: plan.evaluation, out: plan.out, shard: plan.shard ? `${plan.shard.index}/${plan.shard.count}` : null, run };
  if (!plan.shard) {
    const fin = await finalizeRun(plan.out);
    report.summary = fin.summary;
    report.files = fin.files;
  }
  return report;
}

// ---------------------------------------------------------------------------------------------
// Printing

const pct = (v: number): string => (Number.isFinite(v) ? `${(100 * v).toFixed(1)} %` : '–');

/** A text table of a summary (a few lines). */
export function summaryText(s: AnySummary): string {
  if (s.evaluation === 'sensitivity') return sensitivityText(s);
  if (s.evaluation === 'adversarial') return adversarialText(s);
  const lines: string[] = [];
  if (s.evaluation === 'pointing') {
    const w = Math.max(...s.rows.map((r) => r.label.length), 10) + 2;
    lines.push(`${''.padEnd(w)}${POINTING_SUBSETS.map((x) => `${x} (${s.subsetImages[x]})`.padStart(18)).join('')}`);
    for (const r of s.rows) lines.push(`${r.label.padEnd(w)}${POINTING_SUBSETS.map((x) => pct(r.subsets[x].overImages).padStart(18)).join('')}`);
    lines.push(`(pointing accuracy over images, tolerance ${s.tolerance} px; top-1 of the model on these images ${pct(s.top1)})`);
  } else {
    const w = Math.max(...s.rows.map((r) => r.label.length), 10) + 2;
    lines.push(`${''.padEnd(w)}${'logit drop'.padStart(14)}${'prob drop'.padStart(12)}${s.steps > 0 ? `${'deletion AUC'.padStart(15)}${'insertion AUC'.padStart(15)}` : ''}`);
    for (const r of s.rows) {
      const f = (v: number | undefined, d = 4): string => (v !== undefined && Number.isFinite(v) ? v.toFixed(d) : '–');
      lines.push(`${r.label.padEnd(w)}${f(r.logitDrop.mean).padStart(14)}${f(r.probDrop.mean).padStart(12)}${s.steps > 0 ? `${f(r.deletionAuc?.mean).padStart(15)}${f(r.insertionAuc?.mean).padStart(15)}` : ''}`);
    }
    lines.push(`(mean over ${s.images} images; patch ${s.patchSize} px)`);
  }
  return `${lines.join('\n')}\n`;
}

export function printEval(report: EvalReport, format: EvalPlan['format'], io: CliIO): void {
  if (format === 'quiet') return;
  if (format === 'json') {
    io.stdout(`${JSON.stringify(report, jsonReplacer)}\n`);
    return;
  }
  const r = report.run;
  const rejected = r.rejected ? `, ${r.rejected} without boxes left out` : '';
  io.stdout(`${report.evaluation}${report.shard ? ` shard ${report.shard}` : ''}: ${r.processed} images evaluated, ${r.skipped} already done${rejected} (${r.seconds.toFixed(1)} s) → ${r.file}\n`);
  if (r.badLines) io.stdout(`(${r.badLines} cut line${r.badLines > 1 ? 's' : ''} in the results ignored; their images were evaluated again)\n`);
  if (report.summary) {
    io.stdout(summaryText(report.summary));
    io.stdout(`report: ${resolve(report.out, 'index.html')}\n`);
  } else io.stdout(`when every shard is done: backlight eval merge ${report.out}\n`);
}

export function printMerge(fin: FinalizeResult, out: string, format: EvalPlan['format'], io: CliIO): void {
  if (format === 'quiet') return;
  if (format === 'json') {
    io.stdout(`${JSON.stringify({ out, records: fin.records, shards: fin.shards, summary: fin.summary, files: fin.files }, jsonReplacer)}\n`);
    return;
  }
  io.stdout(`merged ${fin.shards.length} shard file${fin.shards.length === 1 ? '' : 's'}: ${fin.records} images in ${resolve(out, 'results.jsonl')}\n`);
  io.stdout(summaryText(fin.summary));
  io.stdout(`report: ${resolve(out, 'index.html')}\n`);
}

// ---------------------------------------------------------------------------------------------
// Commander

export const COMMON_HELP = `
Data: --data is a folder of images; --annotations (default: <data>/annotations.json,
else <data>/labels.json) is a JSON array of {file, label, boxes?}: file relative to
the folder, label the class index, boxes [[x0, y0, x1, y1], ...] in the image
file's own pixels (inclusive). Boxes are moved to the model input as the
preprocessing moves the image (resize: scaled; --crop: scaled and shifted).

Maps: methods drawn as magnitudes (the gradient family, clrp1, clrp2,
excitation) are scored on max |.| over channels; LRP relevance (lrp-epsilon,
lrp-zplus, lrp-alphabeta, lrp) on the sum over channels with negatives set to
0; layer-map methods (gradcam, normgrad, ...) on their upsampled map at their
default layer. The zB rule of lrp, clrp1 and clrp2 (gu2018 composite) gets the pixel bounds
of the preprocessing. The pointing game and the ablation explain the
ground-truth class; sensitivity and adversarial the classes they name below.

Runs are resumable: one JSON line per image is appended to <out>/results.jsonl as
soon as it is done; running the same command again evaluates only the images
not yet there. --shard i/n evaluates the images whose index % n == i into
<out>/results.shard-i-of-n.jsonl; 'backlight eval merge <out>' then merges the
shards and writes the summary. Outputs in <out>: results.jsonl, run.json (the
configuration; another configuration into the same folder is refused),
runs.jsonl (timings), summary.json, summary.csv (one row per method x metric x
subset), figures (PNG) and index.html.`;

export function commonOptions(cmd: Command, defaults: readonly EvalMethodName[] = GRADIENT_FAMILY): Command {
  return cmd
    .requiredOption('-m, --model <file.onnx>', 'the ONNX classifier')
    .requiredOption('--data <dir>', 'folder of images')
    .option('--annotations <file>', 'JSON list of {file, label, boxes?} (default: <data>/annotations.json, else <data>/labels.json)')
    .option('--preset <name>', `preprocessing: ${PRESET_NAMES.join(', ')} (default: none = the model's input size, x/255)`)
    .option('--size <W[,H]>', 'input size in pixels, overrides the preset')
    .option('--crop [N]', 'resize the shorter side to N (default: size·256/224), then centre-crop')
    .option('--mean <a,b,c>', 'per-channel mean after x/255, overrides the preset')
    .option('--std <a,b,c>', 'per-channel std, overrides the preset')
    .option('--channels <rgb|bgr|gray>', "channel order (default: the preset's)")
    .option('--method <names>', `comma-separated methods (default: ${defaults.join(',')}): ${evalMethodNames().join(', ')}`, collect)
    .requiredOption('-o, --out <dir>', 'output folder (created if needed; re-running resumes)')
    .option('--limit <n>', 'evaluate only the first N images of the list')
    .option('--batch <n>', 'images per explain call (default: 1)')
    .option('--shard <i/n>', 'evaluate the images with index % n == i (merge with: backlight eval merge)')
    .option('--threads <n>', "threads per onnxruntime session (default: onnxruntime's choice)")
    .option('--seed <n>', 'seed of the random baselines (default: 0)')
    .option('--json', 'print the report (run, summary, files) as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)');
}

export type { PointingRecord };
