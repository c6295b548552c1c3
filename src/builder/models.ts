/**
 * The architectures of the saliency papers, with seeded random weights: the random 3-layer CNN and
 * FCN of Nie et al. (2018), VGG-16, and a small CIFAR-style ResNet with unfolded BatchNormalization.
 * Every model reads `input` float32 ['batch', C, H, W] and writes `logits` float32 ['batch', classes].
 */
import type { Graph } from '../ir/graph.js';
import { encodeModel } from '../onnx/encode.js';
import { GraphBuilder, type BiasInit, type Init, type Value } from './layers.js';

export interface CommonOptions {
  /** Number of logits. */
  classes?: number;
  /** Input channels. */
  channels?: number;
  /** Weight initialization. */
  init?: Init;
  /** Seed of the weight PRNG; the same seed gives byte-identical models. Default 0. */
  seed?: number;
  /** Conv and dense biases: zero (default) or drawn like the weights. */
  bias?: BiasInit;
}

export interface Cnn3Options extends CommonOptions {
  /** Input height and width. Default 64. */
  inputSize?: number;
  /** Number of conv filters N. Default 64. */
  filters?: number;
  /** Conv kernel size. Default 7. */
  kernel?: number;
  /** Conv stride. Default 2. */
  stride?: number;
  /** Conv padding on each side. Default 0. */
  pad?: number;
  /** A 2×2 stride-2 max-pooling after the ReLU. Default false. */
  maxPool?: boolean;
}

export interface Fcn3Options extends CommonOptions {
  /** Input height and width. Default 64. */
  inputSize?: number;
  /** Units N_h of each hidden layer. Default 1024. */
  hidden?: number;
  /**
   * Layers counted as Nie et al. count them: input, hidden layers and output. Default 3, i.e. one
   * hidden layer; each extra layer adds another dense N_h + ReLU.
   */
  layers?: number;
}

export interface Vgg16Options extends CommonOptions {
  /** Input height and width (at least 32). Default 224. */
  inputSize?: number;
  /** Conv → BatchNormalization → ReLU, as torchvision's vgg16_bn. Default false. */
  batchNorm?: boolean;
}

export interface ResnetSmallOptions extends CommonOptions {
  /** Input height and width. Default 32. */
  inputSize?: number;
  /** Total depth 6n + 2 (n basic blocks in each of 3 stages): 8, 14, 20, 32, 44, 56, 110. Default 8. */
  depth?: number;
  /** Basic blocks per stage; overrides `depth`. A number means that many in each of 3 stages. */
  blocks?: number | number[];
  /** Channels of the first stage; each later stage doubles them. Default 16. */
  width?: number;
}

export type ModelSpec =
  | ({ model: 'cnn3' } & Cnn3Options)
  | ({ model: 'fcn3' } & Fcn3Options)
  | ({ model: 'vgg16' } & Vgg16Options)
  | ({ model: 'resnetSmall' } & ResnetSmallOptions);

/** The saliency papers' initialization (Nie et al.; Adebayo et al.'s randomized models). */
const PAPER_INIT: Init = { kind: 'truncated-normal', std: 0.1 };
const HE_INIT: Init = { kind: 'he' };

/**
 * Nie et al.'s random 3-layer CNN: Conv k×k (N filters, stride s) → ReLU → [MaxPool 2×2 s2] →
 * Flatten → dense K.
 */
export function cnn3(o: Cnn3Options = {}): Graph {
  const size = posInt('inputSize', o.inputSize ?? 64);
  const channels = posInt('channels', o.channels ?? 3);
  const b = builder('cnn3', o, PAPER_INIT);
  let x = b.input('input', [channels, size, size]);
  x = x.conv({
    name: 'conv1',
    filters: posInt('filters', o.filters ?? 64),
    kernel: posInt('kernel', o.kernel ?? 7),
    stride: posInt('stride', o.stride ?? 2),
    pad: nonNegInt('pad', o.pad ?? 0),
  }).relu('relu1');
  if (o.maxPool) x = x.maxPool({ name: 'pool1', kernel: 2, stride: 2 });
  x = x.flatten('flatten').gemm({ name: 'fc', units: classesOf(o) });
  b.output(x, 'logits');
  return b.graph;
}

