/**
 * `backlight explain`: attributions of image files or NumPy inputs, as .npy files and pictures.
 *
 * ```sh
 * npx backlight explain --model model.onnx --image cat.jpg dog.png --preset imagenet \
 *     --labels classes.json --method gradient,guided-backprop --target max,3 --out results
 * npx backlight explain --model model.onnx --input-npy x.npy --out results
 * ```
 *
 * Inputs (inputs.ts): image files, preprocessed by `--preset` and its overrides into the model's
 * input; or .npy batches, [N, …] matching the model (a model with a fixed batch of 1 is run image
 * by image), or one image without the batch axis.
 *
 * Method parameters (methodParams.ts): `--epsilon`, `--alpha`/`--beta`, `--composite`, `--box`,
 * `--normalize`, `--seed`; each method gets the ones it reads, recorded in summary.json. The zB
 * bounds come from `--box` or from the preprocessing (`pixelBounds`); a .npy input without a
 * preprocessing option needs `--box` for a method with a zB rule.
 *
 * For every input `x` and every method, one run explains all targets (`max` and `topK` are
 * resolved from the logits of that same run). In `results/x/`:
 *
 * - `<method>__<target>.npy`: the attribution for one target, float32, with the shape of the input
 *   (for N > 1, the [N, …] attributions of every image for that target). `<target>` is the class
 *   index actually used, e.g. `gradient__8.npy` for `--target max` when class 8 is predicted.
 *   When N > 1 and the class differs between images (`max` or `topK` on images with different
 *   predictions), the file is named after the target spec instead: `gradient__max.npy`, and
 *   `gradient__top3-2.npy` for the second-best class of `top3`.
 * - `logits.npy` (float32 [N, classes]) and `targets.json` (classes used per image and target).
 * - For image-like inputs, pictures (render.ts): `<method>__<target>.png` (heatmap),
 *   `<method>__<target>_overlay.png` and `grid.png` (methods × targets).
 *
 * And `results/summary.json` (summary.ts): predictions, targets, files, timings, preprocessing,
 * versions and the command line; `--json` prints it to stdout as one line. Everything that can be
 * checked is checked before any computation (model, inputs, labels, methods, targets, output
 * folders); the files of one input are written all or none, each atomically.
 */
import type { Command } from 'commander';
import { dirname, join } from 'node:path';
import { BacklightError } from '../errors.js';
import { Explainer } from '../index.js';
import { checkWritableFolder, writeFileAtomic, writeFilesAtomic, type FileToWrite } from '../io/files.js';
import { encodeNpy } from '../io/npy.js';
import { PRESET_NAMES } from '../io/preprocess.js';
import { sizeOf } from '../ir/tensor.js';
import type { Explainer as CoreExplainer, Explanation, TargetSpec, TensorLike } from '../methods/explainer.js';
import { COMPOSITE_NAMES } from '../methods/composites.js';
import { METHODS, METHOD_NAMES, methodByName, type MethodName, type MethodParams } from '../methods/methods.js';
import { DEFAULT_PERCENTILE } from '../render/index.js';
import type { CliIO } from './errors.js';
import {
  loadInput,
  parsePreprocessOptions,
  resolveInputPreprocess,
  shapeText,
  stemOf,
  type InputBatch,
  type InputSpec,
  type PreprocessCliOptions,
  type PreprocessRequest,
} from './inputs.js';
import { readLabels } from './labels.js';
import { checkBoxSource, paramsFor, parseMethodParams, resolveBox, type BoxSource, type MethodParamCliOptions, type ParamRequest } from './methodParams.js';
import { startProgress, type Progress } from './progress.js';
import { displayOf, drawImage, type PictureOptions } from './render.js';
import {
  commandLine,
  predictionOf,
  prettyJson,
  printReport,
  round,
  softmaxRow,
  summarizePreprocess,
  topPredictions,
  versions,
  type DisplaySummary,
  type ExplainReport,
  type ImageReport,
  type InputReport,
  type TargetSlot,
  type TargetUse,
} from './summary.js';
import { parseTargetList, positionLabel, targetPositions, validateTargets, type TargetPosition } from './targets.js';

