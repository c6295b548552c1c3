/**
 * The public API: load a model once, explain inputs with any method. Each (method, input shape,
 * target mode, outputs) is compiled once into one ONNX graph and its session is cached.
 */
import type { InferenceSession, Tensor as OrtTensor } from 'onnxruntime-common';
import { canonicalize, type CanonicalModel } from '../canonicalize/index.js';
import { checkSupported, compile, REDUCTIONS, SEED, INPUT, type CompiledGraph, type Reduction } from '../compile/compile.js';
import { yieldToEventLoop } from '../compile/yield.js';
import { BacklightError } from '../errors.js';
import { cloneGraph, intsAttr, renameUses, type Dim, type Graph, type Node } from '../ir/graph.js';
import { sizeOf, type TensorLike } from '../ir/tensor.js';
import { decodeModel } from '../onnx/decode.js';
import { encodeModel } from '../onnx/encode.js';
import type { ResourceBudget } from '../onnx/budget.js';
import { checkInputSize, DEFAULT_BUDGET, firstNonFinite } from '../onnx/validate.js';
import { Runtime, type OrtModule, type RuntimeOptions } from '../runtime/runtime.js';
import { importTfjsModel, looksLikeJson, type ShardReader } from '../tfjs/import.js';
import { methodByName, type MethodName, type MethodParams } from './methods.js';
import { methodSpec } from './registry.js';
import { withSlots, type SlotAccessors } from './slots.js';
import { checkClass, checkTargetSpec, topKOf, type TargetSpec } from './targets.js';
import { isFrameworkMethod } from './registry.js';
import type { Aggregation, AggregationOutputs } from '../compile/aggregate.js';
import { CPU_LOWERING, WEBGPU_LOWERING, type Lowering } from '../rules/types.js';
import {
  compileFramework,
  defaultLayer,
  extractionOptions,
  layerCandidates,
  resolveFramework,
  type FrameworkMethodName,
  type FrameworkOptions,
  type LayerInfo,
} from './framework.js';

/** Every name `explain` takes: the backward methods and the layer-map methods of the framework. */
export type ExplainMethodName = MethodName | FrameworkMethodName;

export type { TensorLike } from '../ir/tensor.js';

export type { TargetSpec } from './targets.js';

/**
 * What to explain, for every image of the batch:
 * - a `TargetSpec` or a list of them (the same for every image); `'max'` and `'topK'` are chosen
 *   in the graph from the logits of the same run, so `['max', 3]` costs one forward pass;
 * - `{ topK: K }`: the K highest-scoring classes;
 * - `number[][]`: class indices per image (`[N][K]`);
 * - `{ seeds, k }`: any signal on the logits, float32 `[N, K, classes]`.
 */
export type Target = TargetSpec | TargetSpec[] | { topK: number } | number[][] | { seeds: Float32Array; k: number };

/**
 * Options of one explain call. Layer maps (Rebuffi et al.'s extraction × aggregation framework,
 * see src/methods/framework.ts):
 * - a framework method (`gradcam`, `guided-gradcam`, `normgrad`, `normgrad-conv`,
 *   `normgrad-selective`) computes its aggregation at `layer` (default: `defaultLayer`; the last
 *   Conv output for `normgrad-conv`), extracted with `extraction` (default 'gradient'); its
 *   attribution is the upsampled map [N, K, 1, H, W] (Guided Grad-CAM: [N, K, C, H, W]);
 * - a backward method (`gradient`, `guided-backprop`, LRP, …) with `aggregation` computes those
 *   maps at `layer(s)` from its own backward signal, besides its usual input-space attribution.
 * With several `layers` and `combine`, the min-max normalized upsampled maps are combined.
 */
export interface ExplainOptions<M extends ExplainMethodName = ExplainMethodName> extends FrameworkOptions {
  method: M;
  target?: Target;
  /** Per-image maps to compute besides the raw attribution (default: all of maxabs, sum, l2). */
  reductions?: readonly Reduction[];
  /** Tensor names whose activation and backward signal to return. */
  taps?: readonly string[];
  /** Method parameters (LRP ε, α, β, …). */
  params?: MethodParams;
}

