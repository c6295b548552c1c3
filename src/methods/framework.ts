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
import {
  AGGREGATIONS, describeLayout, gridLayout, isAggregation, matchesAspect,
  type Aggregation, type AggregationOutputs, type CombineSpec, type GridLayout, type Upsampling,
} from '../compile/aggregate.js';
import type { BackwardOptions } from '../compile/backward.js';
import { compile, type CompiledGraph, type Reduction } from '../compile/compile.js';
import { BacklightError } from '../errors.js';
import { producers, type Graph, type Node } from '../ir/graph.js';
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
  /** Its static shape: [N, C, h, w], or tokens (see `layout`). */
  shape: number[];
  /**
   * Only for a layer that is not [N, C, h, w]: how its tokens map to the patch grid the layer maps
   * are computed on, e.g. "tokens [N, 1 + 4·4, D]: 4×4 patch grid, class token dropped".
   */
  layout?: string;
}

/** Tensors that depend on the graph's (first) input. */
function liveTensors(g: Graph): Set<string> {
  const live = new Set<string>([g.inputs[0]!.name]);
  for (const n of g.nodes) if (n.inputs.some((i) => live.has(i))) for (const o of n.outputs) if (o) live.add(o);
  return live;
}

interface Candidate extends LayerInfo {
  grid: GridLayout;
}

function candidates(g: Graph): Candidate[] {
  const live = liveTensors(g);
  const inputShape = g.inputs[0]!.shape;
  const staticInput = inputShape.every((d) => typeof d === 'number') ? (inputShape as number[]) : [];
  const out: Candidate[] = [];
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      const shape = o && live.has(o) ? g.values.get(o)?.shape : undefined;
      if (!shape || !shape.every((d): d is number => typeof d === 'number')) continue;
      const grid = gridLayout(shape, staticInput, n.op);
      if (!grid) continue;
      out.push({ name: o, op: n.op, shape, ...(grid.kind === 'nchw' ? {} : { layout: describeLayout(grid) }), grid });
    }
  }
  return out;
}

/**
 * The layers one can aggregate at, in graph order: every input-dependent 4-D tensor [N, C, h, w]
 * of a canonical graph (the input itself excluded), and a transformer's token tensors whose
 * shape reads as a patch grid of the input (tokens [N, 1 + h·w, D] or [N, h·w, D], channels-last
 * [N, h, w, C]; see `gridLayout` in src/compile/aggregate.ts).
 */
export function layerCandidates(g: Graph): LayerInfo[] {
  return candidates(g).map(({ grid: _grid, ...info }) => info);
}

const spatial = (l: Candidate): boolean => l.grid.grid[0] * l.grid.grid[1] > 1;

/** Whether a candidate can be a feature map of the input: tokens always; [N, C, h, w] of the input's aspect. */
function plausible(l: Candidate, g: Graph): boolean {
  if (l.grid.kind !== 'nchw') return true;
  const [height, width] = g.inputs[0]!.shape.slice(2) as number[];
  return typeof height !== 'number' || typeof width !== 'number' || matchesAspect(l.grid.grid[0], l.grid.grid[1], height, width);
}

/**
 * The input x of a LayerNorm over the last axis that writes `tensor`: a LayerNormalization node,
 * or its decomposition as exporters write it below opset 17, (x − mean(x)) / sqrt(var + ε) · γ + β.
 */
function layerNormInput(prod: ReadonlyMap<string, Node>, live: ReadonlySet<string>, tensor: string): string | undefined {
  let node = prod.get(tensor);
  if (node?.op === 'LayerNormalization') return node.inputs[0];
  // γ and β (each optional): an Add or Mul of the signal and a constant.
  for (let i = 0; i < 2 && node && (node.op === 'Add' || node.op === 'Mul'); i++) {
    const signals = node.inputs.filter((x) => live.has(x));
    if (signals.length !== 1) return undefined;
    node = prod.get(signals[0]!);
  }
  if (node?.op !== 'Div') return undefined;
  const centred = prod.get(node.inputs[0]!);
  if (centred?.op !== 'Sub') return undefined;
  const mean = prod.get(centred.inputs[1]!);
  return mean?.op === 'ReduceMean' && mean.inputs[0] === centred.inputs[0] ? centred.inputs[0] : undefined;
}

