/**
 * Model randomization for the sanity checks (Adebayo et al. 2018; Nie et al. 2018, §4.5): the
 * learnable layers of an imported model, and copies of its graph with some of them re-initialized.
 *
 * Learnable layers, in forward (node) order: every Conv, Gemm and MatMul whose weight is a float32
 * initializer, with its bias (the node's own bias input, or for MatMul the initializer added by the
 * Add that follows it) and the BatchNormalization that directly follows it, if any.
 *
 * Re-initialization of a layer:
 * - weights: truncated normal (redrawn outside ±2σ, as the random networks of Nie et al. and
 *   Adebayo et al.), zero mean, with σ chosen so that the drawn weights have **the layer's own
 *   trained standard deviation** (`'layer-std'`, default), or He normal N(0, 2 / fan-in) (`'he'`).
 *   Keeping each layer's scale keeps the activations of a partly random network in the range the
 *   trained layers around it were trained for, without tying the result to one fixed std.
 * - biases: **zero** — a bias is an offset learned for the trained weights; left on random weights
 *   it would keep part of the trained layer (and it is how the builder's random nets start).
 * - BatchNormalization: reset to a fresh layer's state (scale 1, shift 0, running mean 0, running
 *   variance 1, as PyTorch initializes it): its statistics describe the trained layer's outputs.
 * Each layer draws from its own generator, seeded by (seed, layer index): a layer gets the same
 * random weights in every stage of a cascade and in its single-layer stage, and runs repeat exactly.
 */
import { cloneGraph, type Graph, type Node } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { heStd, Rng } from './random.js';

/** A learnable layer of a graph and the initializers that belong to it. */
export interface LearnableLayer {
  /** Position in forward order, 0-based. */
  index: number;
  /** The node's name (its first output's name when the node has none). */
  name: string;
  op: 'Conv' | 'Gemm' | 'MatMul';
  weight: string;
  bias?: string;
  /** The BatchNormalization right after the layer: scale, shift, running mean and variance. */
  batchNorm?: { node: string; scale: string; shift: string; mean: string; variance: string };
  /** Weight elements. */
  parameters: number;
}

export type ReinitKind = 'layer-std' | 'he';

export interface RandomizeOptions {
  seed: number;
  /** Default 'layer-std'. */
  init?: ReinitKind;
}

/** The standard deviation of N(0, 1) truncated to ±2 (the truncation of `Rng.truncatedNormal`). */
export const TRUNCATED_STD = Math.sqrt(1 - (4 * Math.exp(-2)) / Math.sqrt(2 * Math.PI) / erf(Math.SQRT2));

function erf(x: number): number {
  // Abramowitz–Stegun 7.1.26 is too coarse for a constant; sum the Maclaurin series instead.
  let sum = 0;
  let term = x;
  for (let n = 0; n < 60; n++) {
    sum += term / (2 * n + 1);
    term *= (-x * x) / (n + 1);
  }
  return (2 / Math.sqrt(Math.PI)) * sum;
}

const isFloat32Init = (g: Graph, name: string | undefined): name is string => !!name && g.initializers.get(name)?.dtype === 'float32';

/** The learnable layers of a graph, in forward order (see the module note). */
export function learnableLayers(graph: Graph): LearnableLayer[] {
  const consumers = new Map<string, Node[]>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) consumers.set(i, [...(consumers.get(i) ?? []), n]);
  const only = (tensor: string, op: string): Node | undefined => {
    const c = consumers.get(tensor);
    return c?.length === 1 && c[0]!.op === op ? c[0] : undefined;
  };
  const layers: LearnableLayer[] = [];
  for (const node of graph.nodes) {
    if (node.op !== 'Conv' && node.op !== 'Gemm' && node.op !== 'MatMul') continue;
    const weight = node.inputs[1];
    if (!isFloat32Init(graph, weight)) continue;
    let out = node.outputs[0]!;
    let bias: string | undefined;
    if (node.op === 'MatMul') {
      const add = only(out, 'Add');
      const other = add?.inputs.find((i) => i !== out);
      if (add && isFloat32Init(graph, other)) {
        bias = other;
        out = add.outputs[0]!;
      }
    } else if (isFloat32Init(graph, node.inputs[2])) bias = node.inputs[2];
    const layer: LearnableLayer = {
      index: layers.length,
      name: node.name || node.outputs[0]!,
      op: node.op,
      weight,
      parameters: graph.initializers.get(weight)!.data.length,
    };
    if (bias) layer.bias = bias;
    const bn = only(out, 'BatchNormalization');
    if (bn && bn.inputs.slice(1, 5).every((i) => isFloat32Init(graph, i))) {
      const [, scale, shift, mean, variance] = bn.inputs as [string, string, string, string, string];
      layer.batchNorm = { node: bn.name || bn.outputs[0]!, scale, shift, mean, variance };
    }
    layers.push(layer);
  }
  return layers;
}