/** A layer map: at the layer's resolution and resized to the input's spatial size. */
export interface LayerMap {
  /** [N, K, h, w] */
  raw: TensorLike;
  /** [N, K, H, W] */
  upsampled: TensorLike;
}

/**
 * The result of one explain call. `M` defaults to the backward methods' names so that code written
 * for them keeps its types; `explain` returns `Explanation<M>` for the method it was given.
 */
export interface Explanation<M extends ExplainMethodName = MethodName> extends SlotAccessors {
  method: M;
  /** Logits [N, classes] (pre-softmax; a trailing softmax of the model is removed). */
  logits: TensorLike;
  /** Class indices explained, [N][K] (-1 for free-form seeds). */
  targets: number[][];
  /** Attribution in input space, [N, K, …input dims]. */
  attribution: TensorLike;
  /** One map per image and target, [N, K, …spatial]: max |·|, sum or l2 norm over channels. */
  maps: Partial<Record<Reduction, TensorLike>>;
  taps: Record<string, { activation: TensorLike; signal: TensorLike }>;
  /** Layer maps: layer (tensor name) → aggregation → map (empty without layers). */
  layerMaps: Record<string, Partial<Record<Aggregation, LayerMap>>>;
  /**
   * With `combine` (or several layers of a framework method): the first aggregation's maps of all
   * layers, min-max normalized per image and target and combined, [N, K, H, W].
   */
  combined?: TensorLike;
  /** Milliseconds spent compiling (0 when the session was cached) and running. */
  timings: { compileMs: number; runMs: number };
}

export interface ExplainerOptions extends RuntimeOptions {
  /** Name used in error messages (a file path). */
  source?: string;
  /**
   * Compiled sessions kept for reuse (least recently used ones are released); each holds its own
   * copy of the weights, so large models want few. Default 4.
   */
  maxSessions?: number;
  /**
   * Op choices for the runtime that runs the compiled graphs (same values, different ops; see
   * `Lowering`). Default: onnxruntime's CPU provider's, or WebGPU's when `executionProviders`
   * includes 'webgpu' (max-pooling switches by ArgMax, since its MaxPool has no Indices output,
   * and rectifier gates by comparisons).
   */
  lowering?: Partial<Lowering>;
  /**
   * Limits on what a model and its inputs may ask for, checked before anything runs: elements of
   * one input tensor (`maxInputElements`, default 2^28, e.g. a batch of 1,000 images of 3×299×299)
   * and bytes of all initializers (`maxInitializerBytes`, default 4 GiB). Raise them for larger
   * models or inputs; a model or input over the budget is refused with a BacklightError.
   */
  budget?: Partial<ResourceBudget>;
  /**
   * TF.js models (the model bytes are a model.json): reads a weight shard named in its
   * `weightsManifest`. `Explainer.load` sets it (Node: the files beside the json; browser: the
   * dropped files or the json's URL).
   */
  shards?: ShardReader;
}

interface CompiledSession {
  compiled: CompiledGraph;
  /** Layer-map outputs and the first (primary) aggregation, for framework calls. */
  aggregation?: { outputs: AggregationOutputs; primary: Aggregation };
  session: InferenceSession;
  compileMs: number;
}

interface SeedPlan {
  /** Seeds chosen in-graph on the top logits, then seeds fed as input. */
  top: number;
  given: number;
  seeds?: Float32Array;
  /** Class of each given seed, [N][given] (-1 for free-form seeds). */
  givenTargets: number[][];
  /** For each requested target, its slot among the top + given seeds (identity in most calls). */
  order: number[];
}

export class Explainer {
  private readonly runtime: Runtime;
  private readonly canonicals = new Map<string, CanonicalModel>();
  private readonly sessions = new Map<string, Promise<CompiledSession>>();
  private readonly budget: ResourceBudget;
  /**
   * The input's channels are its last axis ([N, H, W, C], TF.js models): the compiled maps reduce
   * the attribution's last axis, and the layer-map methods, which read the input's spatial axes as
   * 2 and 3, run on `nchwTwin`.
   */
  private channelsLast = false;
  private twin?: Explainer;
  private readonly ortModule: OrtModule;