/**
 * Nie et al.'s 3-layer fully connected network. Their "3 layers" are input, hidden and output, so
 * the default is Flatten → dense N_h → ReLU → dense K (two weight layers); `layers` > 3 inserts
 * more dense N_h + ReLU hidden layers.
 */
export function fcn3(o: Fcn3Options = {}): Graph {
  const size = posInt('inputSize', o.inputSize ?? 64);
  const channels = posInt('channels', o.channels ?? 3);
  const hidden = posInt('hidden', o.hidden ?? 1024);
  const layers = o.layers ?? 3;
  if (!Number.isInteger(layers) || layers < 3) throw new Error(`fcn3: layers must be an integer ≥ 3 (input, hidden…, output), got ${layers}`);
  const b = builder('fcn3', o, PAPER_INIT);
  let x = b.input('input', [channels, size, size]).flatten('flatten');
  for (let i = 1; i <= layers - 2; i++) x = x.gemm({ name: `fc${i}`, units: hidden }).relu(`relu${i}`);
  x = x.gemm({ name: `fc${layers - 1}`, units: classesOf(o) });
  b.output(x, 'logits');
  return b.graph;
}

/** VGG-16 configuration D: conv widths per block, each block ending in a 2×2 stride-2 max-pool. */
const VGG16_BLOCKS = [[64, 64], [128, 128], [256, 256, 256], [512, 512, 512], [512, 512, 512]];

/**
 * VGG-16 (configuration D): 13 Conv 3×3 pad 1 + ReLU in 5 blocks, each followed by MaxPool 2×2 s2,
 * then Flatten → FC 4096 → ReLU → FC 4096 → ReLU → FC classes (no dropout: inference). At
 * inputSize 224 the first FC reads 512·7·7 features; at other sizes the feature map's size.
 */
export function vgg16(o: Vgg16Options = {}): Graph {
  const size = posInt('inputSize', o.inputSize ?? 224);
  if (size < 32) throw new Error(`vgg16: inputSize must be at least 32 (five 2×2 poolings), got ${size}`);
  const channels = posInt('channels', o.channels ?? 3);
  const b = builder('vgg16', o, HE_INIT);
  let x = b.input('input', [channels, size, size]);
  VGG16_BLOCKS.forEach((widths, bi) => {
    widths.forEach((filters, li) => {
      const id = `${bi + 1}_${li + 1}`;
      x = x.conv({ name: `conv${id}`, filters, kernel: 3, pad: 1 });
      if (o.batchNorm) x = x.batchNorm(`bn${id}`);
      x = x.relu(`relu${id}`);
    });
    x = x.maxPool({ name: `pool${bi + 1}`, kernel: 2, stride: 2 });
  });
  x = x.flatten('flatten');
  x = x.gemm({ name: 'fc6', units: 4096 }).relu('relu6');
  x = x.gemm({ name: 'fc7', units: 4096 }).relu('relu7');
  x = x.gemm({ name: 'fc8', units: classesOf(o, 1000) });
  b.output(x, 'logits');
  return b.graph;
}

/**
 * A CIFAR-style ResNet (He et al. 2016, §4.2) with unfolded BatchNormalization: Conv 3×3 (no bias)
 * → BN → ReLU, then stages of basic blocks (Conv-BN-ReLU-Conv-BN + shortcut, then ReLU); the first
 * block of every stage after the first halves the resolution with stride 2 and takes a 1×1 stride-2
 * Conv + BN projection shortcut, the others identity shortcuts. GlobalAveragePool → Flatten → Gemm.
 */