export { fitInput, stemOf, type InputBatch } from './inputs.js';
export type { ExplainReport, InputReport, TargetSlot } from './summary.js';

/** Options as commander parses them. */
export interface ExplainCliOptions extends PreprocessCliOptions, MethodParamCliOptions {
  model: string;
  inputNpy?: string[];
  image?: string[];
  labels?: string;
  method?: string[];
  target?: string[];
  out: string;
  png?: boolean;
  signed?: boolean;
  clip?: string;
  opacity?: string;
  json?: boolean;
  quiet?: boolean;
  threads?: string;
  dumpGraph?: string;
  debug?: boolean;
}

/** What one command line asks for, validated. */
export interface ExplainPlan {
  model: string;
  inputs: InputSpec[];
  methods: MethodName[];
  /** Method parameters (the zB bounds are resolved once the preprocessing is known). */
  params: ParamRequest;
  /** Where the zB bounds come from (null: no method uses zB). */
  boxSource: BoxSource;
  targets: TargetSpec[];
  out: string;
  preprocess: PreprocessRequest;
  labels?: string;
  pictures: PictureOptions;
  threads?: number;
  dumpGraph?: string;
  format: 'json' | 'text' | 'quiet';
  /** The arguments after `backlight`, for the summary. */
  argv: string[];
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** Wraps `text` to `width` columns, indenting continuation lines by `indent` spaces. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Methods whose maps are drawn signed without --signed (LRP relevance). */
const SIGNED_BY_DEFAULT = METHOD_NAMES.filter((m) => METHODS[m].display === 'signed' && METHODS[m].signed);

const HELP_AFTER = `
Inputs (exactly one kind):
  --image: image files (PNG, JPEG, WebP, GIF, TIFF, AVIF), preprocessed by
  --preset and its overrides. 'none' (default): the model's input size, x/255.
    imagenet  224x224, RGB, mean 0.485,0.456,0.406, std 0.229,0.224,0.225
    cifar10   32x32, RGB, the ImageNet mean and std
    mnist     28x28, gray, x/255
  --input-npy: .npy batches [N, ...] matching the model (any N for a dynamic
  batch), or one image without the batch axis. float32, float64, int64, int32
  and uint8 are read as float32. Preprocessing options only tell how to draw
  them; without any, an image-like input is drawn as the min-max gray.

Outputs, in <dir>/<stem of input>/:
  <method>__<target>.npy  attribution for one target, float32, same shape as the
                          input (for N > 1: every image's attribution for it)
  <method>__<target>.png  heatmap at the input's resolution (image-like inputs)
  <method>__<target>_overlay.png  the heatmap over the input
  grid.png                rows = methods, columns = targets, the input first
  logits.npy              logits, float32 [N, classes]
  targets.json            classes used per image and target, files written
and <dir>/summary.json: top-5 predictions, targets, files, timings,
preprocessing, versions and the command line (--json prints it).
  <target> is the class index used (gradient__8.npy for --target max when class
  8 is predicted). When N > 1 and images use different classes, the file is
  named by the target spec: gradient__max.npy, gradient__top3-2.npy (second of
  top3); targets.json has the class of every image. For N > 1, PNG names end
  in _<image index>: gradient__8_0.png, grid_0.png.
  Heatmaps show max |.| over channels (inferno), except LRP relevance
  (${SIGNED_BY_DEFAULT.join(', ')}), drawn as the channel sum with a
  diverging map (blue < 0 < red); --signed draws every method with signed
  values that way. All clip at the --clip percentile.

Methods:
${METHOD_NAMES.map((m) => `  ${m.length < 18 ? m.padEnd(18) : `${m}\n${' '.repeat(20)}`}${wrap(METHODS[m].summary, 80, 20)}`).join('\n')}

Method parameters (each is refused when no method given reads it):
  --epsilon E       LRP-ε stabilizer (default 1e-6): lrp-epsilon, and the dense
                    layers of epsilon-plus-flat and epsilon-gamma-box
  --alpha A --beta B  LRP-αβ weights for lrp-alphabeta, α ≥ 0, β ≥ 0, α − β = 1
                    (α2β1: --alpha 2 --beta 1); one of them is enough. Without
                    lrp-alphabeta, --alpha is the overlay opacity (see --opacity)
  --composite NAME  rules per layer of lrp, clrp1, clrp2 (default gu2018):
    gu2018             zB first layer, z+ everywhere else, biases ignored
    epsilon-plus-flat  flat first layer, z+ convs, ε dense layers
    epsilon-gamma-box  zB first layer, γ = 0.25 convs, ε dense layers
  --box LOW,HIGH    bounds of the zB rule (gu2018, epsilon-gamma-box): the lowest
                    and highest value of each normalized input channel; or per
                    channel --box l1,l2,l3:h1,h2,h3 (for negative values write
                    --box=-2.1,2.6). Default: from the preprocessing,
                    (0 - mean)/std and (1 - mean)/std; for --preset imagenet
                    -2.118,-2.036,-1.804:2.249,2.429,2.640. A .npy input has no
                    preprocessing unless one is given: pass --box or --preset.
  --normalize       clrp1, clrp2, contrastive-excitation: divide R and R_dual by
                    their sums before max(0, R - R_dual) (the authors' code);
                    default: the paper's form
  --seed one|logit  the seed on the target logit: 1, or the logit's value
                    (default: logit for LRP and excitation, one otherwise)

Exit codes: 0 ok, 1 bad model, input or output file, 2 wrong usage.

Examples:
  backlight explain --model mobilenetv2.onnx --image cat.jpg --preset imagenet --labels classes.json --method gradient,guided-backprop --target max,3 --out results
  backlight explain --model model.onnx --input-npy x.npy --out results
  backlight explain --model mobilenetv2.onnx --image cat.jpg --preset imagenet --method lrp,clrp2 --target top2 --out results
  backlight explain --model model.onnx --input-npy x.npy --method lrp-alphabeta --alpha 2 --beta 1 --out results
  backlight explain --model model.onnx --input-npy x.npy --preset imagenet --method lrp --composite epsilon-gamma-box --out results
`;

export function registerExplain(program: Command, io: CliIO, argv: readonly string[] = []): void {
  program
    .command('explain')
    .summary('explain predictions on images or NumPy inputs: .npy attributions, heatmaps, grids')
    .description("Explain a classifier's predictions: one attribution per input, method and target, written as .npy files and drawn as heatmaps, overlays and a grid.")
    .requiredOption('-m, --model <file.onnx>', 'the ONNX classifier (output: logits or probabilities [N, classes])')
    .option('--image <files...>', 'input image files (PNG, JPEG, WebP, …), preprocessed by --preset')
    .option('-i, --input-npy <files...>', 'input batches as .npy files, [N, ...] or one image without the batch axis')
    .option('--preset <name>', `preprocessing of images: ${PRESET_NAMES.join(', ')} (default: none = the model's input size, x/255)`)
    .option('--size <W[,H]>', 'input size in pixels, overrides the preset')
    .option('--crop [N]', 'resize the shorter side to N (default: size·256/224), then centre-crop to the size')
    .option('--mean <a,b,c>', 'per-channel mean subtracted after x/255 (tensor channel order), overrides the preset')
    .option('--std <a,b,c>', 'per-channel std divided by after the mean, overrides the preset')
    .option('--layout <nchw|nhwc>', "tensor layout (default: the model's)")
    .option('--channels <rgb|bgr|gray>', "channel order (default: the preset's, or the model's for none)")
    .option('--labels <file>', 'class names: one per line, or a JSON array of strings; as many as the model has classes')
    .option('--method <names>', `comma-separated methods (default: gradient): ${METHOD_NAMES.join(', ')}`, collect)
    .option('-t, --target <specs>', "comma-separated targets (default: max): a class index, 'max' (predicted class) or 'topK' (the K best)", collect)
    .requiredOption('-o, --out <dir>', 'output folder (created if needed)')
    .option('--signed', 'draw the signed sum over channels with a diverging colormap, instead of max |.|')
    .option('--clip <percentile>', `percentile of the map that gets full colour (default: ${DEFAULT_PERCENTILE})`)
    .option('--opacity <a>', 'opacity of heatmaps over the input in overlays, 0 to 1 (default: 0.6)')
    .option('--alpha <a>', 'LRP-αβ α when --method has lrp-alphabeta (α − β = 1; default 1); otherwise the overlay opacity, as --opacity')
    .option('--beta <b>', 'LRP-αβ β (α − β = 1; default 0; one of --alpha and --beta suffices)')
    .option('--epsilon <e>', `LRP-ε ε, for lrp-epsilon and the dense layers of the epsilon-* composites (default: 1e-6)`)
    .option('--composite <name>', `LRP composite of lrp, clrp1 and clrp2: ${COMPOSITE_NAMES.join(', ')} (default: gu2018)`)
    .option('--box <low,high>', "zB bounds of the normalized input: LOW,HIGH for all channels, or l1,l2,l3:h1,h2,h3 per channel (default: from the preprocessing's mean and std)")
    .option('--normalize', 'contrastive methods (clrp1, clrp2, contrastive-excitation): divide R and R_dual by their sums before max(0, R − R_dual)')
    .option('--seed <one|logit>', "seed on the target logit: 'one' or 'logit' (its value) (default: logit for LRP methods, one for the gradient family)")
    .option('--no-png', 'write no PNG (heatmaps, overlays, grids), only .npy and .json files')
    .option('--json', 'print the summary (files, predictions, targets, timings) as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--threads <n>', "threads per onnxruntime session (default: onnxruntime's choice)")
    .option('--dump-graph <file.onnx>', 'also write the compiled explanation graph of the first method (view it in Netron)')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .addHelpText('after', HELP_AFTER)
    .action(async (opts: ExplainCliOptions) => {
      const plan = planExplain(opts, argv);
      printReport(await explainCommand(plan, io), plan.format, io);
    });
}

function parseFraction(flag: string, text: string | undefined, fallback: number, ok: (v: number) => boolean, range: string): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw new BacklightError(`${flag} '${text}' must be a number ${range}`, 'usage');
  return v;
}