  protected constructor(
    /** The imported model (before specialization to an input shape). */
    readonly model: Graph,
    ort: OrtModule,
    readonly options: ExplainerOptions,
  ) {
    this.runtime = new Runtime(ort, options);
    this.ortModule = ort;
    this.budget = { ...DEFAULT_BUDGET, ...options.budget };
  }

  /**
   * Imports an ONNX model, or a TF.js model.json (told apart by content) whose shards `options.shards`
   * reads; throws a BacklightError for unreadable or unsupported models.
   */
  static async create(bytes: Uint8Array, ort: OrtModule, options: ExplainerOptions = {}): Promise<Explainer> {
    const source = options.source ?? 'model';
    const budget = { ...DEFAULT_BUDGET, ...options.budget };
    const tfjs = looksLikeJson(bytes);
    const graph = tfjs ? await importTfjsModel(new TextDecoder().decode(bytes), options.shards ?? noShards(source), source, budget) : decodeModel(bytes, source, budget).graph;
    await yieldToEventLoop();
    checkSupported(graph, source);
    const explainer = new Explainer(graph, ort, options);
    // TF.js models keep their NHWC input (Keras's layout, which their users feed).
    explainer.channelsLast = tfjs;
    return explainer;
  }

  /** The model's input shape; symbolic dimensions (a dynamic batch) are names. */
  get inputShape(): Dim[] {
    return [...this.model.inputs[0]!.shape];
  }

  get inputName(): string {
    return this.model.inputs[0]!.name;
  }

  /** The canonical graph for a concrete input shape (cached). */
  canonical(dims: readonly number[]): CanonicalModel {
    const key = dims.join('x');
    checkInputSize(dims, `input for '${this.inputName}'`, this.budget);
    let c = this.canonicals.get(key);
    if (!c) this.canonicals.set(key, (c = canonicalize(this.model, dims)));
    return c;
  }

  /** The compiled explanation graph as ONNX bytes, for inspection (e.g. in Netron). */
  compileToOnnx(dims: readonly number[], options: ExplainOptions): Uint8Array {
    checkMethod(options.method);
    const plan = this.planSeeds(options.target ?? 'max', dims[0]!, this.classesFor(dims));
    return encodeModel(this.compileGraph(dims, options, plan).compiled.graph);
  }

  /**
   * The layers one can compute layer maps at (`layer` / `layers` options): every input-dependent
   * 4-D tensor [N, C, h, w] of the canonical graph, in graph order, with the op that writes it and
   * its shape for `dims` (default: the model's input shape with a batch of 1).
   */
  layers(dims?: readonly number[]): LayerInfo[] {
    if (this.channelsLast) return this.nchwTwin().layers(toNchwDims(dims ?? this.defaultDims()));
    return layerCandidates(this.canonical(dims ?? this.defaultDims()).graph);
  }

  /** The default layer of Grad-CAM and NormGrad (see `defaultLayer` in src/methods/framework.ts). */
  defaultLayer(dims?: readonly number[]): string {
    if (this.channelsLast) return this.nchwTwin().defaultLayer(toNchwDims(dims ?? this.defaultDims()));
    return defaultLayer(this.canonical(dims ?? this.defaultDims()).graph);
  }

  /**
   * An NHWC model as an NCHW one, for the layer-map methods (their layers and upsampling read the
   * input's spatial axes as 2 and 3): the same graph behind a Transpose from an NCHW input.
   */
  private nchwTwin(): Explainer {
    if (this.twin) return this.twin;
    const g = cloneGraph(this.model);
    const input = g.inputs[0]!;
    if (input.shape.length !== 4) throw new BacklightError(`the layer-map methods need an image input [N, H, W, C]; this model's is [${input.shape.join(', ')}]`, 'usage');
    const readers = g.nodes.filter((node) => node.inputs.includes(input.name));
    const perm = (node: Node): string => JSON.stringify(node.attrs.perm?.value);
    if (readers.every((node) => node.op === 'Transpose' && perm(node) === '[0,3,1,2]')) {
      // The importer's own Transpose to NCHW: the twin reads the input where it did.
      g.nodes = g.nodes.filter((node) => !readers.includes(node));
      for (const t of readers) renameUses(g, t.outputs[0]!, input.name);
    } else {
      let inner = `${input.name}/nhwc`;
      while (g.nodes.some((node) => node.outputs.includes(inner)) || g.initializers.has(inner)) inner += '_';
      renameUses(g, input.name, inner);
      g.nodes.unshift({ name: inner, op: 'Transpose', domain: '', inputs: [input.name], outputs: [inner], attrs: { perm: intsAttr([0, 2, 3, 1]) } });
    }
    const [n, h, w, c] = input.shape as [Dim, Dim, Dim, Dim];
    input.shape = [n, c, h, w];
    return (this.twin = new Explainer(g, this.ortModule, this.options));
  }

