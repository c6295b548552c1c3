/**
 * The aggregation phase of Rebuffi et al.'s framework ("There and Back Again", CVPR 2020; see
 * ../shared/papers/METHODS.md): layer maps from the backward signal of a pass.
 *
 * The extraction phase is a backward pass (any method's rules), whose signal at a layer (a forward
 * tensor) is g [N, K, C, h, w] besides the activation x [N, C, h, w]. An aggregation turns
 * (x_u, g_u) at each location u into one number, giving a map [N, K, h, w] per layer; maps are
 * upsampled to the input's spatial size in the graph, and maps of several layers can be combined
 * there too.
 *
 * Outputs added (per layer L and aggregation A):
 *   `agg:<A>:<L>` [N, K, h, w]  the raw map at the layer's resolution
 *   `up:<A>:<L>`  [N, K, H, W]  the same, resized to the input's spatial size
 *   `combined:<A>` [N, K, H, W] (with `combine`) the min-max normalized maps of all layers,
 *                               combined by weighted sum or weighted geometric product
 *
 * Layers are conv feature maps [N, C, h, w] or a transformer's tokens, viewed first as the
 * [N, D, h, w] grid of their patches (see `gridLayout`): activation and signal alike, so every
 * aggregation reads them exactly as a conv layer's.
 *
 * Upsampling (ONNX Resize):
 *   'bilinear': mode linear, coordinate_transformation_mode pytorch_half_pixel — PyTorch's
 *               F.interpolate(mode='bilinear', align_corners=False) (no antialiasing);
 *   'nearest':  mode nearest, asymmetric coordinates, floor — PyTorch's F.interpolate(mode='nearest'),
 *               which Captum's LayerAttribution.interpolate and GuidedGradCam use.
 */
import { BacklightError } from '../errors.js';
import { attrInt, attrInts, shapeOf, type Graph, type Node } from '../ir/graph.js';
import { float32 } from '../ir/tensor.js';
import { addOutput, nameTaken, phaseEmitter, type Compilation } from './compilation.js';
import type { Emitter } from '../ir/emitter.js';

export const AGGREGATIONS = [
  'gradient',
  'linear',
  'gradcam',
  'gradcam-raw',
  'normgrad',
  'normgrad-selective',
  'normgrad-conv',
] as const;
export type Aggregation = (typeof AGGREGATIONS)[number];

/** One line per aggregation, for help texts (x = activation, g = backward signal at location u). */
export const AGGREGATION_SUMMARIES: Readonly<Record<Aggregation, string>> = {
  gradient: 'max over channels of |g_u|',
  linear: 'linear approximation: Σ_c x_cu g_cu',
  gradcam: 'Grad-CAM: ReLU(Σ_c x_cu · mean_v g_cv)',
  'gradcam-raw': 'Grad-CAM without the ReLU: Σ_c x_cu · mean_v g_cv',
  normgrad: 'NormGrad of a virtual identity layer: ‖x_u‖₂ · ‖g_u‖₂',
  'normgrad-selective': 'selective NormGrad: ‖max(0, x_u ⊙ g_u)‖₂',
  'normgrad-conv': 'NormGrad of a Conv layer (the layer names its output): ‖g_u‖₂ · ‖input patch of u‖₂',
};

export type Upsampling = 'bilinear' | 'nearest';

export interface CombineSpec {
  /** 'sum': Σ_l w_l ŝ_l; 'product': Π_l ŝ_l^{w_l}, with ŝ_l the min-max normalized upsampled map. */
  mode: 'sum' | 'product';
  /** One weight per layer, summing to 1 (default: uniform). */
  weights?: readonly number[];
}

/**
 * How a layer's tensor lays out its grid of locations:
 *   'nchw':          [N, C, h, w], conv features (any 4-D tensor unless it reads as channels-last);
 *   'tokens':        [N, prefix + h·w, D], a transformer's tokens in row-major patch order after
 *                    `prefix` (0 or 1) class tokens, which layer maps drop;
 *   'channels-last': [N, h, w, C], e.g. Swin's stages.
 * Layer maps view the last two as [N, D, h, w], as pytorch-grad-cam's `reshape_transform` does.
 */
export type GridLayout =
  | { kind: 'nchw'; grid: [number, number]; channels: number }
  | { kind: 'tokens'; grid: [number, number]; channels: number; prefix: number }
  | { kind: 'channels-last'; grid: [number, number]; channels: number };

