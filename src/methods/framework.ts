/**
 * Rebuffi et al.'s extraction × aggregation framework ("There and Back Again", CVPR 2020; see
 * ../shared/papers/METHODS.md) and the named methods built on it: Grad-CAM, Guided Grad-CAM and
 * the NormGrad variants.
 *
 * Extraction: any method of METHODS (its backward rules) run down to one or more layers.
 * Aggregation: a function of the activation x_u and the backward signal g_u per location
 * (src/compile/aggregate.ts). Everything — forward, backward, aggregation, upsampling, the
 * multi-layer combination and, for Guided Grad-CAM, a second (guided) backward pass — is one
 * compiled ONNX graph.
 */
import { AGGREGATIONS, isAggregation, type Aggregation, type AggregationOutputs, type CombineSpec, type Upsampling } from '../compile/aggregate.js';
import type { BackwardOptions } from '../compile/backward.js';
import { compile, type CompiledGraph, type Reduction } from '../compile/compile.js';
import { BacklightError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { methodByName, type Method, type MethodParams } from './methods.js';
import { epsilonInRange } from './params.js';
import { FRAMEWORK_METHOD_NAMES, FRAMEWORK_METHODS, isFrameworkMethod } from './registry.js';
import type { Lowering } from '../rules/types.js';

export { AGGREGATIONS, type Aggregation, type CombineSpec, type Upsampling } from '../compile/aggregate.js';

export { FRAMEWORK_METHOD_NAMES, FRAMEWORK_METHODS, isFrameworkMethod, type FrameworkMethod, type FrameworkMethodName } from './registry.js';

// ---------------------------------------------------------------------------------------------
// Layers

/** A forward tensor one can aggregate at. */
export interface LayerInfo {
  /** The tensor name (what `layer` / `--layer` takes). */
  name: string;
  /** The op of the node that writes it. */
  op: string;
  /** Its static shape [N, C, h, w]. */
  shape: number[];
}

/** Tensors that depend on the graph's (first) input. */
function liveTensors(g: Graph): Set<string> {
  const live = new Set<string>([g.inputs[0]!.name]);
  for (const n of g.nodes) if (n.inputs.some((i) => live.has(i))) for (const o of n.outputs) if (o) live.add(o);
  return live;
}

/**
 * Every input-dependent 4-D tensor [N, C, h, w] of a canonical graph (the input itself excluded),
 * in graph order: the layers one can aggregate at.
 */
export function layerCandidates(g: Graph): LayerInfo[] {
  const live = liveTensors(g);
  const out: LayerInfo[] = [];
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      const shape = o && live.has(o) ? g.values.get(o)?.shape : undefined;
      if (shape && shape.length === 4 && shape.every((d) => typeof d === 'number')) out.push({ name: o, op: n.op, shape: shape as number[] });
    }
  }
  return out;
}

const spatial = (l: LayerInfo): boolean => l.shape[2]! * l.shape[3]! > 1;

/**
 * The default layer of Grad-CAM and NormGrad: the last input-dependent tensor [N, C, h, w] with
 * h·w > 1 (so before the global pooling / flatten); when a local pooling (MaxPool, AveragePool)
 * wrote it, the pooling's input instead — the usual Grad-CAM layer of VGG-like nets (the ReLU after
 * the last conv, before the last max-pooling, e.g. torchvision VGG's features.29).
 */
export function defaultLayer(g: Graph): string {
  const candidates = layerCandidates(g).filter(spatial);
  const last = candidates[candidates.length - 1];
  if (!last) throw new BacklightError('the model has no spatial layer [N, C, h, w] with h·w > 1 to compute a layer map at', 'usage');
  const byName = new Map(candidates.map((c) => [c.name, c]));
  let layer = last;
  for (;;) {
    if (layer.op !== 'MaxPool' && layer.op !== 'AveragePool') break;
    const node = g.nodes.find((n) => n.outputs.includes(layer.name))!;
    const before = byName.get(node.inputs[0]!);
    if (!before) break;
    layer = before;
  }
  return layer.name;
}