  private defaultDims(): number[] {
    return this.inputShape.map((d, i) => {
      if (typeof d === 'number') return d;
      if (i === 0) return 1;
      throw new BacklightError(`the model's input shape [${this.inputShape}] has a symbolic dimension '${d}': give the input dims`, 'usage');
    });
  }

  /** Logits only: the canonical graph's forward pass, without any backward pass. */
  async predict(input: TensorLike): Promise<TensorLike> {
    this.checkInput(input);
    const n = input.dims[0]!;
    if (this.model.inputs[0]!.shape[0] === 1 && n > 1) {
      // A model with a fixed batch of 1: image by image, stacked.
      const per = sizeOf(input.dims.slice(1));
      const rows: TensorLike[] = [];
      for (let i = 0; i < n; i++) rows.push(await this.predict({ data: input.data.subarray(i * per, (i + 1) * per), dims: [1, ...input.dims.slice(1)] }));
      const classes = rows[0]!.data.length;
      const data = new Float32Array(n * classes);
      rows.forEach((r, i) => data.set(r.data, i * classes));
      return { data, dims: [n, ...rows[0]!.dims.slice(1)] };
    }
    this.classesFor(input.dims);
    const logits = await this.runtime.forward(this.canonical(input.dims).graph, input);
    const bad = firstNonFinite(logits.data);
    if (bad >= 0) throw new BacklightError(`the logits hold ${logits.data[bad]} at index ${bad}; the forward pass is not finite (overflowing weights or input values)`);
    return logits;
  }

  /**
   * Explains `input`. A NaN or ±Inf input is refused before running, and an attribution that is
   * not finite (overflowing weights, a tiny ε, a large meta-saliency step) is reported in one line
   * naming the method and, where a re-run with taps finds it, the first tensor that is not finite.
   */
  async explain<M extends ExplainMethodName>(input: TensorLike, options: ExplainOptions<M>): Promise<Explanation<M>> {
    const e = await this.explainUnchecked(input, options);
    const bad = firstNonFinite(e.attribution.data);
    // Finite attributions can come with overflowing logits (a gradient of a ReLU network does not
    // depend on the input's scale): the logits are checked too.
    const badLogit = firstNonFinite(e.logits.data);
    if (bad >= 0 || badLogit >= 0) {
      const step = options.params?.metaLearningRate !== undefined ? ` after the meta-saliency step of learning rate ${options.params.metaLearningRate}` : '';
      const what = bad >= 0 ? `the attribution holds ${e.attribution.data[bad]} at index ${bad}` : `the logits hold ${e.logits.data[badLogit]} at index ${badLogit}`;
      throw new BacklightError(`method '${options.method}': ${what}${step}; ${await this.locateNonFinite(input, options)}`);
    }
    return e;
  }