/** The grid [h, w] of square p×p patches tiling an H×W input into `locations` cells, if there is one. */
function patchGrid(locations: number, height: number, width: number): [number, number] | undefined {
  if (!(locations > 1)) return undefined;
  const p = Math.round(Math.sqrt((height * width) / locations));
  if (p < 1 || height % p !== 0 || width % p !== 0 || (height / p) * (width / p) !== locations) return undefined;
  return [height / p, width / p];
}

/** Whether h×w can be a conv feature map of an H×W input: its aspect, up to a row or column of border rounding. */
export function matchesAspect(h: number, w: number, height: number, width: number): boolean {
  return Math.abs((h * width) / height - w) <= 1 && h <= height && w <= width;
}

/**
 * The layout of a layer of shape `shape` in a model whose input is `inputShape` [N, C, H, W]
 * (`writer`: the op that writes it), or undefined when it is none of the three. Token layouts
 * are read from shapes alone: the batch axis must be the input's, and the patch grid must tile
 * the input with square patches (H·W/(h·w) = p², p dividing H and W), its aspect the input's; a
 * class token is tried first ([N, 1 + h·w, D], ViT), then none ([N, h·w, D]). A 4-D tensor is
 * channels-last only when it cannot be a conv map of the input's aspect ([N, 56, 56, 96] of a
 * 224² input is 56×56 with 96 channels) and its middle axes tile the input; a Conv's output is
 * always [N, C, h, w].
 */
export function gridLayout(shape: readonly number[], inputShape: readonly number[], writer?: string): GridLayout | undefined {
  const [batch, , height, width] = inputShape as [number, number, number, number];
  if (shape.length === 4) {
    const [n, a, b, d] = shape as [number, number, number, number];
    if (writer !== 'Conv' && n === batch && !matchesAspect(b, d, height, width)) {
      const grid = patchGrid(a * b, height, width);
      if (grid && grid[0] === a && grid[1] === b) return { kind: 'channels-last', grid, channels: d };
    }
    return { kind: 'nchw', grid: [b, d], channels: a };
  }
  if (shape.length === 3 && shape[0] === batch && inputShape.length === 4) {
    const [, t, d] = shape as [number, number, number];
    for (const prefix of [1, 0]) {
      const grid = patchGrid(t - prefix, height, width);
      if (grid) return { kind: 'tokens', grid, channels: d, prefix };
    }
  }
  return undefined;
}

/** The layout in a few words, for layer listings. */
export function describeLayout(l: GridLayout): string {
  const [h, w] = l.grid;
  if (l.kind === 'nchw') return `[N, C, h, w]`;
  if (l.kind === 'channels-last') return `channels-last [N, h, w, C], ${h}×${w} grid`;
  return l.prefix ? `tokens [N, ${l.prefix} + ${h}·${w}, D]: ${h}×${w} patch grid, class token dropped` : `tokens [N, ${h}·${w}, D]: ${h}×${w} patch grid`;
}

/**
 * The activation [N, C, h, w] and signal [N, K, C, h, w] of a layer in its grid view: the tokens'
 * (class token sliced off, reshaped to [N, h, w, D]) or channels-last tensor transposed to
 * channels-first; a conv layer's as they are.
 */
function gridView(emit: Emitter, layout: GridLayout, layer: string, grad: string, d: { n: number; k: number }): { act: string; signal: string } {
  if (layout.kind === 'nchw') return { act: layer, signal: grad };
  const [h, w] = layout.grid;
  const c = layout.channels;
  let act = layer;
  let signal = grad;
  if (layout.kind === 'tokens') {
    const tokens = layout.prefix + h * w;
    if (layout.prefix > 0) {
      act = emit.op('Slice', [act, emit.int64s([layout.prefix]), emit.int64s([tokens]), emit.int64s([1])], {}, 'patchTokens');
      signal = emit.op('Slice', [signal, emit.int64s([layout.prefix]), emit.int64s([tokens]), emit.int64s([2])], {}, 'patchTokenSignal');
    }
    act = emit.reshape(act, [d.n, h, w, c]);
    signal = emit.reshape(signal, [d.n, d.k, h, w, c]);
  }
  return {
    act: emit.op('Transpose', [act], { perm: [0, 3, 1, 2] }, 'actGrid'),
    signal: emit.op('Transpose', [signal], { perm: [0, 1, 4, 2, 3] }, 'signalGrid'),
  };
}

