/**
 * `backlight explain`, planning: the options as commander parses them, checked (inputs, methods,
 * targets, method and layer parameters, display, threads) into an `ExplainPlan` before any file is
 * read.
 */
import {
  AGGREGATIONS, BacklightError, checkBoxSource, FRAMEWORK_METHODS, isAggregation, isFrameworkMethod, isMethod, methodNames, parseMethodParams,
  mergeTargets, parseTargetList, targetPositions,
  type Aggregation, type BoxSource, type CombineSpec, type CoreExplainer, type ExplainMethodName, type FrameworkOptions, type MethodParamCliOptions,
  type MethodParams, type ParamRequest, type TargetPosition, type TargetSpec, type Upsampling,
} from '../../core.js';
import { COLORMAP_NAMES, DEFAULT_PERCENTILE, isColormapName } from '../../render/index.js';
import { parsePreprocessOptions, type InputSpec, type PreprocessCliOptions, type PreprocessRequest } from '../inputs.js';
import { numberOption, threadsOption } from '../options.js';
import type { Progress } from '../progress.js';
import type { OutputDir } from '../outputDir.js';
import type { PictureOptions } from '../render.js';
import type { InputReport } from '../summary.js';

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
  colormap?: string;
  overlayOn?: string;
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
  /** One line each about what the run does differently from what was asked (e.g. targets merged). */
  notes: string[];
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
export function primaryAggregation(method: ExplainMethodName, request: LayerRequest): Aggregation | undefined {
  return isFrameworkMethod(method) ? FRAMEWORK_METHODS[method].aggregation : request.aggregations[0];
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
    throw usage(`${flag} is used by the layer-map methods (${methodNames('layer-map').join(', ')}) and by --aggregation, and none of the methods given (${methods.join(', ')}) computes layer maps`);
  }
  return { layers, aggregations, ...(combine ? { combine } : {}), ...(upsample ? { upsample } : {}) };
}

/** --colormap and --overlay-on, checked (a .npy input has no photo to draw over). */
function pictureStyleOptions(opts: ExplainCliOptions, kind: InputSpec['kind']): Pick<PictureOptions, 'colormap' | 'overlayOn'> {
  let colormap: PictureOptions['colormap'];
  if (opts.colormap !== undefined) {
    const name = opts.colormap.trim().toLowerCase();
    if (!isColormapName(name)) throw new BacklightError(`--colormap '${opts.colormap}' is not a colormap: use one of ${COLORMAP_NAMES.join(', ')}`, 'usage');
    colormap = name;
  }
  const on = (opts.overlayOn ?? (kind === 'image' ? 'original' : 'input')).trim().toLowerCase();
  if (on !== 'original' && on !== 'input') throw new BacklightError(`--overlay-on '${opts.overlayOn}' must be 'original' (the photo at its resolution) or 'input' (the model's input)`, 'usage');
  if (on === 'original' && kind === 'npy') throw new BacklightError("--overlay-on original needs image files (--image): a .npy input is drawn over itself (--overlay-on input)", 'usage');
  return { ...(colormap ? { colormap } : {}), overlayOn: on };
}

/** Checks the options that need no file: inputs, methods, targets, preprocessing, display, threads. */
export function planExplain(opts: ExplainCliOptions, argv: readonly string[] = []): ExplainPlan {
  if (opts.out === undefined) throw new BacklightError("required option '-o, --out <dir>' not specified", 'usage');
  if (opts.out.trim() === '') throw new BacklightError("--out '' names no folder: give the output folder, e.g. --out results", 'usage');
  const npy = opts.inputNpy ?? [];
  const images = opts.image ?? [];
  if (npy.length > 0 && images.length > 0) throw new BacklightError('give either --image or --input-npy, not both', 'usage');
  if (npy.length === 0 && images.length === 0) throw new BacklightError('no input given: add --image FILE or --input-npy FILE.npy', 'usage');
  const inputs: InputSpec[] = images.length > 0 ? images.map((file) => ({ kind: 'image', file })) : npy.map((file) => ({ kind: 'npy', file }));

  const methods: ExplainMethodName[] = [];
  for (const value of opts.method?.length ? opts.method : ['gradient']) {
    for (const raw of value.split(',')) {
      const name = raw.trim();
      const available = methodNames().join(', ');
      if (!name) throw new BacklightError(`--method '${value}' has an empty entry (available: ${available})`, 'usage');
      if (!isMethod(name)) throw new BacklightError(`unknown method '${name}' (available: ${available})`, 'usage');
      const m = name as ExplainMethodName;
      if (!methods.includes(m)) methods.push(m);
    }
  }
  const { specs: targets, notes } = mergeTargets(parseTargetList(opts.target?.length ? opts.target : ['max']));
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
    ...pictureStyleOptions(opts, inputs[0]!.kind),
  };
  const threads = threadsOption(opts.threads);
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
    notes,
    argv: [...argv],
  };
}

/** Everything one run shares between its inputs. */
export interface RunContext {
  plan: ExplainPlan;
  explainer: CoreExplainer;
  positions: TargetPosition[];
  labels: string[] | null;
  progress: Progress;
  /** The parameters of each method. */
  params: Record<ExplainMethodName, MethodParams>;
  /** The output folder, held by this run (src/cli/outputDir.ts). */
  output: OutputDir;
  /** The sets already in the output folder, by input stem (merged with this run's). */
  previous?: ReadonlyMap<string, InputReport>;
  /** Called once an input's set is in place (rewrites summary.json), before a signal may end the run. */
  afterSet?: (report: InputReport) => Promise<void>;
}