  /**
   * Where the signal first stops being finite: re-runs with taps on up to TAPS_PROBED of the
   * canonical graph's tensors (evenly spaced in graph order), and names the first one whose
   * forward activation, or else the last one whose backward signal, is not finite.
   */
  private async locateNonFinite(input: TensorLike, options: ExplainOptions): Promise<string> {
    const TAPS_PROBED = 64;
    if (options.params?.metaLearningRate !== undefined) {
      // Taps see the model's own tensors, not those of the network after the step.
      return 'the stepped network is not finite (its tensors cannot be tapped); a smaller learning rate keeps the updated weights finite';
    }
    const { graph } = this.canonical(input.dims);
    const writer = new Map<string, string>();
    for (const n of graph.nodes) for (const o of n.outputs) if (graph.values.get(o)?.dtype === 'float32') writer.set(o, `node '${n.name}' (${n.op})`);
    const all = [...writer.keys()];
    const step = Math.max(1, Math.ceil(all.length / TAPS_PROBED));
    const taps = all.filter((_, i) => i % step === 0 || i === all.length - 1);
    const checked = taps.length === all.length ? `all ${all.length} tensors checked` : `${taps.length} of ${all.length} tensors checked`;
    let probe: Explanation<ExplainMethodName>;
    try {
      probe = await this.explainUnchecked(input, { ...options, taps });
    } catch {
      return 'the first tensor that is not finite could not be located';
    }
    const logits = firstNonFinite(probe.logits.data);
    for (const t of taps) {
      if (firstNonFinite(probe.taps[t]!.activation.data) >= 0) return `the forward pass first stops being finite at tensor '${t}' (${writer.get(t)}; ${checked})`;
    }
    if (logits >= 0) return 'the logits are not finite';
    // The signal at a tensor is computed by the rules of the nodes that read it.
    const readers = (t: string): string => {
      const r = graph.nodes.filter((n) => n.inputs.includes(t)).map((n) => `'${n.name}' (${n.op})`);
      return r.length === 0 ? 'no node' : `node${r.length > 1 ? 's' : ''} ${r.slice(0, 3).join(', ')}${r.length > 3 ? ', …' : ''}`;
    };
    for (const t of [...taps].reverse()) {
      if (firstNonFinite(probe.taps[t]!.signal.data) >= 0) return `the backward signal first stops being finite at tensor '${t}', computed by ${readers(t)} (${checked})`;
    }
    return `the backward signal first stops being finite at the input '${this.inputName}', computed by ${readers(this.inputName)} (${checked})`;
  }

  private async explainUnchecked<M extends ExplainMethodName>(input: TensorLike, options: ExplainOptions<M>): Promise<Explanation<M>> {
    checkMethod(options.method);
    this.checkInput(input);
    const n = input.dims[0]!;
    if (this.model.inputs[0]!.shape[0] === 1 && n > 1) return this.explainOneByOne(input, options);
    const classes = this.classesFor(input.dims);
    const plan = this.planSeeds(options.target ?? 'max', n, classes);
    const reductions = options.reductions ?? REDUCTIONS;
    if (this.channelsLast && isFrameworkMethod(options.method)) {
      // On the NCHW twin; its attribution [N, K, C, H, W] comes back as the input's [N, K, H, W, C].
      const r = await this.nchwTwin().explainUnchecked(nchwInput(input), options);
      return withSlots({ ...r, attribution: channelsLastAttribution(r.attribution) }) as Explanation<M>;
    }
    const framework = [options.layer, options.layers, options.aggregation, options.extraction, options.combine, options.upsample];
    const key = JSON.stringify([options.method, options.params ?? {}, input.dims, plan.top, plan.given, reductions, options.taps ?? [], framework]);
    let entry = this.sessions.get(key);
    let fresh = false;
    if (entry) {
      // Move to the most recently used end.
      this.sessions.delete(key);
      this.sessions.set(key, entry);
    } else {
      fresh = true;
      entry = (async () => {
        const t0 = performance.now();
        // Between phases the event loop turns, so a SIGINT/SIGTERM handler runs within one phase.
        await yieldToEventLoop();
        const { compiled, aggregation } = this.compileGraph(input.dims, { ...options, reductions }, plan);
        await yieldToEventLoop();
        const bytes = encodeModel(compiled.graph);
        await yieldToEventLoop();
        const session = await this.runtime.createSession(bytes, { nodes: compiled.graph.nodes.length });
        return { compiled, aggregation, session, compileMs: performance.now() - t0 };
      })();
      this.sessions.set(key, entry);
      entry.catch(() => this.sessions.delete(key));
      await this.evict(this.options.maxSessions ?? 4);
    }
    const { session, compileMs, aggregation } = await entry;
    const feeds: Record<string, OrtTensor> = { [INPUT]: this.runtime.tensor('float32', input.data, input.dims) };
    if (plan.given > 0) feeds[SEED] = this.runtime.tensor('float32', plan.seeds!, [n, plan.given, classes]);
    const t1 = performance.now();
    const out = await session.run(feeds);
    const runMs = performance.now() - t1;
    const get = (name: string): TensorLike => {
      const t = out[name];
      if (!t) throw new Error(`compiled graph has no output '${name}'`);
      return { data: t.data as Float32Array, dims: [...t.dims] };
    };
    const top = plan.top > 0 ? (out.targets!.data as BigInt64Array) : new BigInt64Array(0);
    const slots = Array.from({ length: n }, (_, i) => [
      ...Array.from(top.subarray(i * plan.top, (i + 1) * plan.top), Number),
      ...(plan.givenTargets[i] ?? []),
    ]);
    const targets = slots.map((s) => plan.order.map((j) => s[j]!));
    const ordered = (name: string): TensorLike => reorderSlots(get(name), plan.order);
    const maps: Partial<Record<Reduction, TensorLike>> = {};
    const attribution = ordered('attribution');
    for (const r of reductions) maps[r] = ordered(`map_${r}`);
    const taps: Explanation['taps'] = {};
    for (const tap of options.taps ?? []) taps[tap] = { activation: get(`act:${tap}`), signal: ordered(`grad:${tap}`) };
    const layerMaps: Explanation['layerMaps'] = {};
    for (const [layer, per] of Object.entries(aggregation?.outputs.layers ?? {})) {
      const maps: Partial<Record<Aggregation, LayerMap>> = (layerMaps[layer] = {});
      for (const [a, names] of Object.entries(per) as [Aggregation, { raw: string; upsampled: string }][]) {
        maps[a] = { raw: ordered(names.raw), upsampled: ordered(names.upsampled) };
      }
    }
    const combinedName = aggregation ? aggregation.outputs.combined[aggregation.primary] : undefined;
    return withSlots({
      method: options.method,
      logits: get('logits'),
      targets,
      attribution,
      maps,
      taps,
      layerMaps,
      ...(combinedName ? { combined: ordered(combinedName) } : {}),
      timings: { compileMs: fresh ? compileMs : 0, runMs },
    });
  }