export interface AggregationSpec {
  /** Forward tensors to aggregate at: [N, C, h, w], or tokens (see GridLayout). */
  layers: readonly string[];
  aggregations: readonly Aggregation[];
  /** How maps are resized to the input's spatial size (default 'bilinear'). */
  upsample?: Upsampling;
  /** Combine the layers' maps (per aggregation); needs at least one layer. */
  combine?: CombineSpec;
}

/** Output names added by `emitLayerMaps`. */
export interface AggregationOutputs {
  /** layer → aggregation → output names of the raw [N, K, h, w] and upsampled [N, K, H, W] maps. */
  layers: Record<string, Partial<Record<Aggregation, { raw: string; upsampled: string }>>>;
  /** aggregation → output name of the combined map [N, K, H, W] (with `combine`). */
  combined: Partial<Record<Aggregation, string>>;
}

export const rawMapName = (layer: string, a: Aggregation): string => `agg:${a}:${layer}`;
export const upsampledMapName = (layer: string, a: Aggregation): string => `up:${a}:${layer}`;
export const combinedMapName = (a: Aggregation): string => `combined:${a}`;

/** Denominator floor of the min-max normalization (a constant map normalizes to 0). */
export const NORMALIZE_EPSILON = 1e-12;

export function isAggregation(name: string): name is Aggregation {
  return (AGGREGATIONS as readonly string[]).includes(name);
}

/** The uniform weights or the given ones, checked: one per layer, finite, ≥ 0, summing to 1. */
export function combineWeights(combine: CombineSpec, layers: number): number[] {
  const w = combine.weights ? [...combine.weights] : new Array<number>(layers).fill(1 / layers);
  if (w.length !== layers) throw new BacklightError(`combine: ${w.length} weights given for ${layers} layers`, 'usage');
  if (w.some((v) => !Number.isFinite(v) || v < 0)) throw new BacklightError(`combine: weights must be finite and non-negative (got ${w.join(', ')})`, 'usage');
  const sum = w.reduce((a, b) => a + b, 0);
  if (Math.abs(sum - 1) > 1e-6) throw new BacklightError(`combine: weights must sum to 1 (got ${w.join(', ')}, sum ${sum})`, 'usage');
  return w;
}

/** The node that writes a tensor, among the graph's nodes. */
function producerOf(g: Graph, tensor: string): Node | undefined {
  return g.nodes.find((n) => n.outputs.includes(tensor));
}

/**
 * Emits the aggregation phase and returns the names of the added outputs. `signals` holds each
 * layer's backward signal [N, K, C, h, w] (see emitTaps); 'normgrad-conv' also reads the input of
 * the Conv that writes the layer.
 */