/**
 * ViT's default layer: the class-token layer [N, 1 + h·w, D] that the last attention reads (its
 * LayerNorm's output, `blocks[-1].norm1` in timm's naming) — the layer pytorch-grad-cam's ViT
 * example hooks. After the last attention only the class token reaches the logits (the MLP, the
 * norms and the head act token by token), so a later layer's patch tokens get no gradient and
 * its map is zero; this one is the latest whose patch tokens still count. The LayerNorm's output
 * rather than its input (the last-but-one block's output, the residual stream): it is what the
 * attention reads, and the residual stream's few outlying tokens of large norm would dominate
 * Σ_c α_c A_c. Undefined when the model has no attention (a MatMul of two signals) or no class
 * token.
 */
function classTokenDefault(g: Graph, all: readonly Candidate[]): string | undefined {
  const live = liveTensors(g);
  const attention = g.nodes.filter((n) => (n.op === 'MatMul' || n.op === 'Einsum') && n.inputs.filter((i) => live.has(i)).length === 2).at(-1);
  if (!attention) return undefined;
  const byName = new Map(all.filter((c) => c.grid.kind === 'tokens' && c.grid.prefix > 0 && spatial(c)).map((c) => [c.name, c]));
  if (byName.size === 0) return undefined;
  const prod = producers(g);
  // Breadth-first back from the attention: the nearest class-token layer written by a LayerNorm
  // (q, k and v of a single-head attention have the same shape, and come nearer), else the nearest.
  let nearest: string | undefined;
  const seen = new Set<string>();
  let frontier = attention.inputs.filter((i) => live.has(i));
  while (frontier.length > 0) {
    const next: string[] = [];
    for (const t of frontier) {
      if (seen.has(t)) continue;
      seen.add(t);
      if (byName.has(t)) {
        if (layerNormInput(prod, live, t) !== undefined) return t;
        nearest ??= t;
      }
      for (const i of prod.get(t)?.inputs ?? []) if (live.has(i)) next.push(i);
    }
    frontier = next;
  }
  return nearest;
}

/**
 * The default layer of Grad-CAM and NormGrad.
 * - ViT-like models (a class token and attention): see `classTokenDefault`.
 * - Otherwise the last input-dependent layer with h·w > 1 (so before the global pooling /
 *   flatten) that can be a feature map of the input (tokens, or [N, C, h, w] of the input's
 *   aspect, which leaves out attention maps [N, heads, T, d]), then stepped back:
 *   - from a local pooling (MaxPool, AveragePool) to its input — the usual Grad-CAM layer of
 *     VGG-like nets (the ReLU after the last conv, before the last max-pooling, e.g. torchvision
 *     VGG's features.29);
 *   - from a Transpose of tokens to the tokens, and from a LayerNorm of tokens to its input — so
 *     Swin's default is its last stage's output before the final norm and the permute to
 *     [N, C, h, w] that precede the pooling.
 * Design history: docs/design/transformer-layer-maps.md.
 */
export function defaultLayer(g: Graph): string {
  const all = candidates(g);
  const vit = classTokenDefault(g, all);
  if (vit) return vit;
  const usable = all.filter((l) => spatial(l) && plausible(l, g));
  const last = usable[usable.length - 1];
  if (!last) throw new BacklightError('the model has no spatial layer ([N, C, h, w] with h·w > 1, or tokens of a patch grid) to compute a layer map at', 'usage');
  const byName = new Map(usable.map((c) => [c.name, c]));
  const prod = producers(g);
  const live = liveTensors(g);
  let layer = last;
  for (;;) {
    const node = prod.get(layer.name)!;
    let before: Candidate | undefined;
    if (node.op === 'MaxPool' || node.op === 'AveragePool') before = byName.get(node.inputs[0]!);
    else if (node.op === 'Transpose') before = byName.get(node.inputs[0]!);
    else if (layer.grid.kind !== 'nchw') {
      const x = layerNormInput(prod, live, layer.name);
      before = x === undefined ? undefined : byName.get(x);
    }
    if (node.op === 'Transpose' && before?.grid.kind === 'nchw') before = undefined;
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
  let best: Candidate | undefined;
  for (const l of candidates(g)) {
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
  /** Forward tensors: [N, C, h, w], or tokens (see `layerCandidates`). */
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