  /** Releases every compiled session and forward session (they are recreated on demand). */
  async release(): Promise<void> {
    await this.twin?.release();
    await this.evict(0);
    await this.runtime.release();
  }

  private async evict(keep: number): Promise<void> {
    while (this.sessions.size > keep) {
      const [key, oldest] = this.sessions.entries().next().value as [string, Promise<CompiledSession>];
      this.sessions.delete(key);
      await oldest.then((c) => c.session.release()).catch(() => undefined);
    }
  }

  private compileGraph(dims: readonly number[], options: ExplainOptions, plan: SeedPlan): Pick<CompiledSession, 'compiled' | 'aggregation'> {
    const { graph } = this.canonical(dims);
    const seeds = { top: plan.top, given: plan.given };
    const reductions = options.reductions ?? REDUCTIONS;
    const spec = resolveFramework(options.method, graph, options);
    const lowering = { ...(this.options.executionProviders?.includes('webgpu') ? WEBGPU_LOWERING : CPU_LOWERING), ...this.options.lowering };
    if (spec) {
      const f = compileFramework(graph, spec, { seeds, reductions, taps: options.taps, params: options.params, lowering });
      return { compiled: f.compiled, aggregation: { outputs: f.outputs, primary: spec.aggregations[0]! } };
    }
    const compiled = compile(graph, {
      ...extractionOptions(methodByName(options.method), options.params),
      seeds,
      reductions,
      channelsLast: this.channelsLast,
      taps: options.taps,
      lowering,
    });
    return { compiled };
  }

  private classesFor(dims: readonly number[]): number {
    const out = this.canonical(dims).graph.outputs[0]!;
    if (out.shape.length !== 2) {
      throw new BacklightError(`the model output '${out.name}' has shape [${out.shape}]; Backlight explains classifiers whose output is [batch, classes]`);
    }
    return out.shape[1] as number;
  }

