/**
 * `backlight eval sanity`: model-randomization sanity checks (src/eval/sanity.ts).
 *
 * ```sh
 * npx backlight eval sanity --model resnet20.onnx --data cifar10-test-1000 --preset cifar10 --limit 200 --out eval/sanity
 * npx backlight eval sanity --model resnet20.onnx --list-layers
 * ```
 * Everything that can be checked is checked before the first image: options, model, layers,
 * preprocessing, data list, output folder, configuration.
 */
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { learnableLayers, type LearnableLayer, type ReinitKind } from '../../builder/randomize.js';
import { BacklightError } from '../../errors.js';
import { Explainer } from '../../index.js';
import { checkWritableFolder } from '../../io/files.js';
import { readModelAsOnnx } from '../convertModel.js';
import { nonFiniteAsNull } from '../../eval/report.js';
import { resolvePreprocess } from '../../io/preprocess.js';
import { decodeModel } from '../../onnx/decode.js';
import { loadDataset } from '../../eval/datasets.js';
import { mapKind, methodLabel, paramsOf, type EvalMethodName } from '../../eval/maps.js';
import { SANITY_MODES, runSanity, sanityStages, type SanityMode, type SanityRunStats, type SanitySettings, type SanitySummary } from '../../eval/sanity.js';
import { stageLabel, writeSanityReport, type SanityConfig } from '../../eval/sanityReport.js';
import type { CliIO } from '../errors.js';
import { parseMethods } from './options.js';
import { evalProgress } from './progress.js';
import { parsePreprocessOptions, type PreprocessCliOptions } from '../inputs.js';
import { collect, integerOption, usage } from '../options.js';

export interface SanityCliOptions extends PreprocessCliOptions {
  model: string;
  data?: string;
  annotations?: string;
  method?: string[];
  mode?: string;
  layers?: string;
  init?: string;
  target?: string;
  seed?: string;
  out?: string;
  limit?: string;
  batch?: string;
  threads?: string;
  figures?: string;
  listLayers?: boolean;
  quiet?: boolean;
  json?: boolean;
}

export interface SanityPlan {
  model: string;
  data: string;
  annotations?: string;
  out: string;
  methods: ReturnType<typeof parseMethods>;
  modes: SanityMode[];
  /** Layer names or indices as given (checked against the model later). */
  layers: string[] | null;
  init: ReinitKind;
  target: 'label' | 'predicted';
  seed: number;
  limit?: number;
  batch: number;
  threads?: number;
  figures: number;
  format: 'text' | 'json' | 'quiet';
  preprocess: ReturnType<typeof parsePreprocessOptions>;
}

/** Checks the options without touching files (`--list-layers` needs only --model). */
export function planSanity(opts: SanityCliOptions): SanityPlan {
  if (opts.json && opts.quiet) throw usage('give either --json or --quiet, not both');
  if (opts.data === undefined) throw usage("eval sanity needs --data <dir> (a folder of images with annotations.json or labels.json)");
  if (opts.out === undefined) throw usage('eval sanity needs --out <dir> (the output folder)');
  const mode = (opts.mode ?? 'both').trim().toLowerCase();
  if (mode !== 'both' && !(SANITY_MODES as readonly string[]).includes(mode)) throw usage(`--mode '${opts.mode}' must be cascading, single or both`);
  const init = (opts.init ?? 'layer-std').trim().toLowerCase();
  if (init !== 'layer-std' && init !== 'he') throw usage(`--init '${opts.init}' must be layer-std (truncated normal with each layer's trained std) or he (He normal)`);
  const target = (opts.target ?? 'label').trim().toLowerCase();
  if (target !== 'label' && target !== 'predicted') throw usage(`--target '${opts.target}' must be 'label' (the ground-truth class) or 'predicted' (the trained model's prediction)`);
  let layers: string[] | null = null;
  if (opts.layers !== undefined) {
    layers = opts.layers.split(',').map((s) => s.trim());
    if (layers.some((l) => l === '')) throw usage(`--layers '${opts.layers}' must be a comma-separated list of layer names or indices (see --list-layers)`);
  }
  return {
    model: opts.model,
    data: opts.data,
    annotations: opts.annotations,
    out: opts.out,
    methods: parseMethods(opts.method),
    modes: mode === 'both' ? [...SANITY_MODES] : [mode as SanityMode],
    layers,
    init: init as ReinitKind,
    target: target as 'label' | 'predicted',
    seed: integerOption('--seed', opts.seed, 0, 0),
    limit: opts.limit === undefined ? undefined : integerOption('--limit', opts.limit, 0, 1),
    batch: integerOption('--batch', opts.batch, 16, 1),
    threads: opts.threads === undefined ? undefined : integerOption('--threads', opts.threads, 0, 1),
    figures: integerOption('--figures', opts.figures, 2, 0),
    format: opts.json ? 'json' : opts.quiet ? 'quiet' : 'text',
    preprocess: parsePreprocessOptions(opts),
  };
}