/**
 * The default layer of conv NormGrad: the output of the deepest Conv (longest path from the input;
 * the later one on ties) that is still spatial (h·w > 1) — in a ResNet the last conv of the main
 * branch rather than a shortcut projection that the graph happens to list after it.
 */
export function defaultConvLayer(g: Graph): string {
  const depth = new Map<string, number>([[g.inputs[0]!.name, 0]]);
  for (const n of g.nodes) {
    const d = Math.max(-1, ...n.inputs.map((i) => depth.get(i) ?? -1));
    if (d >= 0) for (const o of n.outputs) if (o) depth.set(o, d + 1);
  }
  let best: LayerInfo | undefined;
  for (const l of layerCandidates(g)) {
    if (l.op === 'Conv' && spatial(l) && (!best || depth.get(l.name)! >= depth.get(best.name)!)) best = l;
  }
  if (!best) throw new BacklightError('the model has no Conv with a spatial output to compute conv NormGrad at', 'usage');
  return best.name;
}

// ---------------------------------------------------------------------------------------------
// Specs

/**
 * What `attribution` holds:
 * - 'extraction': the extraction method's own input-space attribution (layer maps come besides);
 * - 'map': the first aggregation's upsampled map [N, K, 1, H, W] (its combination over the layers
 *   when `combine` is given);
 * - 'guided': Guided Backprop's input-space attribution ⊙ that map, broadcast over channels.
 */
export type AttributionSource = 'extraction' | 'map' | 'guided';

/** The generic framework: extraction rules × aggregations at layers (+ combination). */
export interface FrameworkSpec {
  /** Any method name of METHODS: its backward rules are the extraction phase. */
  extraction: string;
  /** Forward tensors [N, C, h, w]. */
  layers: readonly string[];
  /** At least one; the first one's map becomes the attribution for 'map' and 'guided'. */
  aggregations: readonly Aggregation[];
  upsample?: Upsampling;
  combine?: CombineSpec;
  attribution: AttributionSource;
}

/** The framework options of an explain call. */
export interface FrameworkOptions {
  /** One layer (a tensor name); see `Explainer.layers()`. */
  layer?: string;
  /** Several layers; with `combine`, their maps are combined. */
  layers?: readonly string[];
  /** Aggregation(s): for a named framework method, extra ones besides its own. */
  aggregation?: Aggregation | readonly Aggregation[];
  /** Extraction method (default: the method itself, or 'gradient' for the framework methods). */
  extraction?: string;
  /** Combine the layers' maps (default for a framework method with several layers: uniform sum). */
  combine?: CombineSpec;
  /** Upsampling of the layer maps (default: bilinear, nearest for guided-gradcam). */
  upsample?: Upsampling;
}

/**
 * The framework spec of an explain call, or undefined when `method` is a plain method without
 * layers or aggregations. `graph` (canonical) provides the default layer.
 */