  private checkInput(input: TensorLike): void {
    const expected = this.model.inputs[0]!;
    const where = `input for '${expected.name}'`;
    if (!(input.data instanceof Float32Array)) throw new BacklightError(`${where}: expected float32 data`, 'usage');
    const dims = input.dims;
    const ok = dims.length === expected.shape.length && dims.every((d, i) => Number.isInteger(d) && d > 0 && (typeof expected.shape[i] !== 'number' || expected.shape[i] === d || (i === 0 && expected.shape[0] === 1)));
    if (!ok) throw new BacklightError(`${where}: shape [${dims}] does not match the model's [${expected.shape}]`, 'usage');
    checkInputSize(dims, where, this.budget);
    if (sizeOf(dims) !== input.data.length) throw new BacklightError(`${where}: shape [${dims}] needs ${sizeOf(dims)} values, got ${input.data.length}`, 'usage');
    const bad = firstNonFinite(input.data);
    if (bad >= 0) throw new BacklightError(`${where}: the input holds NaN or ±Inf at index ${bad} (${input.data[bad]}); inputs must be finite`);
  }

  private planSeeds(target: Target, n: number, classes: number): SeedPlan {
    const check = (c: number): number => checkClass(c, classes);
    const oneHots = (perImage: number[][]): Float32Array => {
      const g = perImage[0]!.length;
      const seeds = new Float32Array(n * g * classes);
      perImage.forEach((ts, i) => ts.forEach((c, j) => (seeds[(i * g + j) * classes + check(c)] = 1)));
      return seeds;
    };
    const identity = (k: number): number[] => Array.from({ length: k }, (_, i) => i);

    if (typeof target === 'object' && !Array.isArray(target)) {
      if ('topK' in target) return this.planSeeds(`top${target.topK}`, n, classes);
      if (target.seeds.length !== n * target.k * classes) {
        throw new BacklightError(`seeds must hold [${n}, ${target.k}, ${classes}] = ${n * target.k * classes} values, got ${target.seeds.length}`, 'usage');
      }
      return { top: 0, given: target.k, seeds: target.seeds, givenTargets: Array.from({ length: n }, () => new Array<number>(target.k).fill(-1)), order: identity(target.k) };
    }
    if (Array.isArray(target) && Array.isArray(target[0])) {
      const perImage = target as number[][];
      if (perImage.length !== n) throw new BacklightError(`got targets for ${perImage.length} images, but the batch has ${n}`, 'usage');
      const g = perImage[0]!.length;
      if (g === 0 || perImage.some((t) => t.length !== g)) throw new BacklightError('every image needs the same, non-zero number of targets', 'usage');
      return { top: 0, given: g, seeds: oneHots(perImage), givenTargets: perImage.map((t) => [...t]), order: identity(g) };
    }
    const specs = (Array.isArray(target) ? target : [target]) as TargetSpec[];
    if (specs.length === 0) throw new BacklightError('the list of targets is empty', 'usage');
    const topOf = (s: TargetSpec): number => {
      if (typeof s !== 'number') checkTargetSpec(s, classes);
      return topKOf(s);
    };
    const top = Math.max(0, ...specs.map(topOf));
    const given = specs.filter((s): s is number => typeof s === 'number');
    const order: number[] = [];
    let g = 0;
    for (const s of specs) {
      if (typeof s === 'number') order.push(top + g++);
      else order.push(...identity(topOf(s)));
    }
    const perImage = Array.from({ length: n }, () => given);
    return { top, given: given.length, seeds: given.length ? oneHots(perImage) : undefined, givenTargets: perImage, order };
  }