/** The layer indices that `--layers` names (names or indices). */
export function selectLayers(layers: readonly LearnableLayer[], given: readonly string[]): number[] {
  return given.map((g) => {
    const byName = layers.find((l) => l.name === g);
    if (byName) return byName.index;
    if (/^[0-9]+$/.test(g) && Number(g) < layers.length) return Number(g);
    throw usage(`--layers: the model has no learnable layer '${g}' (give a name or an index 0–${layers.length - 1}; see --list-layers)`);
  });
}

async function modelLayers(file: string): Promise<{ bytes: Uint8Array; hash: string; graph: ReturnType<typeof decodeModel>['graph']; layers: LearnableLayer[] }> {
  const { bytes, hash } = await readModelAsOnnx(file, 'nchw'); // a TF.js model.json: imported NCHW, as eval feeds it
  const { graph } = decodeModel(bytes, file);
  const layers = learnableLayers(graph);
  if (layers.length === 0) throw new BacklightError(`${file}: the model has no Conv, Gemm or MatMul layer with float32 weights to randomize`);
  return { bytes, hash, graph, layers };
}

/** `--list-layers`: one line per learnable layer. */
export async function listLayersText(file: string): Promise<string> {
  const { layers } = await modelLayers(file);
  const lines = layers.map((l) => `${String(l.index).padStart(3)}  ${l.name}  ${l.op}${l.batchNorm ? ` + BatchNormalization ${l.batchNorm.node}` : ''}  (${l.parameters} weights${l.bias ? ', bias' : ''})`);
  return `${lines.join('\n')}\n`;
}

export interface SanityReport {
  evaluation: 'sanity';
  out: string;
  run: SanityRunStats;
  summary: SanitySummary;
  files: string[];
}