export function emitLayerMaps(c: Compilation, spec: AggregationSpec, signals: ReadonlyMap<string, string>): AggregationOutputs {
  const g = c.graph;
  const { k, batch: n } = c;
  const [height, width] = c.inputShape.slice(2) as [number, number];
  if (c.inputShape.length !== 4) {
    throw new BacklightError(`layer maps need an image input [N, C, H, W]; the model's input is [${c.inputShape}]`, 'usage');
  }
  if (spec.layers.length === 0) throw new BacklightError('no layer to aggregate at', 'usage');
  if (spec.aggregations.length === 0) throw new BacklightError('no aggregation given', 'usage');
  for (const a of spec.aggregations) {
    if (!isAggregation(a)) throw new BacklightError(`unknown aggregation '${a}' (available: ${AGGREGATIONS.join(', ')})`, 'usage');
  }
  if (new Set(spec.layers).size !== spec.layers.length) throw new BacklightError(`a layer is listed twice: ${spec.layers.join(', ')}`, 'usage');
  const weights = spec.combine ? combineWeights(spec.combine, spec.layers.length) : undefined;
  if (spec.combine && spec.combine.mode !== 'sum' && spec.combine.mode !== 'product') {
    throw new BacklightError(`combine: mode must be 'sum' or 'product' (got '${String(spec.combine.mode)}')`, 'usage');
  }
  const upsample = spec.upsample ?? 'bilinear';
  if (upsample !== 'bilinear' && upsample !== 'nearest') throw new BacklightError(`upsampling must be 'bilinear' or 'nearest' (got '${String(upsample)}')`, 'usage');

  const emit = phaseEmitter(c, 'agg');
  const outputs: AggregationOutputs = { layers: {}, combined: {} };
  const output = (tensor: string, name: string, shape: number[]): string => {
    if (nameTaken(c, name)) throw new BacklightError(`the compiled graph already has a tensor named '${name}'`);
    addOutput(c, emit, tensor, name, shape);
    return name;
  };
  const resizeTo = (map: string): string =>
    upsample === 'bilinear'
      ? emit.op('Resize', [map, '', '', emit.int64s([n, k, height, width])], { mode: 'linear', coordinate_transformation_mode: 'pytorch_half_pixel' }, 'upsample')
      : emit.op('Resize', [map, '', '', emit.int64s([n, k, height, width])], { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' }, 'upsample');

  const upsampled = new Map<Aggregation, string[]>();
  for (const layer of spec.layers) {
    const shape = g.values.get(layer)?.shape;
    if (!shape) throw new BacklightError(`no tensor named '${layer}' in the model (layers name tensors, e.g. a Relu output)`, 'usage');
    if (!shape.every((d): d is number => typeof d === 'number')) throw new BacklightError(`layer '${layer}' has a shape [${shape}] that is not static`, 'usage');
    const layout = gridLayout(shape, c.inputShape, producerOf(g, layer)?.op);
    if (!layout) {
      throw new BacklightError(
        `layer '${layer}' has shape [${shape}]; layer maps need a 4-D [N, C, h, w] tensor, tokens [N, 1 + h·w, D] or [N, h·w, D], or channels-last [N, h, w, C], with the h×w grid tiling the ${height}×${width} input in square patches`,
        'usage',
      );
    }
    const [h, w] = layout.grid;
    const channels = layout.channels;
    const tapped = signals.get(layer);
    if (!tapped) throw new BacklightError(`layer '${layer}' has no backward signal: list it among the tapped tensors`, 'usage');
    if (spec.aggregations.includes('normgrad-conv') && layout.kind !== 'nchw') {
      throw new BacklightError(`normgrad-conv needs the output of a Conv as its layer; '${layer}' holds tokens (${describeLayout(layout)})`, 'usage');
    }
    const { act, signal: grad } = gridView(emit, layout, layer, tapped, { n, k });
    // x viewed as [N, 1, C, h, w] broadcasts against g [N, K, C, h, w].
    let xView: string | undefined;
    const x = (): string => (xView ??= emit.op('Unsqueeze', [act, emit.int64s([1])], {}, 'act'));
    const per: Partial<Record<Aggregation, { raw: string; upsampled: string }>> = {};
    outputs.layers[layer] = per;
    for (const a of spec.aggregations) {
      let map: string;
      switch (a) {
        case 'gradient':
          map = emit.op('ReduceMax', [emit.op('Abs', [grad])], { axes: [2], keepdims: 0 }, 'maxAbsGrad');
          break;
        case 'linear':
          map = emit.op('ReduceSum', [emit.op('Mul', [x(), grad]), emit.int64s([2])], { keepdims: 0 }, 'linear');
          break;
        case 'gradcam':
        case 'gradcam-raw': {
          const alpha = emit.op('ReduceMean', [grad], { axes: [3, 4], keepdims: 1 }, 'gradcamWeights');
          const cam = emit.op('ReduceSum', [emit.op('Mul', [x(), alpha]), emit.int64s([2])], { keepdims: 0 }, 'gradcam');
          map = a === 'gradcam' ? emit.op('Relu', [cam], {}, 'gradcamRelu') : cam;
          break;
        }
        case 'normgrad': {
          const xNorm = emit.op('ReduceL2', [act], { axes: [1], keepdims: 1 }, 'actNorm');
          const gNorm = emit.op('ReduceL2', [grad], { axes: [2], keepdims: 0 }, 'gradNorm');
          map = emit.op('Mul', [gNorm, xNorm], {}, 'normgrad');
          break;
        }
        case 'normgrad-selective':
          map = emit.op('ReduceL2', [emit.op('Relu', [emit.op('Mul', [x(), grad])])], { axes: [2], keepdims: 0 }, 'selectiveNormgrad');
          break;
        case 'normgrad-conv':
          map = convNormgrad(g, emit, layer, grad, { n, k, c: channels, h, w });
          break;
      }
      const rawName = output(map, rawMapName(layer, a), [n, k, h, w]);
      const upName = output(h === height && w === width ? rawName : resizeTo(rawName), upsampledMapName(layer, a), [n, k, height, width]);
      per[a] = { raw: rawName, upsampled: upName };
      let list = upsampled.get(a);
      if (!list) upsampled.set(a, (list = []));
      list.push(upName);
    }
  }

  if (spec.combine && weights) {
    for (const [a, maps] of upsampled) {
      const normalized = maps.map((m) => {
        const lo = emit.op('ReduceMin', [m], { axes: [2, 3], keepdims: 1 }, 'mapMin');
        const hi = emit.op('ReduceMax', [m], { axes: [2, 3], keepdims: 1 }, 'mapMax');
        const range = emit.op('Max', [emit.op('Sub', [hi, lo]), emit.scalar(NORMALIZE_EPSILON)], {}, 'mapRange');
        return emit.op('Div', [emit.op('Sub', [m, lo]), range], {}, 'normalized');
      });
      const terms = normalized.map((m, i) =>
        spec.combine!.mode === 'sum' ? emit.op('Mul', [m, emit.scalar(weights[i]!)], {}, 'weighted') : emit.op('Pow', [m, emit.scalar(weights[i]!)], {}, 'powered'),
      );
      let combined: string;
      if (terms.length === 1) combined = terms[0]!;
      else if (spec.combine.mode === 'sum') combined = emit.op('Sum', terms, {}, 'combinedSum');
      else combined = terms.slice(1).reduce((acc, t) => emit.op('Mul', [acc, t], {}, 'combinedProduct'), terms[0]!);
      outputs.combined[a] = output(combined, combinedMapName(a), [n, k, height, width]);
    }
  }

  return outputs;
}

/**
 * NormGrad of a real Conv layer (the layer names the Conv's output). The weight gradient of the
 * Conv at location u is g_u ⊗ patch_u(x_in); its Frobenius norm is ‖g_u‖₂ · ‖patch_u‖₂. For a
 * grouped Conv each group γ has its own weights, and the norm over all of them is
 * sqrt(Σ_γ ‖g_uγ‖₂² ‖patch_uγ‖₂²) (the product above when group = 1). Squared patch norms are
 * Conv(x_in², ones [G, C_in/G, kh, kw]) with the layer's strides, pads, dilations and group G.
 */
function convNormgrad(g: Graph, emit: Emitter, layer: string, grad: string, d: { n: number; k: number; c: number; h: number; w: number }): string {
  const conv = producerOf(g, layer);
  if (!conv || conv.op !== 'Conv') {
    throw new BacklightError(`normgrad-conv needs the output of a Conv as its layer; '${layer}' is written by ${conv ? `a ${conv.op} node` : 'no node'}`, 'usage');
  }
  const xIn = conv.inputs[0]!;
  const wShape = shapeOf(g, conv.inputs[1]!);
  if (wShape.length !== 4) throw new BacklightError(`normgrad-conv supports 2-D convolutions; '${conv.name}' has a weight of shape [${wShape}]`, 'usage');
  const [, cPerGroup, kh, kw] = wShape as [number, number, number, number];
  const groups = attrInt(conv, 'group', 1);
  const attrs: Record<string, number[] | number> = { group: groups, kernel_shape: [kh, kw] };
  for (const a of ['strides', 'pads', 'dilations'] as const) {
    const v = attrInts(conv, a);
    if (v) attrs[a] = v;
  }
  const ones = emit.constant(float32([groups, cPerGroup, kh, kw], new Float32Array(groups * cPerGroup * kh * kw).fill(1)), 'onesKernel');
  const patch2 = emit.op('Conv', [emit.op('Mul', [xIn, xIn], {}, 'inputSquared'), ones], attrs, 'patchNormSquared'); // [N, G, h, w]
  const g2 = emit.op('Mul', [grad, grad], {}, 'gradSquared'); // [N, K, C, h, w]
  const g2PerGroup =
    groups === 1
      ? emit.op('ReduceSum', [g2, emit.int64s([2])], { keepdims: 1 }, 'gradNormSquared') // [N, K, 1, h, w]
      : emit.op('ReduceSum', [emit.reshape(g2, [d.n, d.k, groups, d.c / groups, d.h, d.w]), emit.int64s([3])], { keepdims: 0 }, 'gradNormSquared'); // [N, K, G, h, w]
  const product = emit.op('Mul', [g2PerGroup, emit.op('Unsqueeze', [patch2, emit.int64s([1])])], {}, 'normProduct');
  return emit.op('Sqrt', [emit.op('ReduceSum', [product, emit.int64s([2])], { keepdims: 0 })], {}, 'normgradConv');
}