/** Checks the options that need no file: inputs, methods, targets, preprocessing, display, threads. */
export function planExplain(opts: ExplainCliOptions, argv: readonly string[] = []): ExplainPlan {
  const npy = opts.inputNpy ?? [];
  const images = opts.image ?? [];
  if (npy.length > 0 && images.length > 0) throw new BacklightError('give either --image or --input-npy, not both', 'usage');
  if (npy.length === 0 && images.length === 0) throw new BacklightError('no input given: add --image FILE or --input-npy FILE.npy', 'usage');
  const inputs: InputSpec[] = images.length > 0 ? images.map((file) => ({ kind: 'image', file })) : npy.map((file) => ({ kind: 'npy', file }));

  const methods: MethodName[] = [];
  for (const value of opts.method?.length ? opts.method : ['gradient']) {
    for (const raw of value.split(',')) {
      const name = raw.trim();
      if (!name) throw new BacklightError(`--method '${value}' has an empty entry (available: ${METHOD_NAMES.join(', ')})`, 'usage');
      const m = methodByName(name).name;
      if (!methods.includes(m)) methods.push(m);
    }
  }
  const targets = parseTargetList(opts.target?.length ? opts.target : ['max']);
  const preprocess = parsePreprocessOptions(opts);
  const params = parseMethodParams(opts, methods);
  const boxSource = checkBoxSource(params, inputs[0]!.kind, preprocess.explicit);
  // --alpha is LRP-αβ's α when lrp-alphabeta is asked for, else the overlay opacity (as before --opacity).
  const alphaIsOpacity = !methods.includes('lrp-alphabeta');
  if (alphaIsOpacity && opts.alpha !== undefined && opts.opacity !== undefined) {
    throw new BacklightError('--alpha and --opacity both set the overlay opacity here (no lrp-alphabeta method): give only --opacity', 'usage');
  }
  const opacityFlag = opts.opacity !== undefined || !alphaIsOpacity ? '--opacity' : '--alpha';
  const opacity = opts.opacity ?? (alphaIsOpacity ? opts.alpha : undefined);
  const pictures: PictureOptions = {
    png: opts.png !== false,
    signed: opts.signed === true,
    clip: parseFraction('--clip', opts.clip, DEFAULT_PERCENTILE, (v) => v > 0 && v <= 100, 'in (0, 100], e.g. 99.5'),
    alpha: parseFraction(opacityFlag, opacity, 0.6, (v) => v >= 0 && v <= 1, 'from 0 to 1'),
  };
  let threads: number | undefined;
  if (opts.threads !== undefined) {
    threads = Number(opts.threads);
    if (!/^[0-9]+$/.test(opts.threads.trim()) || !Number.isSafeInteger(threads) || threads < 1) {
      throw new BacklightError(`--threads '${opts.threads}' is not a positive integer`, 'usage');
    }
  }
  return {
    model: opts.model,
    inputs,
    methods,
    params,
    boxSource,
    targets,
    out: opts.out,
    preprocess,
    labels: opts.labels,
    pictures,
    threads,
    dumpGraph: opts.dumpGraph,
    format: opts.json ? 'json' : opts.quiet ? 'quiet' : 'text',
    argv: [...argv],
  };
}

