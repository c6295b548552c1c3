/**
 * `backlight eval pointing|ablation|sensitivity|adversarial`, running a plan: evaluate
 * explanations on a labelled image set.
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
import { Explainer } from '../../index.js';
import { checkWritableFolder } from '../../io/files.js';
import { readModelAsOnnx } from '../convertModel.js';
import { loadImage } from '../../io/image.js';
import { resolvePreprocess, type Preprocess } from '../../io/preprocess.js';
import type { CoreExplainer } from '../../core.js';
import { ablationEvaluation, defaultPatchSize, type AblationConfig } from '../../eval/ablation.js';
import { adversarialEvaluation } from '../../eval/adversarial.js';
import { loadDataset, shardEntries, type Dataset } from '../../eval/datasets.js';
import { Forward } from '../../eval/forward.js';
import { mapKind, paramsOf } from '../../eval/maps.js';
import { pointingEvaluation } from '../../eval/pointing.js';
import { readRunConfig, type BaseRecord } from '../../eval/records.js';
import { finalizeRun, type AnySummary, type EvalKind, type RunConfig } from '../../eval/report.js';
import { runEvaluation, type Evaluation, type RunStats } from '../../eval/runner.js';
import { sensitivityEvaluation } from '../../eval/sensitivity.js';
import type { CliIO } from '../errors.js';
import { readLabels } from '../labels.js';
import { usage } from '../options.js';
import type { EvalPlan } from './plan.js';
import { evalProgress } from './progress.js';

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
  // A TF.js model.json is imported with an NCHW input: eval's patches and maps are [C, H, W].
  const { bytes, hash } = await readModelAsOnnx(model, 'nchw');
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
    forward = new Forward(explainer, imageDims, plan.batch);
    evaluation = sensitivityEvaluation(explainer, forward, preprocess, { ...settings, methods: plan.methods }) as Evaluation<BaseRecord>;
  } else if (plan.evaluation === 'adversarial') {
    const { labels: labelsFile, ...settings } = plan.adversarial!;
    const classes = explainer.canonical([1, ...imageDims]).graph.outputs[0]!.shape[1] as number;
    const labels = labelsFile !== undefined ? await readLabels(labelsFile, classes) : null;
    config = { evaluation: 'adversarial', ...base, settings: { ...settings } };
    forward = new Forward(explainer, imageDims, plan.batch);
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
    forward = new Forward(explainer, imageDims, Math.max(plan.batch, a.steps + 1, 8));
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
