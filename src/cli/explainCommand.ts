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
import type { Explainer as CoreExplainer, ExplainMethodName, Explanation, TargetSpec, TensorLike } from '../methods/explainer.js';
import { AGGREGATIONS, AGGREGATION_SUMMARIES, isAggregation, type Aggregation, type CombineSpec, type Upsampling } from '../compile/aggregate.js';
import { FRAMEWORK_METHODS, FRAMEWORK_METHOD_NAMES, isFrameworkMethod, type FrameworkOptions } from '../methods/framework.js';
import { COMPOSITE_NAMES } from '../methods/composites.js';
import { GRADIENT_FAMILY, METHODS, METHOD_NAMES, methodByName, type MethodParams } from '../methods/methods.js';
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
import { collect, numberOption } from './options.js';

export { fitInput, stemOf, type InputBatch } from './inputs.js';
export type { ExplainReport, InputReport, TargetSlot } from './summary.js';

/** Options as commander parses them. */
export interface ExplainCliOptions extends PreprocessCliOptions, MethodParamCliOptions {
  model: string;
  inputNpy?: string[];
  layer?: string[];
  aggregation?: string[];
  combine?: string;
  weights?: string;
  upsample?: string;
  listLayers?: boolean;
  image?: string[];
  labels?: string;
  method?: string[];
  target?: string[];
  out?: string;
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
  methods: ExplainMethodName[];
  /** Layer options (--layer, --aggregation, --combine, --weights, --upsample). */
  layers: LayerRequest;
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

/** The layer options of a run, checked as far as possible without the model. */
export interface LayerRequest {
  /** --layer (empty: each method's default layer). */
  layers: string[];
  /** --aggregation: extra aggregations (for backward methods, the only ones). */
  aggregations: Aggregation[];
  combine?: CombineSpec;
  upsample?: Upsampling;
}

/** The framework options `method` is run with (none for a backward method without --aggregation). */
export function frameworkOptionsFor(method: ExplainMethodName, request: LayerRequest): FrameworkOptions {
  if (!isFrameworkMethod(method) && request.aggregations.length === 0) return {};
  const o: FrameworkOptions = {};
  if (request.layers.length === 1) o.layer = request.layers[0]!;
  else if (request.layers.length > 1) o.layers = [...request.layers];
  if (request.aggregations.length > 0) o.aggregation = [...request.aggregations];
  if (request.combine) o.combine = request.combine;
  if (request.upsample) o.upsample = request.upsample;
  return o;
}

/** The aggregation whose map is written as `<method>__<target>__<layer>.npy` (others get `__<aggregation>` appended). */
function primaryAggregation(method: ExplainMethodName, request: LayerRequest): Aggregation | undefined {
  return isFrameworkMethod(method) ? FRAMEWORK_METHODS[method].aggregation : request.aggregations[0];
}

/** A tensor name as a file name part: characters outside [A-Za-z0-9._-] become '_'. */
export function sanitizeLayerName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]/g, '_');
}

const splitList = (values: readonly string[] | undefined): string[] => (values ?? []).flatMap((v) => v.split(',')).map((v) => v.trim());