/** Dims the library canonicalizes with for this batch (a fixed batch of 1 runs image by image). */
function canonicalDims(explainer: CoreExplainer, dims: readonly number[]): number[] {
  return explainer.inputShape[0] === 1 ? [1, ...dims.slice(1)] : [...dims];
}

function classCount(explainer: CoreExplainer, dims: readonly number[], source: string): number {
  const out = explainer.canonical(canonicalDims(explainer, dims)).graph.outputs[0]!;
  if (out.shape.length !== 2 || typeof out.shape[1] !== 'number') {
    throw new BacklightError(`${source}: the model output '${out.name}' has shape ${shapeText(out.shape)}; Backlight explains classifiers whose output is [batch, classes]`);
  }
  return out.shape[1];
}

/** The [N, …] attribution of slot k, taken out of the library's [N, K, …]. */
export function sliceSlot(attribution: TensorLike, k: number): Float32Array {
  const [n, kk] = attribution.dims as [number, number];
  const per = sizeOf(attribution.dims.slice(2));
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) out.set(attribution.data.subarray((i * kk + k) * per, (i * kk + k + 1) * per), i * per);
  return out;
}

/** Names the target slots: by class where every image used the same one, else by spec. */
export function nameSlots(positions: readonly TargetPosition[], perImage: readonly number[][]): TargetSlot[] {
  return positions.map((p, k) => {
    const classes = perImage.map((t) => t[k]!);
    const same = classes.every((c) => c === classes[0]);
    return { ...p, classes, name: same ? String(classes[0]) : positionLabel(p) };
  });
}