export function resolveFramework(method: string, graph: Graph, o: FrameworkOptions): FrameworkSpec | undefined {
  const extra = o.aggregation === undefined ? [] : typeof o.aggregation === 'string' ? [o.aggregation] : [...o.aggregation];
  for (const a of extra) if (!isAggregation(a)) throw new BacklightError(`unknown aggregation '${a}' (available: ${AGGREGATIONS.join(', ')})`, 'usage');
  if (o.layer !== undefined && o.layers !== undefined) throw new BacklightError("give either 'layer' or 'layers', not both", 'usage');
  const given = o.layer !== undefined ? [o.layer] : o.layers !== undefined ? [...o.layers] : undefined;
  if (given && given.length === 0) throw new BacklightError('the list of layers is empty', 'usage');
  if (o.extraction !== undefined) {
    if (isFrameworkMethod(o.extraction)) throw new BacklightError(`extraction '${o.extraction}' is itself a layer-map method; extraction takes a backward method (gradient, guided-backprop, …)`, 'usage');
    methodByName(o.extraction);
  }

  if (isFrameworkMethod(method)) {
    const m = FRAMEWORK_METHODS[method];
    const aggregations = [m.aggregation, ...extra.filter((a) => a !== m.aggregation)];
    const needsConv = aggregations.includes('normgrad-conv');
    const layers = given ?? [m.layer === 'conv' || needsConv ? defaultConvLayer(graph) : defaultLayer(graph)];
    return {
      extraction: o.extraction ?? m.extraction,
      layers,
      aggregations,
      upsample: o.upsample ?? m.upsample,
      combine: o.combine ?? (layers.length > 1 ? { mode: 'sum' } : undefined),
      attribution: m.guided ? 'guided' : 'map',
    };
  }
  methodByName(method);
  if (o.extraction !== undefined && o.extraction !== method) {
    throw new BacklightError(`'extraction' applies to the layer-map methods (${FRAMEWORK_METHOD_NAMES.join(', ')}); method '${method}' is its own extraction`, 'usage');
  }
  if (extra.length === 0) {
    if (given || o.combine) throw new BacklightError(`layers given for method '${method}' without an aggregation (available: ${AGGREGATIONS.join(', ')})`, 'usage');
    return undefined;
  }
  const layers = given ?? [extra.includes('normgrad-conv') ? defaultConvLayer(graph) : defaultLayer(graph)];
  return { extraction: method, layers, aggregations: extra, upsample: o.upsample, combine: o.combine, attribution: 'extraction' };
}

// ---------------------------------------------------------------------------------------------
// Compilation

/** The backward-pass options a method sets (its rules, seed, contrastive dual, × input, meta step). */
export function extractionOptions(method: Method, params: MethodParams = {}): BackwardOptions {
  if (params.metaLearningRate !== undefined && !(params.metaLearningRate > 0 && Number.isFinite(params.metaLearningRate))) {
    throw new BacklightError(`the meta-saliency learning rate must be positive and finite (got ${params.metaLearningRate})`, 'usage');
  }
  if (params.epsilon !== undefined && !epsilonInRange(params.epsilon)) {
    throw new BacklightError(`the LRP ε must be a number greater than 0, at least 1.18e-38 (the smallest normal float32) and at most 3.4e38 (got ${params.epsilon})`, 'usage');
  }
  return {
    meta: params.metaLearningRate !== undefined ? { learningRate: params.metaLearningRate } : undefined,
    rules: method.rules(params),
    seedScale: params.seed ?? method.seedScale,
    contrastive: method.contrastive ? { kind: method.contrastive, normalize: params.normalize } : undefined,
    timesInput: method.timesInput,
  };
}

export interface FrameworkCompileOptions {
  seeds: { top: number; given: number };
  /** Per-image maps of the attribution (over its channel axis). */
  reductions: readonly Reduction[];
  /** Taps the caller wants as outputs (the layers' signals are read without becoming outputs). */
  taps?: readonly string[];
  params?: MethodParams;
  lowering?: Lowering;
}

export interface CompiledFramework {
  compiled: CompiledGraph;
  outputs: AggregationOutputs;
  spec: FrameworkSpec;
}

/**
 * Compiles extraction + aggregation (+ Guided Backprop for 'guided') into one graph with the
 * compiler's interface (`logits`, `targets`, `attribution`, `map_<r>`, taps) plus the layer maps
 * (see emitLayerMaps).
 */
export function compileFramework(canonical: Graph, spec: FrameworkSpec, o: FrameworkCompileOptions): CompiledFramework {
  const { layerMaps, ...compiled } = compile(canonical, {
    ...extractionOptions(methodByName(spec.extraction), o.params ?? {}),
    seeds: o.seeds,
    reductions: o.reductions,
    taps: o.taps,
    lowering: o.lowering,
    layerMaps: { layers: spec.layers, aggregations: spec.aggregations, upsample: spec.upsample, combine: spec.combine },
    attribution:
      spec.attribution === 'extraction' ? { from: 'input' } :
      spec.attribution === 'guided' ? { from: 'layerMap', times: extractionOptions(methodByName('guided-backprop')) } :
      { from: 'layerMap' },
  });
  return { compiled, outputs: layerMaps!, spec };
}