/** Parses --layer, --aggregation, --combine, --weights and --upsample for `methods`. */
export function parseLayerOptions(opts: ExplainCliOptions, methods: readonly ExplainMethodName[]): LayerRequest {
  const usage = (msg: string): BacklightError => new BacklightError(msg, 'usage');
  const layers = splitList(opts.layer);
  if (layers.some((l) => l === '')) throw usage(`--layer '${opts.layer!.join(',')}' has an empty entry (see --list-layers)`);
  const aggregations: Aggregation[] = [];
  for (const a of splitList(opts.aggregation)) {
    if (!isAggregation(a)) throw usage(`unknown aggregation '${a}' (available: ${AGGREGATIONS.join(', ')})`);
    if (!aggregations.includes(a)) aggregations.push(a);
  }
  let combine: CombineSpec | undefined;
  if (opts.combine !== undefined) {
    const mode = opts.combine.trim();
    if (mode !== 'sum' && mode !== 'product') throw usage(`--combine '${opts.combine}' must be 'sum' or 'product'`);
    combine = { mode };
  }
  if (opts.weights !== undefined) {
    const items = opts.weights.split(',').map((w) => w.trim());
    const weights = items.map(Number);
    if (items.some((w) => w === '') || weights.some((w) => !Number.isFinite(w) || w < 0)) throw usage(`--weights '${opts.weights}' must be non-negative numbers, one per layer, e.g. 0.5,0.5`);
    if (weights.length !== layers.length) throw usage(`--weights has ${weights.length} weight${weights.length === 1 ? '' : 's'} for ${layers.length} layer${layers.length === 1 ? '' : 's'} (--layer): give one per layer`);
    combine = { mode: combine?.mode ?? 'sum', weights };
  }
  if (combine && layers.length < 2) throw usage(`${opts.combine !== undefined ? '--combine' : '--weights'} combines the maps of several layers: give them with --layer NAME,NAME`);
  let upsample: Upsampling | undefined;
  if (opts.upsample !== undefined) {
    const u = opts.upsample.trim();
    if (u !== 'bilinear' && u !== 'nearest') throw usage(`--upsample '${opts.upsample}' must be 'bilinear' or 'nearest'`);
    upsample = u;
  }
  const given = [['--layer', layers.length > 0], ['--combine', opts.combine !== undefined], ['--weights', opts.weights !== undefined], ['--upsample', upsample !== undefined]] as const;
  const flag = given.find(([, g]) => g)?.[0];
  if (flag && aggregations.length === 0 && !methods.some(isFrameworkMethod)) {
    throw usage(`${flag} is used by the layer-map methods (${FRAMEWORK_METHOD_NAMES.join(', ')}) and by --aggregation, and none of the methods given (${methods.join(', ')}) computes layer maps`);
  }
  return { layers, aggregations, ...(combine ? { combine } : {}), ...(upsample ? { upsample } : {}) };
}

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
${[...METHOD_NAMES.map((m) => [m, METHODS[m].summary] as const), ...FRAMEWORK_METHOD_NAMES.map((m) => [m, FRAMEWORK_METHODS[m].summary] as const)].map(([m, summary]) => `  ${m.length < 18 ? m.padEnd(18) : `${m}\n${' '.repeat(20)}`}${wrap(summary, 80, 20)}`).join('\n')}

Layer maps (${FRAMEWORK_METHOD_NAMES.join(', ')};
or any method with --aggregation):
  --list-layers     print the layers (tensor name, op, shape) and exit
  --layer NAME[,NAME...]  the layer(s) (default: the last spatial layer, the
                    last Conv output for normgrad-conv)
  --aggregation A[,A...]  extra aggregations (the maps of a backward method):
${AGGREGATIONS.map((a) => `    ${a.padEnd(19)}${wrap(AGGREGATION_SUMMARIES[a], 80, 23)}`).join('\n')}
  --combine sum|product  combine the min-max normalized maps of several layers
  --weights w1,w2   one weight per layer for --combine (default: uniform)
  --upsample bilinear|nearest  resizing of the maps to the input (default:
                    bilinear, nearest for guided-gradcam)
  <method>__<target>.npy is the upsampled map [N, 1, H, W] (guided-gradcam:
  Guided Backprop x the map), and <method>__<target>__<layer>.npy the map at
  the layer's resolution [N, 1, h, w] (other aggregations: __<aggregation>
  appended; characters of the layer outside [A-Za-z0-9._-] become _).
  --meta-lr LR      ${wrap(`meta-saliency (${GRADIENT_FAMILY.join(', ')}): explain the network after one SGD step of rate LR on the target's cross-entropy (e.g. 1e-4); one target per run`, 80, 20)}