export function resnetSmall(o: ResnetSmallOptions = {}): Graph {
  const size = posInt('inputSize', o.inputSize ?? 32);
  const channels = posInt('channels', o.channels ?? 3);
  const width = posInt('width', o.width ?? 16);
  const stages = blocksOf(o);
  const b = builder('resnetSmall', o, HE_INIT);
  let x = b.input('input', [channels, size, size])
    .conv({ name: 'conv1', filters: width, kernel: 3, pad: 1, bias: false })
    .batchNorm('bn1')
    .relu('relu1');
  stages.forEach((count, si) => {
    const filters = width * 2 ** si;
    for (let bi = 0; bi < count; bi++) {
      const p = `layer${si + 1}.${bi}`;
      const stride = si > 0 && bi === 0 ? 2 : 1;
      const input: Value = x;
      let y = input
        .conv({ name: `${p}.conv1`, filters, kernel: 3, stride, pad: 1, bias: false })
        .batchNorm(`${p}.bn1`)
        .relu(`${p}.relu1`)
        .conv({ name: `${p}.conv2`, filters, kernel: 3, pad: 1, bias: false })
        .batchNorm(`${p}.bn2`);
      const shortcut = stride !== 1 || input.shape[0] !== filters
        ? input.conv({ name: `${p}.downsample.0`, filters, kernel: 1, stride, bias: false }).batchNorm(`${p}.downsample.1`)
        : input;
      y = y.add(shortcut, `${p}.add`).relu(`${p}.relu2`);
      x = y;
    }
  });
  x = x.globalAveragePool('avgpool').flatten('flatten').gemm({ name: 'fc', units: classesOf(o) });
  b.output(x, 'logits');
  return b.graph;
}

/** The IR graph of a model spec. */
export function buildGraph(spec: ModelSpec): Graph {
  switch (spec.model) {
    case 'cnn3': return cnn3(spec);
    case 'fcn3': return fcn3(spec);
    case 'vgg16': return vgg16(spec);
    case 'resnetSmall': return resnetSmall(spec);
  }
}

/** The ONNX model bytes (opset 17) of a model spec. */
export function buildModel(spec: ModelSpec): Uint8Array {
  return encodeModel(buildGraph(spec));
}

/** Number of initializer elements of a graph: its parameters, BatchNormalization statistics included. */
export function parameterCount(g: Graph): number {
  let n = 0;
  for (const t of g.initializers.values()) n += t.data.length;
  return n;
}

function builder(name: string, o: CommonOptions, defaultInit: Init): GraphBuilder {
  const init = o.init ?? defaultInit;
  if (init.kind === 'truncated-normal' && !(init.std > 0)) throw new Error(`${name}: init std must be positive, got ${init.std}`);
  const seed = o.seed ?? 0;
  if (!Number.isInteger(seed)) throw new Error(`${name}: seed must be an integer, got ${seed}`);
  return new GraphBuilder(name, { seed, init, bias: o.bias ?? 'zero' });
}

function classesOf(o: CommonOptions, fallback = 10): number {
  return posInt('classes', o.classes ?? fallback);
}

function blocksOf(o: ResnetSmallOptions): number[] {
  if (o.blocks !== undefined) {
    const list = typeof o.blocks === 'number' ? [o.blocks, o.blocks, o.blocks] : o.blocks;
    if (list.length === 0) throw new Error('resnetSmall: blocks must name at least one stage');
    return list.map((n) => posInt('blocks', n));
  }
  const depth = o.depth ?? 8;
  if (!Number.isInteger(depth) || depth < 8 || (depth - 2) % 6 !== 0) {
    throw new Error(`resnetSmall: depth must be 6n + 2 with n ≥ 1 (8, 14, 20, 32, …), got ${depth}`);
  }
  const n = (depth - 2) / 6;
  return [n, n, n];
}

function posInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} must be a positive integer, got ${v}`);
  return v;
}

function nonNegInt(name: string, v: number): number {
  if (!Number.isInteger(v) || v < 0) throw new Error(`${name} must be a non-negative integer, got ${v}`);
  return v;
}