export async function sanityCommand(plan: SanityPlan, io?: CliIO): Promise<SanityReport> {
  await checkWritableFolder(plan.out);
  const model = resolve(plan.model);
  const { bytes, hash, graph, layers } = await modelLayers(model);
  const selected = plan.layers ? selectLayers(layers, plan.layers) : undefined;
  const dataset = await loadDataset({ data: plan.data, annotations: plan.annotations, limit: plan.limit });
  const inputShape = graph.inputs[0]!.shape;
  const preprocess = resolvePreprocess(plan.preprocess.preset, plan.preprocess.overrides, inputShape);
  if (preprocess.layout !== 'nchw') throw usage('eval supports NCHW models only (the maps are [C, H, W])');
  if (preprocess.width < 11 || preprocess.height < 11) throw usage(`eval sanity needs inputs of at least 11×11 pixels (the SSIM window); this one is ${preprocess.width}×${preprocess.height}`);
  const classes = graph.outputs[0]!.shape[1];
  const outside = plan.target === 'label' && typeof classes === 'number' ? dataset.entries.find((e) => e.label >= classes) : undefined;
  if (outside) throw new BacklightError(`annotations '${dataset.annotations}', entry ${outside.index}: label ${outside.label} is not a class of the model (${classes} classes); give the model's own labels, or --target predicted`);
  const stages = sanityStages(layers, plan.modes, selected);
  const settings: SanitySettings = {
    modes: plan.modes,
    init: plan.init,
    seed: plan.seed,
    target: plan.target,
    layers: layers.map((l) => ({ index: l.index, name: l.name, op: l.op, batchNorm: l.batchNorm?.node ?? null, parameters: l.parameters })),
    stages: stages.map((s) => s.id),
    figureImages: plan.figures,
  };
  const config: SanityConfig = {
    evaluation: 'sanity',
    model: { file: model, sha256: hash, inputShape: [...inputShape] },
    data: { folder: dataset.folder, annotations: dataset.annotations },
    preprocess,
    methods: plan.methods,
    maps: Object.fromEntries(plan.methods.map((m) => [m, mapKind(m)])),
    params: Object.fromEntries(plan.methods.map((m) => [m, paramsOf(m, preprocess)])),
    settings,
  };
  const pairs = stages.length * dataset.entries.length;
  const run = await runSanity({
    out: plan.out,
    dataset,
    preprocess,
    modelBytes: bytes,
    graph,
    layers,
    stages,
    methods: plan.methods,
    params: config.params,
    settings,
    config: config as unknown as Record<string, unknown>,
    load: (b, source) => Explainer.load(b, { source: `${plan.model} (${source})`, threads: plan.threads, maxSessions: plan.methods.length }),
    batch: plan.batch,
    progress: evalProgress(io, 'sanity', plan.format === 'text' && pairs > 0),
    runInfo: { threads: plan.threads ?? null, methods: plan.methods, stages: stages.length },
  });
  const { summary, files } = await writeSanityReport(plan.out, config, stages, dataset);
  return { evaluation: 'sanity', out: plan.out, run, summary, files };
}

/** A few lines: per mode, the mean Spearman ρ (scored map) of each method at each stage. */
export function sanityText(s: SanitySummary, modes: readonly SanityMode[]): string {
  const lines: string[] = [];
  const width = Math.max(10, ...s.stages.map((st) => stageLabel(st).length)) + 2;
  for (const mode of modes) {
    lines.push(`${mode}: Spearman ρ of the scored map vs the trained model's`);
    lines.push(`${''.padEnd(width)}${s.methods.map((m) => methodLabel(m as EvalMethodName).slice(0, 16).padStart(18)).join('')}`);
    for (const st of s.stages.filter((x) => x.mode === 'original' || x.mode === mode)) {
      lines.push(`${stageLabel(st).padEnd(width)}${s.methods.map((m) => (Number.isFinite(st.methods[m]!.spearmanAbs.mean) ? st.methods[m]!.spearmanAbs.mean.toFixed(3) : '–').padStart(18)).join('')}`);
    }
  }
  lines.push(`(mean over ${s.images} images)`);
  return `${lines.join('\n')}\n`;
}

const HELP = `
Stages: the trained model; cascading randomization (re-initialize the
learnable layers from the logits down to layer L, cumulatively, L from the top
down); single-layer randomization (only layer L). Learnable layers: Conv, Gemm
and MatMul with their bias and a BatchNormalization right after them, in
forward order (--list-layers prints them). Re-initialization: weights from a
truncated normal (±2 sigma) with the layer's own trained std (--init layer-std,
default) or He normal (--init he), biases 0, BatchNormalization reset to scale
1, shift 0, mean 0, variance 1; each layer seeded by --seed and its index, so a
layer gets the same random weights in every stage.

Scores per image, method and stage, against the trained model's map of the same
class (--target label: the ground truth, default; predicted: the trained
model's prediction): Spearman rho of the scored maps (max |.| over channels;
LRP: positive part of the channel sum), Spearman rho of the signed channel sums,
SSIM of the min-max normalized scored maps.

Each stage is compiled once and all images run through it. One JSON line per
(image, stage) is appended to <out>/results.jsonl; rerunning the command
resumes. Outputs: run.json, results.jsonl, runs.jsonl, maps/ (maps of the first
--figures images), summary.json, summary.csv, sanity-<mode>.png,
maps-<mode>-<i>.png, index.html.

Example:
  backlight eval sanity --model resnet20.onnx --data cifar10-test-1000 --preset cifar10 --limit 200 --out eval/sanity
`;

