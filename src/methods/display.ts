/**
 * How each method's explanation is drawn (with src/render/), shared by the command line and the
 * browser page. Pure TypeScript (no Node imports).
 *
 * By default every method is shown as a magnitude, max |·| over the channels with the sequential
 * colormap (as Simonyan et al. show saliency maps); relevance (LRP) is shown signed, the channel
 * sum with the diverging colormap centred at 0. `signed: true` shows every method whose attribution
 * has meaningful signs that way. Overlays show the input in dimmed gray under the heatmap, so that
 * its colours stand out.
 */
import {
  DEFAULT_MAGNITUDE_COLORMAP,
  DEFAULT_SIGNED_COLORMAP,
  heatmapRGBA,
  overlayRGBA,
  reduceChannels,
  type ChannelReduction,
  type ColormapName,
  type Heatmap,
  type ImageGeometry,
  type PixelImage,
  type RGBAImage,
} from '../render/index.js';
import type { Graph, Node } from '../ir/graph.js';
import { toNumbers } from '../ir/tensor.js';
import { methodSpec } from './registry.js';

export interface MethodDisplay {
  signed: boolean;
  reduce: ChannelReduction;
  colormap: ColormapName;
}

/** How `method` is drawn; `colormap` (the command line's --colormap) replaces the default of either kind. */
export function displayOf(method: string, signedFlag: boolean, colormap?: ColormapName): MethodDisplay {
  // Layer maps (Grad-CAM, NormGrad) are non-negative magnitudes; Guided Grad-CAM is shown like
  // Guided Backprop (max |.|, the signed channel sum with --signed).
  const m = methodSpec(method);
  const signed = (signedFlag || m.display === 'signed') && m.signed;
  return signed ? { signed, reduce: 'sum', colormap: colormap ?? DEFAULT_SIGNED_COLORMAP } : { signed, reduce: 'maxabs', colormap: colormap ?? DEFAULT_MAGNITUDE_COLORMAP };
}

/**
 * Ops through which DeconvNet's backward pass uses nothing of the forward pass: linear ones (with
 * constant weights) and the rectifiers, whose DeconvNet backward is max(0, R) whatever the input
 * (Relu here; Clip with min 0, ReLU6, below).
 */
const INPUT_FREE_OPS = new Set(['Conv', 'Gemm', 'Relu', 'Add', 'Sub', 'Flatten', 'Reshape', 'GlobalAveragePool', 'AveragePool', 'Pad', 'Slice', 'Concat', 'Transpose', 'Squeeze', 'Unsqueeze', 'Identity', 'BatchNormalization']);

/**
 * A one-line note when a method's maps cannot depend on the input image by construction, else
 * null: DeconvNet on a network without max-pooling (Nie et al. 2018). Its ReLU backward,
 * max(0, R), ignores the forward pass, and without max-pooling switches nothing else carries the
 * input into the backward pass: every image gets the same map for a class (measured on the shared
 * ResNet-20 and MobileNetV2 (ReLU6): identical maps for two random images; on ResNet-20 the maps of
 * two classes correlate at 0.81). `graph` is the
 * model as the method compiles it (`explainer.canonical(dims).graph`).
 */
export function inputIndependenceNote(method: string, graph: Pick<Graph, 'nodes' | 'initializers'>): string | null {
  if (method !== 'deconvnet') return null;
  const constant = (name: string | undefined): number[] | null => {
    const t = name ? graph.initializers.get(name) : undefined;
    return t ? toNumbers(t) : null;
  };
  const linearWithConstant = (n: Node): boolean => (n.op === 'Mul' || n.op === 'Div' || n.op === 'MatMul') && n.inputs.slice(1).every((t) => graph.initializers.has(t));
  const rectifyingClip = (n: Node): boolean => n.op === 'Clip' && constant(n.inputs[1])?.length === 1 && constant(n.inputs[1])![0] === 0;
  const free = graph.nodes.every((n) => INPUT_FREE_OPS.has(n.op) || linearWithConstant(n) || rectifyingClip(n));
  if (!free) return null;
  return "deconvnet: the model has no max-pooling, so DeconvNet's backward pass uses nothing of the input (its ReLUs pass max(0, R)): the map is the same for every image of a class and shows the network, not the image (Nie et al. 2018)";
}

/** Overlays show the input in dimmed gray, so that the heatmap's colours stand out. */
export const OVERLAY_STYLE = { grayImage: true, brightness: 0.6 } as const;

/** 0.791, and 2.1e-6 for probabilities below 0.001 (rather than 0.000). */
export function formatProbability(p: number): string {
  return p >= 0.001 || p === 0 ? p.toFixed(3) : p.toExponential(1);
}

export interface DrawnAttribution {
  /** The map, one value per pixel (max |·| or channel sum). */
  map: Float32Array;
  heat: Heatmap;
  overlay: RGBAImage;
}

/**
 * One image's attribution as a heatmap at the input's resolution and an overlay on `display` (the
 * input picture, same size). Layer maps upsampled to the input ([1, H, W]) have fewer channels
 * than the input: their channel count follows from their size.
 */
export function drawAttribution(
  values: Float32Array,
  geometry: ImageGeometry,
  display: PixelImage,
  how: MethodDisplay,
  options: { clip: number; opacity: number },
): DrawnAttribution {
  const { width, height } = geometry;
  const g = values.length === geometry.channels * width * height ? geometry : { layout: 'nchw' as const, channels: values.length / (width * height), width, height };
  const map = reduceChannels(values, g, how.reduce);
  const heat = heatmapRGBA(map, width, height, { signed: how.signed, colormap: how.colormap, percentile: options.clip });
  return { map, heat, overlay: overlayRGBA(display, heat, options.opacity, OVERLAY_STYLE) };
}