function sameTargets(a: number[][], b: number[][]): boolean {
  return a.length === b.length && a.every((row, i) => row.length === b[i]!.length && row.every((c, j) => c === b[i]![j]));
}

/** Everything one run shares between its inputs. */
interface RunContext {
  plan: ExplainPlan;
  explainer: CoreExplainer;
  positions: TargetPosition[];
  labels: string[] | null;
  progress: Progress;
  /** The parameters of each method. */
  params: Record<MethodName, MethodParams>;
}

/** Runs `explain` for a validated plan and writes its files; returns the summary. */
export async function explainCommand(plan: ExplainPlan, io?: CliIO): Promise<ExplainReport> {
  const t0 = performance.now();

  // Output folders: distinct per input, creatable and writable, before any work.
  const seen = new Map<string, string>();
  for (const { file } of plan.inputs) {
    const dir = join(plan.out, stemOf(file));
    const other = seen.get(dir);
    if (stemOf(file) === 'summary.json') throw new BacklightError(`input '${file}' would write to '${dir}', where summary.json goes; rename it`, 'usage');
    if (other !== undefined) throw new BacklightError(`inputs '${other}' and '${file}' would both write to '${dir}'; rename one of them`, 'usage');
    seen.set(dir, file);
  }
  await checkWritableFolder(plan.out);
  for (const dir of seen.keys()) await checkWritableFolder(dir);
  if (plan.dumpGraph) await checkWritableFolder(dirname(plan.dumpGraph), 'folder of --dump-graph');

  // Model, preprocessing, inputs, targets and labels: all checked before anything is computed.
  const explainer = await Explainer.load(plan.model, { threads: plan.threads });
  const preprocess = resolveInputPreprocess(plan.preprocess, explainer, plan.inputs[0]!.kind);
  const batches: InputBatch[] = [];
  for (const spec of plan.inputs) batches.push(await loadInput(spec, explainer, preprocess));
  let classes = 0;
  for (const b of batches) {
    classes = classCount(explainer, b.tensor.dims, plan.model);
    validateTargets(plan.targets, classes);
  }
  const labels = plan.labels !== undefined ? await readLabels(plan.labels, classes) : null;
  const box = resolveBox(plan.params, preprocess, batches[0]!.geometry?.channels ?? null);
  const params = Object.fromEntries(plan.methods.map((m) => [m, paramsFor(m, plan.params, box)])) as Record<MethodName, MethodParams>;
  const loadMs = performance.now() - t0;

  let dumpGraph: string | null = null;
  if (plan.dumpGraph) {
    const first = batches[0]!;
    const bytes = explainer.compileToOnnx(canonicalDims(explainer, first.tensor.dims), { method: plan.methods[0]!, target: plan.targets, reductions: [], params: params[plan.methods[0]!] });
    await writeFileAtomic(plan.dumpGraph, bytes);
    dumpGraph = plan.dumpGraph;
  }

  // Steps: every method of every input, then drawing and writing its files.
  const several = batches.length > 1 || plan.methods.length > 1;
  const progress = startProgress(io, batches.length * (plan.methods.length + 1), several && plan.format === 'text');
  const ctx: RunContext = { plan, explainer, positions: targetPositions(plan.targets), labels, progress, params };
  const reports: InputReport[] = [];
  try {
    for (const batch of batches) reports.push(await explainInput(ctx, batch));
  } finally {
    progress.stop();
  }

  const display: DisplaySummary = { png: plan.pictures.png, methods: {}, clipPercentile: plan.pictures.clip, alpha: plan.pictures.alpha };
  for (const m of plan.methods) {
    const how = displayOf(m, plan.pictures.signed);
    display.methods[m] = { values: how.signed ? 'signed channel sum' : 'max |.| over channels', colormap: how.colormap };
  }
  const summary = join(plan.out, 'summary.json');
  const report: ExplainReport = {
    command: 'explain',
    commandLine: commandLine(plan.argv),
    argv: plan.argv,
    versions: versions(),
    model: plan.model,
    classes,
    labels: plan.labels ?? null,
    out: plan.out,
    methods: plan.methods,
    params: Object.fromEntries(plan.methods.filter((m) => Object.keys(params[m]).length > 0).map((m) => [m, params[m]])),
    zbBounds: box && { source: plan.boxSource === 'box' ? '--box' : 'preprocessing', low: [...box.low], high: [...box.high] },
    targets: plan.targets.map(String),
    preprocessing: summarizePreprocess(preprocess),
    display,
    inputs: reports,
    dumpGraph,
    summary,
    timings: { loadMs: round(loadMs), totalMs: 0 },
  };
  report.timings.totalMs = round(performance.now() - t0);
  await writeFileAtomic(summary, `${prettyJson(report)}\n`);
  return report;
}