Method parameters (each is refused when no method given reads it):
  --epsilon E       LRP-ε stabilizer (default 1e-6): lrp-epsilon, and the dense
                    layers of epsilon-plus-flat and epsilon-gamma-box
  --alpha A --beta B  LRP-αβ weights for lrp-alphabeta, α ≥ 0, β ≥ 0, α − β = 1
                    (α2β1: --alpha 2 --beta 1); one of them is enough
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
    .option('--method <names>', `comma-separated methods (default: gradient): ${[...METHOD_NAMES, ...FRAMEWORK_METHOD_NAMES].join(', ')}`, collect)
    .option('-t, --target <specs>', "comma-separated targets (default: max): a class index, 'max' (predicted class) or 'topK' (the K best)", collect)
    .option('-o, --out <dir>', 'output folder (created if needed; required except with --list-layers)')
    .option('--layer <names>', 'comma-separated layers (tensor names, see --list-layers) of the layer-map methods (default: the method\'s default layer)', collect)
    .option('--aggregation <names>', `comma-separated aggregations at the layers: ${AGGREGATIONS.join(', ')}`, collect)
    .option('--combine <sum|product>', 'combine the maps of several --layer layers')
    .option('--weights <w1,w2,...>', 'weights of the layers for --combine, one per layer')
    .option('--upsample <bilinear|nearest>', 'upsampling of layer maps to the input (default: bilinear; nearest for guided-gradcam)')
    .option('--list-layers', 'print the layers of the model (name, op, shape; JSON with --json) and exit')
    .option('--meta-lr <lr>', 'meta-saliency learning rate for the gradient-family methods (one target per run)')
    .option('--signed', 'draw the signed sum over channels with a diverging colormap, instead of max |.|')
    .option('--clip <percentile>', `percentile of the map that gets full colour (default: ${DEFAULT_PERCENTILE})`)
    .option('--opacity <a>', 'opacity of heatmaps over the input in overlays, 0 to 1 (default: 0.6)')
    .option('--alpha <a>', 'LRP-αβ α (α − β = 1; default 1)')
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
      if (opts.listLayers) return listLayers(opts, io);
      const plan = planExplain(opts, argv);
      printReport(await explainCommand(plan, io), plan.format, io);
    });
}

/** `--list-layers`: prints the layers one can compute layer maps at, and writes nothing. */
async function listLayers(opts: ExplainCliOptions, io: CliIO): Promise<void> {
  const explainer = await Explainer.load(opts.model);
  let dims: number[] | undefined;
  const npy = opts.inputNpy?.[0];
  if (npy !== undefined) {
    const batch = await loadInput({ kind: 'npy', file: npy }, explainer, null);
    dims = canonicalDims(explainer, batch.tensor.dims);
  }
  const layers = explainer.layers(dims);
  if (opts.json) io.stdout(`${JSON.stringify(layers)}\n`);
  else for (const l of layers) io.stdout(`${l.name}\t${l.op}\t${shapeText(l.shape)}\n`);
}

