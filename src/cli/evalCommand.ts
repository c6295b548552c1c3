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
import { Explainer } from '../index.js';
import { checkWritableFolder, readHashed } from '../io/files.js';
import { loadImage } from '../io/image.js';
import { PRESET_NAMES, resolvePreprocess, type Preprocess } from '../io/preprocess.js';
import type { Explainer as CoreExplainer } from '../methods/explainer.js';
import { GRADIENT_FAMILY } from '../methods/methods.js';
import { ENERGY_LEVELS } from '../metrics/energyPointing.js';
import { ablationEvaluation, defaultPatchSize, type AblationConfig } from '../eval/ablation.js';
import { loadDataset, parseShard, shardEntries, type Dataset, type Shard } from '../eval/datasets.js';
import { Forward } from '../eval/forward.js';
import { EVAL_METHOD_NAMES, mapKind, paramsOf, type EvalMethodName } from '../eval/maps.js';
import { DEFAULT_POINTING, POINTING_SUBSETS, pointingEvaluation, type PointingConfig, type PointingRecord } from '../eval/pointing.js';
import { readRunConfig, type BaseRecord } from '../eval/records.js';
import { adversarialEvaluation, DEFAULT_EPSILON, type AdversarialConfig } from '../eval/adversarial.js';
import { adversarialText } from '../eval/adversarialReport.js';
import { sensitivityEvaluation, SENSITIVITY_METHODS } from '../eval/sensitivity.js';
import { sensitivityText } from '../eval/sensitivityReport.js';
import { readLabels } from './labels.js';
import { finalizeRun, jsonReplacer, type AnySummary, type EvalKind, type FinalizeResult, type RunConfig } from '../eval/report.js';
import { runEvaluation, type Evaluation, type RunProgress, type RunStats } from '../eval/runner.js';
import type { CliIO } from './errors.js';
import { parsePreprocessOptions, type PreprocessCliOptions } from './inputs.js';
import { registerRandomNets } from './evalRandomNetsCommand.js';
import { registerSanity } from './evalSanityCommand.js';
import { collect, integerOption, numberOption, usage } from './options.js';

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
      if (!name) throw usage(`--method '${value}' has an empty entry (available: ${EVAL_METHOD_NAMES.join(', ')})`);
      if (!(EVAL_METHOD_NAMES as readonly string[]).includes(name)) {
        throw usage(`unknown method '${name}' for eval (available: ${EVAL_METHOD_NAMES.join(', ')})`);
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

function printEval(report: EvalReport, format: EvalPlan['format'], io: CliIO): void {
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

function printMerge(fin: FinalizeResult, out: string, format: EvalPlan['format'], io: CliIO): void {
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

const COMMON_HELP = `
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

const POINTING_HELP = `${COMMON_HELP}

Pointing game (Zhang et al.): a hit when the map's maximum lies within
--tolerance px (default 15) of a box; accuracy over images and over classes, on
all images, on small objects (boxes cover < --small of the image, default 0.5),
and on difficult ones (small, missed by the centre point). Baselines: the
centre point, a random pixel (seeded by --seed and the image index) and its
exact expectation. Energy game (Gu et al. Fig. 4): keep the highest pixels
holding p % of the map's energy, hit if all lie in the boxes; also the mean
share of kept energy inside; p = --levels (default 5:100:5).

Example:
  backlight eval pointing --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --out eval/pointing
`;

const ABLATION_HELP = `${COMMON_HELP}

Ablation (Gu et al. Table 1): a square patch (--patch, default 32 px for a 224
input, the same share of other sizes) around the map's maximum is replaced by
the dataset mean (--fill: 'preset' = 0 in normalized units, the preset's mean
colour, which for imagenet/cifar10 is the ImageNet mean; 'dataset' = the
per-channel mean of the images; or numbers); the mean drop of the target's logit
and softmax probability, against a patch at a random pixel. Deletion/insertion
(Petsiuk et al.): --steps steps (default 16, 0 = none), pixels by decreasing map
value set to / restored from 0; AUC of the target's probability.

Example:
  backlight eval ablation --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --limit 200 --out eval/ablation
`;

const SENSITIVITY_HELP = `${COMMON_HELP}

Class sensitivity: per image, each method explains five classes in one run:
two random ones (seeded by --seed and the image index; Nie et al. Fig. 7),
the max- and the min-scoring class (Rebuffi et al.) and the top-2 (Gu et al.).
Per pair: the l2 distance between the l2-normalized maps (0 = same map up to
scale) and Spearman's rho (1 = same ranking; lower = more class-sensitive).
LRP-family methods get a unit seed on each class (not the logit's value, whose
sign would flip the map of a class with a negative logit). Default methods:
${SENSITIVITY_METHODS.join(', ')}.

Example:
  backlight eval sensitivity --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --limit 150 --batch 4 --out eval/sensitivity
`;

const ADVERSARIAL_HELP = `${COMMON_HELP}

Adversarial test (Nie et al. 4.4): FGSM x' = x + eps * sign(grad_x CE(logits,
y)) with y the predicted class (--target label: the ground truth), eps
(--epsilon, default ${DEFAULT_EPSILON}) in pixel units of [0, 1] images, divided
by the preset's std per channel and clipped to the black-white range; the
gradient comes from the model's compiled gradient graph. Per image: the
prediction before and after, whether it flipped, and per method the change
between the map of the class predicted on x and the map of the class predicted
on x' (normalized l2 distance, Spearman's rho, SSIM). --grid N draws maps
before/after for the first N images (default 3) with --labels names.
Default methods: ${SENSITIVITY_METHODS.join(', ')}.