/** A generator seed for layer `index` of a run seeded by `seed` (an integer hash of both). */
export function layerSeed(seed: number, index: number): number {
  let h = (Math.trunc(seed) ^ 0x5bd1e995) >>> 0;
  h = Math.imul(h ^ (index + 0x27d4eb2f), 0x85ebca6b) >>> 0;
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35) >>> 0;
  return (h ^ (h >>> 16)) >>> 0;
}

function std(data: Float32Array): number {
  let mean = 0;
  for (let i = 0; i < data.length; i++) mean += data[i]!;
  mean /= data.length;
  let v = 0;
  for (let i = 0; i < data.length; i++) v += (data[i]! - mean) ** 2;
  return Math.sqrt(v / data.length);
}

/** The fan-in of a weight: Conv [M, C/g, kh, kw] → C/g·kh·kw; Gemm/MatMul → the input features. */
function fanIn(layer: LearnableLayer, w: Tensor, node: Node | undefined): number {
  const d = w.dims;
  if (layer.op === 'Conv') return d.slice(1).reduce((a, b) => a * b, 1);
  if (layer.op === 'Gemm') return node?.attrs.transB?.value === 1 ? d[1]! : d[0]!;
  return d[0]!;
}

const filled = (like: Tensor, value: number): Tensor => ({ dtype: 'float32', dims: [...like.dims], data: new Float32Array(like.data.length).fill(value) });

/** The weight tensor that replaces `layer`'s (see the module note). */
export function randomWeight(graph: Graph, layer: LearnableLayer, options: RandomizeOptions): Tensor {
  const w = graph.initializers.get(layer.weight)!;
  const node = graph.nodes.find((n) => (n.name || n.outputs[0]) === layer.name);
  let sigma: number;
  if ((options.init ?? 'layer-std') === 'he') sigma = heStd(fanIn(layer, w, node));
  else {
    const s = std(w.data as Float32Array);
    // A layer of zeros has no scale of its own: fall back to He.
    sigma = s > 0 ? s : heStd(fanIn(layer, w, node));
  }
  const rng = new Rng(layerSeed(options.seed, layer.index));
  return { dtype: 'float32', dims: [...w.dims], data: rng.fillTruncatedNormal(new Float32Array(w.data.length), sigma / TRUNCATED_STD) };
}

/**
 * A copy of `graph` in which the layers with the given indices are re-initialized; everything
 * else (other initializers, nodes) is shared with the original, which is not modified.
 */
export function randomizeLayers(graph: Graph, layers: readonly LearnableLayer[], indices: Iterable<number>, options: RandomizeOptions): Graph {
  const out = cloneGraph(graph);
  for (const i of new Set(indices)) {
    const layer = layers[i];
    if (!layer) throw new RangeError(`randomizeLayers: no layer ${i} (the model has ${layers.length})`);
    out.initializers.set(layer.weight, randomWeight(graph, layer, options));
    if (layer.bias) out.initializers.set(layer.bias, filled(graph.initializers.get(layer.bias)!, 0));
    const bn = layer.batchNorm;
    if (bn) {
      const init = (name: string, v: number): void => void out.initializers.set(name, filled(graph.initializers.get(name)!, v));
      init(bn.scale, 1);
      init(bn.shift, 0);
      init(bn.mean, 0);
      init(bn.variance, 1);
    }
  }
  return out;
}

/** The initializer names a layer owns (weight, bias, BatchNormalization parameters). */
export function layerInitializers(layer: LearnableLayer): string[] {
  const bn = layer.batchNorm;
  return [layer.weight, ...(layer.bias ? [layer.bias] : []), ...(bn ? [bn.scale, bn.shift, bn.mean, bn.variance] : [])];
}