/** Explains one input with every method, then writes all its files (all or none). */
async function explainInput(ctx: RunContext, batch: InputBatch): Promise<InputReport> {
  const { plan, explainer, labels, progress } = ctx;
  // Compute everything for this input, then write: a failing run writes no file of it.
  const results: Explanation[] = [];
  for (const method of plan.methods) {
    progress.begin(`${batch.stem}: ${method}`);
    results.push(await explainer.explain(batch.tensor, { method, target: plan.targets, reductions: [], params: ctx.params[method] }));
    progress.done();
  }
  progress.begin(`${batch.stem}: ${plan.pictures.png && batch.geometry ? 'drawing and writing' : 'writing'}`);
  const first = results[0]!;
  for (const r of results) {
    if (!sameTargets(r.targets, first.targets)) throw new Error(`methods ${first.method} and ${r.method} resolved different targets`);
  }
  const slots = nameSlots(ctx.positions, first.targets);
  const n = batch.tensor.dims[0]!;
  const dir = join(plan.out, batch.stem);
  const files: FileToWrite[] = [];
  const add = (name: string, data: Uint8Array | string): void => void files.push({ path: join(dir, name), data });

  // Attributions, logits and targets.json.
  const npyNames: Partial<Record<MethodName, string[]>> = {};
  for (const r of results) {
    const names: string[] = [];
    for (const [k, slot] of slots.entries()) {
      const name = `${r.method}__${slot.name}.npy`;
      // The same class twice (e.g. max and its index): the same data, written once.
      if (!names.includes(name)) add(name, encodeNpy(sliceSlot(r.attribution, k), batch.fileDims));
      names.push(name);
    }
    npyNames[r.method] = names;
  }
  add('logits.npy', encodeNpy(first.logits.data, first.logits.dims));
  const byMethod = Object.fromEntries(Object.entries(npyNames).map(([m, names]) => [m, [...new Set(names)]]));
  const targetsDoc = {
    input: batch.source,
    shape: batch.fileDims,
    batch: n,
    classes: first.logits.dims[1],
    targets: plan.targets.map(String),
    slots: slots.map((s) => ({ spec: s.spec, ...(s.rank !== undefined ? { rank: s.rank } : {}), name: s.name, classes: s.classes })),
    perImage: first.targets,
    files: byMethod,
  };
  add('targets.json', `${prettyJson(targetsDoc)}\n`);

  // Pictures, and what each image of the batch used.
  const noPictures = !plan.pictures.png ? 'turned off by --no-png' : !batch.geometry ? `the input ${shapeText(batch.fileDims)} is not an image batch [N, C, H, W] or [N, H, W, C] with C = 1 or 3` : null;
  const images: ImageReport[] = [];
  for (let i = 0; i < n; i++) {
    const drawn = noPictures === null ? await drawImage({ source: batch.source, geometry: batch.geometry!, display: batch.display, batch: n }, i, results, slots, labels, plan.pictures) : null;
    for (const p of drawn?.pictures ?? []) add(p.name, p.data);
    const probs = softmaxRow(first.logits, i);
    const methods: ImageReport['methods'] = {};
    for (const r of results) {
      methods[r.method] = slots.map((slot, k): TargetUse => ({
        target: positionLabel(slot),
        ...predictionOf(first.logits, probs, i, slot.classes[i]!, labels),
        npy: npyNames[r.method]![k]!,
        png: drawn?.names[r.method]?.[k]?.png ?? null,
        overlay: drawn?.names[r.method]?.[k]?.overlay ?? null,
      }));
    }
    images.push({ index: i, predictions: topPredictions(first.logits, i, labels), methods, grid: drawn?.grid ?? null });
  }

  await writeFilesAtomic(files);
  progress.done();
  return {
    input: batch.source,
    kind: batch.kind,
    dir,
    shape: batch.fileDims,
    ...(batch.original ? { original: batch.original } : {}),
    targets: slots,
    perImage: first.targets,
    images,
    files: files.map((f) => f.path),
    noPictures,
    timings: results.map((r) => ({ method: r.method, compileMs: round(r.timings.compileMs), runMs: round(r.timings.runMs) })),
  };
}