Example:
  backlight eval adversarial --model resnet20.onnx --data cifar10-test-1000 --preset cifar10 --limit 200 --epsilon 2/255 --out eval/adversarial
`;

function commonOptions(cmd: Command, defaults: readonly EvalMethodName[] = GRADIENT_FAMILY): Command {
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
    .option('--method <names>', `comma-separated methods (default: ${defaults.join(',')}): ${EVAL_METHOD_NAMES.join(', ')}`, collect)
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

export function registerEval(program: Command, io: CliIO): void {
  const evalCmd = program
    .command('eval')
    .summary('evaluate explanations: pointing game, ablation, class sensitivity, adversarial, sanity checks, random networks')
    .description('Evaluate explanation methods on a labelled image set (resumable, shardable): the pointing game and its energy variant, patch ablation with deletion/insertion curves, class sensitivity, the FGSM adversarial test, and merging shard results; model-randomization sanity checks and Nie et al.\'s random-network experiments.');

  commonOptions(evalCmd.command('pointing'))
    .summary('pointing game and energy-threshold pointing game (needs boxes)')
    .description('Pointing game (Zhang et al.) and energy-threshold pointing game (Gu et al.) of each method, with centre and random baselines.')
    .option('--tolerance <px>', 'hit distance in model-input pixels (default: 15)')
    .option('--levels <list>', 'energy levels p in %: 5,10,50 or start:end:step (default: 5:100:5)')
    .option('--small <fraction>', 'small objects: boxes cover less than this share of the image (default: 0.5)')
    .addHelpText('after', POINTING_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('pointing', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });

  commonOptions(evalCmd.command('ablation'))
    .summary("patch ablation at the map's maximum vs random; deletion/insertion AUC")
    .description("Gu et al.'s ablation: the drop of the target's logit when a patch at the map's maximum is replaced by the dataset mean, against a random patch; and deletion/insertion curves.")
    .option('--patch <px>', 'side of the square patch (default: 32 for a 224 input, ~14 % of the side)')
    .option('--fill <v>', "patch value: 'preset' (default: 0 = the preset's mean), 'dataset' (the images' mean) or numbers in normalized units")
    .option('--steps <n>', 'steps of the deletion and insertion curves (default: 16; 0: no curves)')
    .option('--target <label|predicted>', 'class to explain and score (default: label, the ground truth)')
    .addHelpText('after', ABLATION_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('ablation', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });

  commonOptions(evalCmd.command('sensitivity'), SENSITIVITY_METHODS)
    .summary('class sensitivity: maps of two random, max/min and top-2 classes compared (l2, Spearman)')
    .description("Class sensitivity of each method: Nie et al.'s l2 distance between the normalized maps of two random classes, Rebuffi et al.'s Spearman correlation between the max- and min-class maps, and the top-1 vs top-2 classes (Gu et al.).")
    .addHelpText('after', SENSITIVITY_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('sensitivity', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });

  commonOptions(evalCmd.command('adversarial'), SENSITIVITY_METHODS)
    .summary('FGSM adversarial test: label flips and how much each map changes')
    .description("Nie et al.'s adversarial test: FGSM with the model's own compiled input gradient; the label flip and, per method, the change between the maps before and after.")
    .option('--epsilon <eps>', `FGSM step in pixel units of [0, 1] images: a number or a fraction such as 2/255 (default: ${DEFAULT_EPSILON})`)
    .option('--target <predicted|label>', 'class whose cross-entropy the attack increases (default: predicted)')
    .option('--grid <n>', 'draw maps before/after for the first N images (default: 3)')
    .option('--labels <file>', 'class names for the figures: one per line, or a JSON array of strings')
    .addHelpText('after', ADVERSARIAL_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('adversarial', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });

  registerSanity(evalCmd, io);
  registerRandomNets(evalCmd, io);

  evalCmd
    .command('merge')
    .summary('merge shard results into results.jsonl and recompute the summary and figures')
    .description('Merge the shard files (results.shard-i-of-n.jsonl) of an evaluation folder into results.jsonl, one line per image, and recompute summary.json, summary.csv, the figures and index.html.')
    .argument('<dir>', 'the --out folder of an eval run')
    .option('--json', 'print the summary as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .action(async (dir: string, opts: { json?: boolean; quiet?: boolean }) => {
      if (opts.json && opts.quiet) throw usage('give either --json or --quiet, not both');
      const fin = await finalizeRun(dir);
      printMerge(fin, dir, opts.json ? 'json' : opts.quiet ? 'quiet' : 'text', io);
    });
}

export type { PointingRecord };