/** Checks the options that need no file: inputs, methods, targets, preprocessing, display, threads. */
export function planExplain(opts: ExplainCliOptions, argv: readonly string[] = []): ExplainPlan {
  if (opts.out === undefined) throw new BacklightError("required option '-o, --out <dir>' not specified", 'usage');
  const npy = opts.inputNpy ?? [];
  const images = opts.image ?? [];
  if (npy.length > 0 && images.length > 0) throw new BacklightError('give either --image or --input-npy, not both', 'usage');
  if (npy.length === 0 && images.length === 0) throw new BacklightError('no input given: add --image FILE or --input-npy FILE.npy', 'usage');
  const inputs: InputSpec[] = images.length > 0 ? images.map((file) => ({ kind: 'image', file })) : npy.map((file) => ({ kind: 'npy', file }));

  const methods: ExplainMethodName[] = [];
  for (const value of opts.method?.length ? opts.method : ['gradient']) {
    for (const raw of value.split(',')) {
      const name = raw.trim();
      const available = [...METHOD_NAMES, ...FRAMEWORK_METHOD_NAMES].join(', ');
      if (!name) throw new BacklightError(`--method '${value}' has an empty entry (available: ${available})`, 'usage');
      if (!isFrameworkMethod(name) && !(METHOD_NAMES as readonly string[]).includes(name)) {
        throw new BacklightError(`unknown method '${name}' (available: ${available})`, 'usage');
      }
      const m = isFrameworkMethod(name) ? name : methodByName(name).name;
      if (!methods.includes(m)) methods.push(m);
    }
  }
  const targets = parseTargetList(opts.target?.length ? opts.target : ['max']);
  const preprocess = parsePreprocessOptions(opts);
  const params = parseMethodParams(opts, methods);
  if (params.metaLearningRate !== undefined && targetPositions(targets).length !== 1) {
    throw new BacklightError(`--meta-lr explains one target per run (meta-saliency takes one SGD step on the target's loss), got ${targetPositions(targets).length} (--target ${targets.join(',')}): give one, e.g. --target max`, 'usage');
  }
  const layers = parseLayerOptions(opts, methods);
  const boxSource = checkBoxSource(params, inputs[0]!.kind, preprocess.explicit);
  const pictures: PictureOptions = {
    png: opts.png !== false,
    signed: opts.signed === true,
    clip: numberOption('--clip', opts.clip, DEFAULT_PERCENTILE, (v) => v > 0 && v <= 100, 'in (0, 100], e.g. 99.5'),
    opacity: numberOption('--opacity', opts.opacity, 0.6, (v) => v >= 0 && v <= 1, 'from 0 to 1'),
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
    layers,
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

/** The dims of one slot's attribution file: the input file's shape when the sizes agree, else [N, …]. */
function slotDims(attribution: TensorLike, batch: InputBatch): number[] {
  const n = attribution.dims[0]!;
  const rest = attribution.dims.slice(2);
  if (n * sizeOf(rest) === sizeOf(batch.fileDims)) return [...batch.fileDims];
  return [n, ...rest];
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
  params: Record<ExplainMethodName, MethodParams>;
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
  const params = Object.fromEntries(plan.methods.map((m) => [m, paramsFor(m, plan.params, box)])) as Record<ExplainMethodName, MethodParams>;
  if (plan.layers.layers.length > 0) {
    const known = new Set(explainer.layers(canonicalDims(explainer, batches[0]!.tensor.dims)).map((l) => l.name));
    const unknown = plan.layers.layers.find((l) => !known.has(l));
    if (unknown !== undefined) throw new BacklightError(`unknown layer '${unknown}': it is no 4-D tensor [N, C, h, w] of the model (--list-layers prints them)`, 'usage');
  }
  const loadMs = performance.now() - t0;

  let dumpGraph: string | null = null;
  if (plan.dumpGraph) {
    const first = batches[0]!;
    const bytes = explainer.compileToOnnx(canonicalDims(explainer, first.tensor.dims), { method: plan.methods[0]!, target: plan.targets, reductions: [], params: params[plan.methods[0]!], ...frameworkOptionsFor(plan.methods[0]!, plan.layers) });
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

  const display: DisplaySummary = { png: plan.pictures.png, methods: {}, clipPercentile: plan.pictures.clip, opacity: plan.pictures.opacity };
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
  const results: Explanation<ExplainMethodName>[] = [];
  for (const method of plan.methods) {
    progress.begin(`${batch.stem}: ${method}`);
    results.push(await explainer.explain(batch.tensor, { method, target: plan.targets, reductions: [], params: ctx.params[method], ...frameworkOptionsFor(method, plan.layers) }));
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
  const npyNames: Partial<Record<ExplainMethodName, string[]>> = {};
  const layerNames: Partial<Record<ExplainMethodName, Array<Record<string, string>>>> = {};
  const written = new Set<string>();
  for (const r of results) {
    const names: string[] = [];
    const perSlot: Array<Record<string, string>> = [];
    const dims = slotDims(r.attribution, batch);
    const primary = primaryAggregation(r.method, plan.layers);
    for (const [k, slot] of slots.entries()) {
      const name = `${r.method}__${slot.name}.npy`;
      // The same class twice (e.g. max and its index): the same data, written once.
      if (!written.has(name)) add(name, encodeNpy(sliceSlot(r.attribution, k), dims));
      written.add(name);
      names.push(name);
      const layerFiles: Record<string, string> = {};
      for (const [layer, maps] of Object.entries(r.layerMaps)) {
        for (const [a, map] of Object.entries(maps) as [Aggregation, { raw: TensorLike }][]) {
          const file = `${r.method}__${slot.name}__${sanitizeLayerName(layer)}${a === primary ? '' : `__${a}`}.npy`;
          const [nn, , h, w] = map.raw.dims as [number, number, number, number];
          if (!written.has(file)) add(file, encodeNpy(sliceSlot(map.raw, k), [nn, 1, h, w]));
          written.add(file);
          layerFiles[a === primary ? layer : `${layer}:${a}`] = file;
        }
      }
      perSlot.push(layerFiles);
    }
    npyNames[r.method] = names;
    if (Object.keys(r.layerMaps).length > 0) layerNames[r.method] = perSlot;
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
        ...(layerNames[r.method] ? { layers: layerNames[r.method]![k]! } : {}),
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