export function registerSanity(evalCmd: Command, io: CliIO): void {
  evalCmd
    .command('sanity')
    .summary('model-randomization sanity checks (cascading and single-layer)')
    .description("Sanity checks (Adebayo et al.; Nie et al. §4.5): each method's maps on models with layers re-initialized — cascading from the logits down, and one layer at a time — compared with the trained model's maps (Spearman, SSIM).")
    .requiredOption('-m, --model <file.onnx>', 'the ONNX classifier')
    .option('--data <dir>', 'folder of images')
    .option('--annotations <file>', 'JSON list of {file, label} (default: <data>/annotations.json, else <data>/labels.json)')
    .option('--preset <name>', "preprocessing preset (default: none = the model's input size, x/255)")
    .option('--size <W[,H]>', 'input size in pixels, overrides the preset')
    .option('--crop [N]', 'resize the shorter side to N, then centre-crop')
    .option('--mean <a,b,c>', 'per-channel mean after x/255, overrides the preset')
    .option('--std <a,b,c>', 'per-channel std, overrides the preset')
    .option('--channels <rgb|bgr|gray>', "channel order (default: the preset's)")
    .option('--method <names>', 'comma-separated methods (default: gradient,gradient-x-input,deconvnet,guided-backprop)', collect)
    .option('--mode <mode>', 'cascading, single or both (default: both)')
    .option('--layers <list>', 'stages only at these layers (names or indices, see --list-layers; default: every layer)')
    .option('--init <kind>', 'layer-std (default) or he')
    .option('--target <label|predicted>', 'class to explain (default: label)')
    .option('--seed <n>', 'seed of the re-initialization (default: 0)')
    .option('-o, --out <dir>', 'output folder (created if needed; re-running resumes)')
    .option('--limit <n>', 'evaluate only the first N images of the list')
    .option('--batch <n>', 'images per explain call (default: 16)')
    .option('--threads <n>', "threads per onnxruntime session (default: onnxruntime's choice)")
    .option('--figures <n>', 'map grids for the first N images (default: 2)')
    .option('--list-layers', 'print the learnable layers and exit')
    .option('--json', 'print the report (run, summary, files) as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .addHelpText('after', HELP)
    .action(async (opts: SanityCliOptions) => {
      if (opts.listLayers) {
        io.stdout(await listLayersText(opts.model));
        return;
      }
      const plan = planSanity(opts);
      const report = await sanityCommand(plan, io);
      if (plan.format === 'quiet') return;
      if (plan.format === 'json') {
        io.stdout(`${JSON.stringify(report, nonFiniteAsNull)}\n`);
        return;
      }
      const r = report.run;
      io.stdout(`sanity: ${r.stages} stages × ${r.images} images: ${r.processed} evaluated, ${r.skipped} already done (${r.seconds.toFixed(1)} s) → ${r.file}\n`);
      if (r.badLines) io.stdout(`(${r.badLines} cut line${r.badLines > 1 ? 's' : ''} in the results ignored; their pairs were evaluated again)\n`);
      io.stdout(sanityText(report.summary, plan.modes));
      io.stdout(`report: ${resolve(plan.out, 'index.html')}\n`);
    });
}