  /** A model with a fixed batch of 1: explain image by image and stack the results. */
  private async explainOneByOne<M extends ExplainMethodName>(input: TensorLike, options: ExplainOptions<M>): Promise<Explanation<M>> {
    const n = input.dims[0]!;
    const per = sizeOf(input.dims.slice(1));
    const parts: Explanation<M>[] = [];
    for (let i = 0; i < n; i++) {
      let target = options.target;
      if (Array.isArray(target) && Array.isArray(target[0])) target = [(target as number[][])[i]!];
      // (a list of TargetSpec applies to every image as it is)
      else if (target && typeof target === 'object' && 'seeds' in target) {
        const size = target.seeds.length / n;
        target = { seeds: target.seeds.subarray(i * size, (i + 1) * size), k: target.k };
      }
      parts.push(await this.explain({ data: input.data.subarray(i * per, (i + 1) * per), dims: [1, ...input.dims.slice(1)] }, { ...options, target }));
    }
    const stack = (ts: TensorLike[]): TensorLike => {
      const size = ts[0]!.data.length;
      const data = new Float32Array(size * ts.length);
      ts.forEach((t, i) => data.set(t.data, i * size));
      return { data, dims: [n, ...ts[0]!.dims.slice(1)] };
    };
    const first = parts[0]!;
    const maps: Partial<Record<Reduction, TensorLike>> = {};
    for (const r of Object.keys(first.maps) as Reduction[]) maps[r] = stack(parts.map((p) => p.maps[r]!));
    const taps: Explanation['taps'] = {};
    for (const t of Object.keys(first.taps)) {
      taps[t] = { activation: stack(parts.map((p) => p.taps[t]!.activation)), signal: stack(parts.map((p) => p.taps[t]!.signal)) };
    }
    const layerMaps: Explanation['layerMaps'] = {};
    for (const [layer, per] of Object.entries(first.layerMaps)) {
      const maps: Partial<Record<Aggregation, LayerMap>> = (layerMaps[layer] = {});
      for (const a of Object.keys(per) as Aggregation[]) {
        maps[a] = { raw: stack(parts.map((p) => p.layerMaps[layer]![a]!.raw)), upsampled: stack(parts.map((p) => p.layerMaps[layer]![a]!.upsampled)) };
      }
    }
    return withSlots({
      method: first.method,
      logits: stack(parts.map((p) => p.logits)),
      targets: parts.map((p) => p.targets[0]!),
      attribution: stack(parts.map((p) => p.attribution)),
      maps,
      taps,
      layerMaps,
      ...(first.combined ? { combined: stack(parts.map((p) => p.combined!)) } : {}),
      timings: { compileMs: parts.reduce((s, p) => s + p.timings.compileMs, 0), runMs: parts.reduce((s, p) => s + p.timings.runMs, 0) },
    });
  }
}

/** Reorders the K axis (axis 1 of [N, K, …]) to `order`; returns the tensor itself when in order. */
function reorderSlots(t: TensorLike, order: readonly number[]): TensorLike {
  const [n, k] = t.dims as [number, number];
  if (order.length === k && order.every((j, i) => j === i)) return t;
  const per = t.data.length / (n * k);
  const data = new Float32Array(n * order.length * per);
  for (let i = 0; i < n; i++) {
    order.forEach((j, o) => data.set(t.data.subarray((i * k + j) * per, (i * k + j + 1) * per), (i * order.length + o) * per));
  }
  return { data, dims: [n, order.length, ...t.dims.slice(2)] };
}

/** Throws a usage error for a name that is no registered method. */
function checkMethod(name: string): void {
  methodSpec(name);
}

const noShards = (source: string): ShardReader => async (path) => {
  throw new BacklightError(`${source}: a TF.js model.json needs its weight shard '${path}'; load the model by its path (Node) or with its files (browser)`);
};

const toNchwDims = (d: readonly number[]): number[] => (d.length === 4 ? [d[0]!, d[3]!, d[1]!, d[2]!] : [...d]);

/** An [N, H, W, C] input as [N, C, H, W]. */
function nchwInput(x: TensorLike): TensorLike {
  const [n, h, w, c] = x.dims as [number, number, number, number];
  const out = new Float32Array(x.data.length);
  for (let i = 0; i < n; i++)
    for (let y = 0; y < h; y++)
      for (let z = 0; z < w; z++)
        for (let k = 0; k < c; k++) out[((i * c + k) * h + y) * w + z] = x.data[((i * h + y) * w + z) * c + k]!;
  return { data: out, dims: [n, c, h, w] };
}

/** An attribution [N, K, C, H, W] as [N, K, H, W, C]. */
function channelsLastAttribution(a: TensorLike): TensorLike {
  const [n, kk, c, h, w] = a.dims as [number, number, number, number, number];
  const out = new Float32Array(a.data.length);
  for (let i = 0; i < n * kk; i++)
    for (let k = 0; k < c; k++)
      for (let y = 0; y < h; y++)
        for (let z = 0; z < w; z++) out[((i * h + y) * w + z) * c + k] = a.data[((i * c + k) * h + y) * w + z]!;
  return { data: out, dims: [n, kk, h, w, c] };
}
