/**
 * Tiny IR graphs built directly (no exporter), for the eager reference's tests and the compiler's.
 * Every model reads one float32 input named 'input' (NCHW) and writes 'logits' [1, classes]; each
 * ends in Flatten + Gemm. Weights come from a seeded PRNG, so a model is the same on every run.
 * `bytes` is the model encoded at opset 17 with src/onnx/encode.ts.
 */
import { floatAttr, intAttr, intsAttr, type Attr, type Graph, type Node } from '../../src/ir/graph.js';
import { float32, fromNumbers, int64, type Tensor } from '../../src/ir/tensor.js';
import { encodeModel } from '../../src/onnx/encode.js';
import { forward, numel } from './eager.js';

// ───────────────────────────── randomness ─────────────────────────────

/** A small seeded PRNG (mulberry32): deterministic uniform and normal draws. */
export class Rng {
  private state: number;
  constructor(seed: number) {
    this.state = (seed * 0x9e3779b1) >>> 0 || 1;
  }
  /** Uniform in [0, 1). */
  next(): number {
    this.state = (this.state + 0x6d2b79f5) >>> 0;
    let t = this.state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  /** Standard normal (Box–Muller). */
  normal(): number {
    const u = 1 - this.next();
    const v = this.next();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
  }
}

/** A seeded standard-normal input of `shape`, times `scale`, as float32 (what onnxruntime is fed). */
export function randomInput(shape: readonly number[], seed = 1, scale = 1): Float32Array {
  const rng = new Rng(seed);
  return Float32Array.from({ length: numel(shape) }, () => scale * rng.normal());
}

// ───────────────────────────── builder ─────────────────────────────

/** A tiny model: its ONNX bytes, its input shape and the IR graph the bytes were encoded from. */
export interface TinyModel {
  name: string;
  /** ONNX ModelProto bytes at opset 17. */
  bytes: Uint8Array;
  /** Static NCHW input shape, batch 1. */
  inputShape: number[];
  /** The IR graph as built (before any canonicalization). */
  graph: Graph;
}

export interface ConvOptions {
  kernel?: [number, number];
  strides?: [number, number];
  /** [top, left, bottom, right]; defaults to "same" padding for odd kernels at stride 1. */
  pads?: [number, number, number, number];
  dilations?: [number, number];
  group?: number;
  bias?: boolean;
  /** Multiplies the He-uniform weight range (to push activations past clip bounds). */
  gain?: number;
}

/** Builds an IR graph node by node; `finish` appends Flatten + Gemm and encodes it. */
export class TinyGraphBuilder {
  readonly input = 'input';
  readonly rng: Rng;
  private nodes: Node[] = [];
  private initializers = new Map<string, Tensor>();
  private counter = 0;

  constructor(
    readonly name: string,
    readonly inputShape: number[],
    seed = 1,
  ) {
    this.rng = new Rng(seed);
  }

  private fresh(hint: string): string {
    return `${hint}_${this.counter++}`;
  }

  /** A float32 initializer with values uniform in [-scale, scale]. */
  randomWeight(hint: string, dims: number[], scale: number): string {
    return this.floatConst(hint, dims, Array.from({ length: numel(dims) }, () => this.rng.uniform(-scale, scale)));
  }

  /** A float32 initializer with values uniform in [lo, hi]. */
  randomRange(hint: string, dims: number[], lo: number, hi: number): string {
    return this.floatConst(hint, dims, Array.from({ length: numel(dims) }, () => this.rng.uniform(lo, hi)));
  }

  floatConst(hint: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.set(name, float32(dims, values));
    return name;
  }

  boolConst(hint: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.set(name, fromNumbers('bool', dims, values));
    return name;
  }

  intConst(hint: string, dims: number[], values: ArrayLike<number>): string {
    const name = this.fresh(hint);
    this.initializers.set(name, int64(dims, values));
    return name;
  }

  /** Appends a node; returns its output names. '' in `inputs` marks an omitted optional input. */
  ops(op: string, inputs: string[], attrs: Record<string, Attr> = {}, outputs = 1): string[] {
    const name = this.fresh(op);
    const outs = Array.from({ length: outputs }, (_, i) => `${name}_out${i}`);
    this.nodes.push({ name, op, domain: '', inputs, outputs: outs, attrs });
    return outs;
  }

  /** Appends a single-output node; returns its output name. */
  op(op: string, inputs: string[], attrs: Record<string, Attr> = {}): string {
    return this.ops(op, inputs, attrs)[0]!;
  }

  /** Conv with He-uniform random weights and (by default) a random bias. */
  conv(x: string, cin: number, cout: number, o: ConvOptions = {}): string {
    const k = o.kernel ?? [3, 3];
    const group = o.group ?? 1;
    const d = o.dilations ?? [1, 1];
    const pads = o.pads ?? [((k[0] - 1) * d[0]) >> 1, ((k[1] - 1) * d[1]) >> 1, ((k[0] - 1) * d[0]) >> 1, ((k[1] - 1) * d[1]) >> 1];
    const fanIn = (cin / group) * k[0] * k[1];
    const w = this.randomWeight('w', [cout, cin / group, k[0], k[1]], (o.gain ?? 1) * Math.sqrt(6 / fanIn));
    const inputs = [x, w];
    if (o.bias ?? true) inputs.push(this.randomWeight('b', [cout], 0.2));
    return this.op('Conv', inputs, {
      kernel_shape: intsAttr(k),
      strides: intsAttr(o.strides ?? [1, 1]),
      pads: intsAttr(pads),
      dilations: intsAttr(d),
      group: intAttr(group),
    });
  }

  /** BatchNormalization (inference) with random statistics. */
  batchNorm(x: string, channels: number): string {
    const gamma = this.randomRange('gamma', [channels], 0.5, 1.5);
    const beta = this.randomWeight('beta', [channels], 0.3);
    const mean = this.randomWeight('mean', [channels], 0.3);
    const variance = this.randomRange('var', [channels], 0.5, 2);
    return this.op('BatchNormalization', [x, gamma, beta, mean, variance], { epsilon: floatAttr(1e-5) });
  }

  /** The IR graph with `output` as its output (no Flatten/Gemm added). */
  graphWithOutput(output: string, outputShape: number[]): Graph {
    return {
      name: this.name,
      inputs: [{ name: this.input, dtype: 'float32', shape: [...this.inputShape] }],
      outputs: [{ name: output, dtype: 'float32', shape: outputShape }],
      nodes: this.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
      initializers: new Map(this.initializers),
      values: new Map(),
    };
  }

  /** Shape of tensor `x`, found by running the eager reference on the graph built so far. */
  shapeOf(x: string): number[] {
    const g = this.graphWithOutput(x, []);
    const t = forward(g, new Float64Array(numel(this.inputShape))).get(x);
    if (!t) throw new Error(`tensor '${x}' is not computed`);
    return t.dims;
  }

  /**
   * Appends Flatten + Gemm (transB=1) to `classes` logits named 'logits' and encodes the model.
   * With `symbolicSpatial` the encoded input declares H and W as symbolic dims ('H', 'W'), which keeps
   * onnxruntime's static shape inference out of the way (see `tinyMaxPoolNet`); `graph` keeps the static shape.
   */
  finish(x: string, classes = 3, symbolicSpatial = false, bias = true): TinyModel {
    const dims = this.shapeOf(x);
    const features = numel(dims.slice(1));
    const flat = this.op('Flatten', [x], { axis: intAttr(1) });
    const w = this.randomWeight('fc_w', [classes, features], Math.sqrt(3 / features));
    const b = bias ? [this.randomWeight('fc_b', [classes], 0.1)] : [];
    this.nodes.push({ name: this.fresh('Gemm'), op: 'Gemm', domain: '', inputs: [flat, w, ...b], outputs: ['logits'], attrs: { transB: intAttr(1) } });
    const graph = this.graphWithOutput('logits', [dims[0]!, classes]);
    const encoded: Graph = { ...graph, inputs: graph.inputs.map((v) => ({ ...v, shape: [...v.shape] })) };
    if (symbolicSpatial) encoded.inputs[0]!.shape = [this.inputShape[0]!, this.inputShape[1]!, 'H', 'W'];
    return { name: this.name, bytes: encodeModel(encoded, 'backlight-tests'), inputShape: [...this.inputShape], graph };
  }
}

// ───────────────────────────── models ─────────────────────────────

export interface TinyConvNetOptions extends ConvOptions {
  inChannels?: number;
  outChannels?: number;
  /** Input [H, W]. */
  size?: [number, number];
  seed?: number;
}

/** Conv (any geometry: strides, pads, dilations, groups incl. depthwise, non-square kernels) → Relu → Flatten → Gemm. */
export function tinyConvNet(o: TinyConvNetOptions = {}): TinyModel {
  const cin = o.inChannels ?? 2, cout = o.outChannels ?? 4;
  const [h, w] = o.size ?? [6, 6];
  const tag = `k${(o.kernel ?? [3, 3]).join('x')}_s${(o.strides ?? [1, 1]).join('x')}_p${(o.pads ?? ['same']).join('.')}_d${(o.dilations ?? [1, 1]).join('x')}_g${o.group ?? 1}`;
  const b = new TinyGraphBuilder(`conv_${cin}to${cout}_${tag}`, [1, cin, h, w], o.seed ?? 11);
  const y = b.op('Relu', [b.conv(b.input, cin, cout, o)]);
  return b.finish(y);
}

export interface TinyPoolOptions {
  kernel: [number, number];
  strides?: [number, number];
  /** [top, left, bottom, right]. */
  pads?: [number, number, number, number];
  /** MaxPool only (AveragePool has no dilations at opset 17). */
  dilations?: [number, number];
  ceilMode?: boolean;
  /** AveragePool only. */
  countIncludePad?: boolean;
  /** Input [H, W]. */
  size?: [number, number];
  /** Declare H and W symbolic in the ONNX bytes (see `tinyMaxPoolNet`). */
  symbolicSpatial?: boolean;
  seed?: number;
}

function poolAttrs(o: TinyPoolOptions, withDilations: boolean): Record<string, Attr> {
  const attrs: Record<string, Attr> = {
    kernel_shape: intsAttr(o.kernel),
    strides: intsAttr(o.strides ?? [1, 1]),
    pads: intsAttr(o.pads ?? [0, 0, 0, 0]),
    ceil_mode: intAttr(o.ceilMode ? 1 : 0),
  };
  if (withDilations && o.dilations) attrs.dilations = intsAttr(o.dilations);
  return attrs;
}

function poolTag(o: TinyPoolOptions): string {
  return `k${o.kernel.join('x')}_s${(o.strides ?? [1, 1]).join('x')}_p${(o.pads ?? [0, 0, 0, 0]).join('.')}${o.dilations ? `_d${o.dilations.join('x')}` : ''}${o.ceilMode ? '_ceil' : ''}`;
}

/**
 * Conv → MaxPool (overlapping windows, pads, dilations, ceil_mode as given) → Relu → Flatten → Gemm.
 *
 * Where ceil_mode rounds up to a last window that would start in the end padding, onnxruntime's
 * kernels drop that window (as PyTorch does) but its static ONNX shape inference keeps it, and the
 * session then refuses the model (a Gemm dimension mismatch). Such configurations need
 * `symbolicSpatial: true`.
 */
export function tinyMaxPoolNet(o: TinyPoolOptions): TinyModel {
  const [h, w] = o.size ?? [7, 7];
  const b = new TinyGraphBuilder(`maxpool_${poolTag(o)}`, [1, 2, h, w], o.seed ?? 21);
  const p = b.op('MaxPool', [b.conv(b.input, 2, 3)], poolAttrs(o, true));
  return b.finish(b.op('Relu', [p]), 3, o.symbolicSpatial);
}

/** Conv → AveragePool (count_include_pad, pads, ceil_mode as given) → Relu → Flatten → Gemm; see `tinyMaxPoolNet` on `symbolicSpatial`. */
export function tinyAvgPoolNet(o: TinyPoolOptions): TinyModel {
  const [h, w] = o.size ?? [7, 7];
  const b = new TinyGraphBuilder(`avgpool_${poolTag(o)}_cip${o.countIncludePad ? 1 : 0}`, [1, 2, h, w], o.seed ?? 31);
  const attrs = poolAttrs(o, false);
  attrs.count_include_pad = intAttr(o.countIncludePad ? 1 : 0);
  const p = b.op('AveragePool', [b.conv(b.input, 2, 3)], attrs);
  return b.finish(b.op('Relu', [p]), 3, o.symbolicSpatial);
}

/** Conv → Relu → GlobalAveragePool or GlobalMaxPool → Flatten → Gemm. */
export function tinyGlobalPoolNet(kind: 'avg' | 'max', seed = 41): TinyModel {
  const b = new TinyGraphBuilder(`global_${kind}pool`, [1, 2, 5, 5], seed);
  const c = b.op('Relu', [b.conv(b.input, 2, 4)]);
  return b.finish(b.op(kind === 'avg' ? 'GlobalAveragePool' : 'GlobalMaxPool', [c]));
}

/**
 * Two residual blocks with BatchNormalization after each Conv (folded by canonicalization): an
 * identity shortcut (residual Add), then a stride-2 block with a 1×1 projection shortcut.
 */
export function tinyResidualNet(seed = 51): TinyModel {
  const b = new TinyGraphBuilder('residual', [1, 3, 6, 6], seed);
  const stem = b.op('Relu', [b.conv(b.input, 3, 3)]);
  let y = b.op('Relu', [b.batchNorm(b.conv(stem, 3, 3, { bias: false }), 3)]);
  y = b.batchNorm(b.conv(y, 3, 3, { bias: false }), 3);
  const block1 = b.op('Relu', [b.op('Add', [y, stem])]);
  let z = b.op('Relu', [b.batchNorm(b.conv(block1, 3, 4, { strides: [2, 2], pads: [1, 1, 1, 1] }), 4)]);
  z = b.conv(z, 4, 4);
  const proj = b.conv(block1, 3, 4, { kernel: [1, 1], strides: [2, 2], pads: [0, 0, 0, 0] });
  return b.finish(b.op('Relu', [b.op('Add', [z, proj])]));
}

/**
 * Conv → Split (sizes from a constant) into a Sigmoid and a Relu branch → equal Split of the Relu
 * branch along H, re-joined swapped by Concat → Concat of both branches and the Conv output (read twice).
 */
export function tinyConcatSplitNet(seed = 61): TinyModel {
  const b = new TinyGraphBuilder('concat_split', [1, 2, 6, 6], seed);
  const c = b.conv(b.input, 2, 4);
  const [a, rest] = b.ops('Split', [c, b.intConst('split', [2], [1, 3])], { axis: intAttr(1) }, 2) as [string, string];
  const sa = b.op('Sigmoid', [a]);
  const r = b.op('Relu', [rest]);
  const [top, bottom] = b.ops('Split', [r], { axis: intAttr(2) }, 2) as [string, string];
  const swapped = b.op('Concat', [bottom, top], { axis: intAttr(2) });
  return b.finish(b.op('Concat', [sa, swapped, c], { axis: intAttr(1) }));
}

/**
 * Conv → Slice (constant starts/ends/axes/steps: negative starts and ends, an end past the axis,
 * step 2) → Pad (constant mode, asymmetric pads including the channel axis, value 0.5) → Relu → Flatten → Gemm.
 */
export function tinySlicePadNet(seed = 71): TinyModel {
  const b = new TinyGraphBuilder('slice_pad', [1, 2, 8, 8], seed);
  const c = b.conv(b.input, 2, 4);
  const s = b.op('Slice', [
    c,
    b.intConst('starts', [3], [0, 1, -6]),
    b.intConst('ends', [3], [4, 1000, -1]),
    b.intConst('axes', [3], [1, 2, 3]),
    b.intConst('steps', [3], [2, 2, 1]),
  ]);
  const p = b.op('Pad', [s, b.intConst('pads', [8], [0, 1, 1, 0, 0, 0, 2, 1]), b.floatConst('pad_value', [], [0.5])], { mode: { type: 'string', value: 'constant' } });
  return b.finish(b.op('Relu', [p]));
}

/**
 * Conv → Transpose (NHWC) → Reshape [1, -1, C] → batched MatMul with a constant → Relu → Reshape
 * (with a 0 dim) → Transpose back → Unsqueeze → Squeeze → Flatten → Gemm.
 */
export function tinyTransposeReshapeNet(seed = 81): TinyModel {
  const b = new TinyGraphBuilder('transpose_reshape', [1, 2, 5, 6], seed);
  const c = b.conv(b.input, 2, 3);
  const t = b.op('Transpose', [c], { perm: intsAttr([0, 2, 3, 1]) });
  const r = b.op('Reshape', [t, b.intConst('shape', [3], [1, -1, 3])]);
  const m = b.op('Relu', [b.op('MatMul', [r, b.randomWeight('mm_w', [3, 4], 1)])]);
  const back = b.op('Reshape', [m, b.intConst('shape', [4], [0, 5, 6, 4])]);
  const nchw = b.op('Transpose', [back], { perm: intsAttr([0, 3, 1, 2]) });
  const u = b.op('Unsqueeze', [nchw, b.intConst('axes', [1], [2])]);
  return b.finish(b.op('Squeeze', [u, b.intConst('axes', [1], [2])]));
}

export type TinyActivation = 'Relu' | 'LeakyRelu' | 'PRelu' | 'Relu6' | 'Clip' | 'Sigmoid' | 'Tanh' | 'HardSigmoid' | 'HardSwish';

/**
 * Conv → act → Conv → act → Flatten → Gemm for one activation. 'Relu6' is Clip(0, 6) (a rectifier),
 * 'Clip' is Clip(-1, 1.5) (not one); the Convs' weights are scaled up so that activations reach
 * every piece of the piecewise functions.
 */
export function tinyActivationNet(kind: TinyActivation, seed = 91): TinyModel {
  const b = new TinyGraphBuilder(`act_${kind}`, [1, 2, 5, 5], seed);
  const gain = kind === 'Relu6' || kind === 'HardSwish' || kind === 'HardSigmoid' ? 2.5 : 1;
  const act = (x: string, channels: number): string => {
    switch (kind) {
      case 'LeakyRelu': return b.op('LeakyRelu', [x], { alpha: floatAttr(0.1) });
      case 'PRelu': return b.op('PRelu', [x, b.randomRange('slope', [channels, 1, 1], 0.05, 0.3)]);
      case 'Relu6': return b.op('Clip', [x, b.floatConst('min', [], [0]), b.floatConst('max', [], [6])]);
      case 'Clip': return b.op('Clip', [x, b.floatConst('min', [], [-1]), b.floatConst('max', [], [1.5])]);
      case 'HardSigmoid': return b.op('HardSigmoid', [x], { alpha: floatAttr(0.25), beta: floatAttr(0.4) });
      default: return b.op(kind, [x]);
    }
  };
  const y = act(b.conv(b.input, 2, 3, { gain }), 3);
  return b.finish(act(b.conv(y, 3, 3, { gain }), 3));
}

/**
 * Elementwise arithmetic with numpy broadcasting (Mul by [C,1,1], Add [1,C,1,1], Sub from a scalar,
 * Div by [W]), a tensor read twice (x·sigmoid(x)), Sum of three, Div by a computed tensor, and an
 * inference BatchNormalization that canonicalization cannot fold (it follows a Div) → Relu → Flatten → Gemm.
 */
export function tinyArithmeticNet(seed = 101): TinyModel {
  const b = new TinyGraphBuilder('arithmetic', [1, 2, 5, 5], seed);
  const c = b.conv(b.input, 2, 3);
  const m = b.op('Mul', [c, b.randomRange('scale', [3, 1, 1], 0.5, 1.5)]);
  const a = b.op('Add', [m, b.randomWeight('shift', [1, 3, 1, 1], 0.5)]);
  const s = b.op('Sub', [b.floatConst('scalar', [], [0.25]), a]);
  const d = b.op('Div', [s, b.randomRange('divisor', [5], 0.8, 2)]);
  const swish = b.op('Mul', [d, b.op('Sigmoid', [d])]);
  const sum = b.op('Sum', [swish, c, d]);
  const den = b.op('Add', [b.op('Sigmoid', [c]), b.floatConst('one', [1], [1])]);
  const q = b.op('Div', [sum, den]);
  return b.finish(b.op('Relu', [b.batchNorm(q, 3)]));
}

/**
 * Matrix products: a batched MatMul of two activations (x · xᵀ per channel), Softmax over the last
 * axis, a batched MatMul broadcasting a 2-D constant, a 2-D MatMul + Add (merged into a Gemm by
 * canonicalization), a Gemm with alpha/beta and a broadcast C, Tanh, and a Gemm with transA and a [1, N] C.
 */
export function tinyMatMulNet(seed = 111): TinyModel {
  const b = new TinyGraphBuilder('matmul', [1, 2, 4, 4], seed);
  const c = b.conv(b.input, 2, 3);
  const x = b.op('Reshape', [c, b.intConst('shape', [3], [3, 4, 4])]);
  const xt = b.op('Transpose', [x], { perm: intsAttr([0, 2, 1]) });
  const gram = b.op('MatMul', [x, xt]);
  const sm = b.op('Softmax', [gram], { axis: intAttr(-1) });
  const p = b.op('MatMul', [sm, b.randomWeight('mm_w', [4, 5], 0.8)]);
  const flat = b.op('Reshape', [p, b.intConst('shape', [2], [1, 60])]);
  const lin = b.op('Add', [b.op('MatMul', [flat, b.randomWeight('lin_w', [60, 10], 0.3)]), b.randomWeight('lin_b', [10], 0.1)]);
  const g1 = b.op('Gemm', [lin, b.randomWeight('g1_w', [10, 8], 0.5), b.randomWeight('g1_c', [8], 0.2)], { alpha: floatAttr(0.5), beta: floatAttr(2) });
  const t = b.op('Tanh', [g1]);
  const col = b.op('Reshape', [t, b.intConst('shape', [2], [8, 1])]);
  const g2 = b.op('Gemm', [col, b.randomWeight('g2_w', [6, 8], 0.6), b.randomWeight('g2_c', [1, 6], 0.2)], { transA: intAttr(1), transB: intAttr(1) });
  return b.finish(b.op('Relu', [g2]));
}

/**
 * A small VGG-like stack: Conv → Relu → MaxPool(3, stride 2, pad 1, ceil_mode) → grouped Conv →
 * LeakyRelu → AveragePool(2, stride 2, ceil_mode) → Flatten → Gemm → Relu → Flatten → Gemm.
 */
export function tinyStackNet(seed = 121): TinyModel {
  const b = new TinyGraphBuilder('stack', [1, 3, 10, 10], seed);
  let y = b.op('Relu', [b.conv(b.input, 3, 4)]);
  y = b.op('MaxPool', [y], { kernel_shape: intsAttr([3, 3]), strides: intsAttr([2, 2]), pads: intsAttr([1, 1, 1, 1]), ceil_mode: intAttr(1) });
  y = b.op('LeakyRelu', [b.conv(y, 4, 6, { group: 2 })], { alpha: floatAttr(0.2) });
  y = b.op('AveragePool', [y], { kernel_shape: intsAttr([2, 2]), strides: intsAttr([2, 2]), ceil_mode: intAttr(1) });
  const f = b.op('Flatten', [y], { axis: intAttr(1) });
  const features = numel(b.shapeOf(f).slice(1));
  y = b.op('Relu', [b.op('Gemm', [f, b.randomWeight('fc1_w', [8, features], Math.sqrt(6 / features)), b.randomWeight('fc1_b', [8], 0.1)], { transB: intAttr(1) })]);
  return b.finish(y);
}

/** Every tiny model above, in a fixed set of configurations covering the ops the reference supports. */
export function allTinyModels(): TinyModel[] {
  return [
    tinyConvNet(),
    tinyConvNet({ strides: [2, 2], pads: [1, 0, 0, 1], size: [7, 6] }),
    tinyConvNet({ dilations: [2, 2], kernel: [3, 3], size: [7, 7] }),
    tinyConvNet({ kernel: [2, 3], strides: [1, 2], pads: [0, 1, 1, 1], bias: false }),
    tinyConvNet({ inChannels: 4, outChannels: 6, group: 2 }),
    tinyConvNet({ inChannels: 3, outChannels: 6, group: 3, kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
    tinyConvNet({ inChannels: 3, outChannels: 3, group: 3, size: [5, 5] }),
    // strided depthwise convs (backward by zero insertion + stride-1 Conv): MobileNet's, and odd geometries
    tinyConvNet({ inChannels: 4, outChannels: 4, group: 4, strides: [2, 2], pads: [1, 1, 1, 1], size: [8, 7] }),
    tinyConvNet({ inChannels: 2, outChannels: 2, group: 2, kernel: [3, 2], strides: [2, 3], dilations: [2, 1], pads: [2, 0, 1, 1], size: [9, 8] }),
    tinyConvNet({ inChannels: 2, outChannels: 2, group: 2, kernel: [5, 5], strides: [3, 3], pads: [2, 2, 2, 2], size: [10, 11] }),
    tinyMaxPoolNet({ kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] }),
    tinyMaxPoolNet({ kernel: [3, 3], strides: [2, 2], pads: [0, 0, 1, 1], ceilMode: true, size: [8, 8] }),
    tinyMaxPoolNet({ kernel: [2, 2], strides: [1, 1], dilations: [2, 2] }),
    tinyMaxPoolNet({ kernel: [2, 3], strides: [2, 1], pads: [1, 0, 0, 1], ceilMode: true, size: [6, 5] }),
    // ceil_mode where the rounded-up last window would start in the end padding and is dropped
    tinyMaxPoolNet({ kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, size: [5, 5], symbolicSpatial: true }),
    tinyAvgPoolNet({ kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: false }),
    tinyAvgPoolNet({ kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], countIncludePad: true }),
    tinyAvgPoolNet({ kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true, size: [8, 8] }),
    tinyAvgPoolNet({ kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: false, size: [8, 8] }),
    tinyAvgPoolNet({ kernel: [2, 2], strides: [2, 2], ceilMode: true, countIncludePad: true }),
    tinyAvgPoolNet({ kernel: [2, 2], strides: [2, 2], ceilMode: true, countIncludePad: false }),
    tinyAvgPoolNet({ kernel: [3, 2], strides: [2, 2], pads: [0, 1, 1, 0], ceilMode: true, countIncludePad: true, size: [8, 7] }),
    tinyAvgPoolNet({ kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: true, size: [5, 5], symbolicSpatial: true }),
    tinyAvgPoolNet({ kernel: [2, 2], strides: [2, 2], pads: [1, 1, 1, 1], ceilMode: true, countIncludePad: false, size: [5, 5], symbolicSpatial: true }),
    tinyGlobalPoolNet('avg'),
    tinyGlobalPoolNet('max'),
    tinyResidualNet(),
    tinyConcatSplitNet(),
    tinySlicePadNet(),
    tinyTransposeReshapeNet(),
    ...(['Relu', 'LeakyRelu', 'PRelu', 'Relu6', 'Clip', 'Sigmoid', 'Tanh', 'HardSigmoid', 'HardSwish'] as const).map((k) => tinyActivationNet(k)),
    tinyArithmeticNet(),
    tinyMatMulNet(),
    tinyStackNet(),
  ];
}

// ───────────────────────────── blocks of modern classifiers ─────────────────────────────

/** Options of the modern-block models: `bias: false` drops every bias and β (for conservation tests). */
export interface ModernOptions {
  bias?: boolean;
  seed?: number;
}

/**
 * Conv → Relu → squeeze-excitation (ReduceMean over H, W kept → 1×1 Conv → Relu → 1×1 Conv →
 * Sigmoid gate → Mul with the block input, the gate broadcast over H, W) → Flatten → Gemm.
 */
export function tinySqueezeExcitationNet(o: ModernOptions = {}): TinyModel {
  const bias = o.bias ?? true;
  const b = new TinyGraphBuilder(`squeeze_excitation${bias ? '' : '_nobias'}`, [1, 2, 5, 5], o.seed ?? 141);
  const x = b.op('Relu', [b.conv(b.input, 2, 4, { bias })]);
  const pooled = b.op('ReduceMean', [x], { axes: intsAttr([2, 3]), keepdims: intAttr(1) });
  const squeezed = b.op('Relu', [b.conv(pooled, 4, 2, { kernel: [1, 1], pads: [0, 0, 0, 0], bias })]);
  const gate = b.op('Sigmoid', [b.conv(squeezed, 2, 4, { kernel: [1, 1], pads: [0, 0, 0, 0], bias })]);
  return b.finish(b.op('Mul', [x, gate]), 3, false, bias);
}

export type GatedActivation = 'silu' | 'gelu-erf' | 'gelu-tanh' | 'hardswish';

/**
 * Conv → act → Conv → act → Flatten → Gemm with an activation written out as a product of the
 * signal and a gate: SiLU x·σ(x); GELU x·½(1 + erf(x/√2)) (PyTorch's exact form) and
 * ½x·(1 + tanh(√(2/π)(x + 0.044715x³))) (its tanh form, with Pow); HardSwish x·clip(x + 3, 0, 6)/6.
 */
export function tinyGatedActivationNet(kind: GatedActivation, o: ModernOptions = {}): TinyModel {
  const bias = o.bias ?? true;
  const b = new TinyGraphBuilder(`gated_${kind}${bias ? '' : '_nobias'}`, [1, 2, 5, 5], o.seed ?? 151);
  const c = (v: number): string => b.floatConst('c', [], [v]);
  const act = (x: string): string => {
    switch (kind) {
      case 'silu': return b.op('Mul', [x, b.op('Sigmoid', [x])]);
      case 'gelu-erf': return b.op('Mul', [x, b.op('Mul', [b.op('Add', [b.op('Erf', [b.op('Div', [x, c(Math.SQRT2)])]), c(1)]), c(0.5)])]);
      case 'gelu-tanh': {
        const inner = b.op('Mul', [c(Math.sqrt(2 / Math.PI)), b.op('Add', [x, b.op('Mul', [c(0.044715), b.op('Pow', [x, c(3)])])])]);
        return b.op('Mul', [b.op('Mul', [x, c(0.5)]), b.op('Add', [c(1), b.op('Tanh', [inner])])]);
      }
      case 'hardswish': return b.op('Mul', [x, b.op('Div', [b.op('Clip', [b.op('Add', [x, c(3)]), c(0), c(6)]), c(6)])]);
    }
  };
  const y = act(b.conv(b.input, 2, 3, { bias, gain: 2 }));
  return b.finish(act(b.conv(y, 3, 3, { bias, gain: 2 })), 3, false, bias);
}

/** Conv (stride 2) → Reshape [1, C, T] → Transpose: T tokens of C features, for the token models. */
function tokens(b: TinyGraphBuilder, cin: number, channels: number, bias: boolean): { t: string; count: number } {
  const c = b.conv(b.input, cin, channels, { kernel: [2, 2], strides: [2, 2], pads: [0, 0, 0, 0], bias });
  const [, , h, w] = b.shapeOf(c) as [number, number, number, number];
  const flat = b.op('Reshape', [c, b.intConst('shape', [3], [1, channels, h * w])]);
  return { t: b.op('Transpose', [flat], { perm: intsAttr([0, 2, 1]) }), count: h * w };
}

/**
 * LayerNorm over the last axis of tokens, either the fused LayerNormalization op or written out
 * as exporters write it (ReduceMean, Sub, Pow, ReduceMean, Add ε, Sqrt, Div, Mul γ, Add β). The
 * same seed gives the same weights in both forms.
 */
function layerNorm(b: TinyGraphBuilder, x: string, d: number, form: 'fused' | 'decomposed', bias: boolean, eps = 1e-5): string {
  const gamma = b.randomRange('ln_gamma', [d], 0.5, 1.5);
  const beta = bias ? b.randomWeight('ln_beta', [d], 0.3) : b.floatConst('ln_beta', [d], new Float64Array(d));
  if (form === 'fused') return b.op('LayerNormalization', [x, gamma, beta], { axis: intAttr(-1), epsilon: floatAttr(eps) });
  const mean = b.op('ReduceMean', [x], { axes: intsAttr([-1]), keepdims: intAttr(1) });
  const centred = b.op('Sub', [x, mean]);
  const variance = b.op('ReduceMean', [b.op('Pow', [centred, b.floatConst('two', [], [2])])], { axes: intsAttr([-1]), keepdims: intAttr(1) });
  const std = b.op('Sqrt', [b.op('Add', [variance, b.floatConst('eps', [], [eps])])]);
  return b.op('Add', [b.op('Mul', [b.op('Div', [centred, std]), gamma]), beta]);
}

/** Tokens → LayerNorm (fused or decomposed) → MatMul [C, 5] → Relu → Flatten → Gemm. */
export function tinyLayerNormNet(form: 'fused' | 'decomposed', o: ModernOptions = {}): TinyModel {
  const bias = o.bias ?? true;
  const b = new TinyGraphBuilder(`layernorm_${form}${bias ? '' : '_nobias'}`, [1, 2, 6, 6], o.seed ?? 161);
  const { t } = tokens(b, 2, 6, bias);
  const n = layerNorm(b, t, 6, form, bias);
  return b.finish(b.op('Relu', [b.op('MatMul', [n, b.randomWeight('mm_w', [6, 5], 0.8)])]), 3, false, bias);
}

/** Conv → InstanceNormalization (γ, β per channel) → Relu → Conv → Flatten → Gemm. */
export function tinyInstanceNormNet(o: ModernOptions = {}): TinyModel {
  const bias = o.bias ?? true;
  const b = new TinyGraphBuilder(`instancenorm${bias ? '' : '_nobias'}`, [1, 2, 5, 5], o.seed ?? 171);
  const c = b.conv(b.input, 2, 3, { bias });
  const gamma = b.randomRange('in_gamma', [3], 0.5, 1.5);
  const beta = bias ? b.randomWeight('in_beta', [3], 0.3) : b.floatConst('in_beta', [3], [0, 0, 0]);
  const n = b.op('InstanceNormalization', [c, gamma, beta], { epsilon: floatAttr(1e-5) });
  return b.finish(b.conv(b.op('Relu', [n]), 3, 3, { bias }), 3, false, bias);
}

/**
 * A tiny vision transformer block: patch Conv → tokens → Concat with a constant class token
 * (Expand of a [1, 1, D] constant) → Add position embedding → LayerNorm → Q, K, V (MatMul by
 * constants) → 2 heads (Reshape, Transpose) → QKᵀ (MatMul of two signals) scaled → Softmax →
 * A·V (MatMul of two signals) → heads merged → MatMul → residual Add → Gather of the class token
 * → Flatten → Gemm. Without bias: no conv bias, no position embedding, β = 0, no Gemm bias.
 */
export function tinyAttentionNet(o: ModernOptions = {}): TinyModel {
  const bias = o.bias ?? true;
  const b = new TinyGraphBuilder(`attention${bias ? '' : '_nobias'}`, [1, 2, 6, 6], o.seed ?? 181);
  const D = 4, H = 2, hd = D / H;
  const { t, count } = tokens(b, 2, D, bias);
  const T = count + 1;
  const cls = b.op('Expand', [b.randomWeight('cls', [1, 1, D], 0.5), b.intConst('shape', [3], [1, 1, D])]);
  let x = b.op('Concat', [cls, t], { axis: intAttr(1) });
  if (bias) x = b.op('Add', [x, b.randomWeight('pos', [1, T, D], 0.2)]);
  const n = layerNorm(b, x, D, 'fused', bias);
  const proj = (hint: string): string => b.op('MatMul', [n, b.randomWeight(hint, [D, D], 0.9)]);
  const heads = (y: string, perm: number[]): string => b.op('Transpose', [b.op('Reshape', [y, b.intConst('shape', [4], [1, T, H, hd])])], { perm: intsAttr(perm) });
  const q = heads(proj('wq'), [0, 2, 1, 3]);
  const k = heads(proj('wk'), [0, 2, 3, 1]);
  const v = heads(proj('wv'), [0, 2, 1, 3]);
  const scores = b.op('Mul', [b.op('MatMul', [q, k]), b.floatConst('scale', [], [1 / Math.sqrt(hd)])]);
  const attn = b.op('Softmax', [scores], { axis: intAttr(-1) });
  const mixed = b.op('Transpose', [b.op('MatMul', [attn, v])], { perm: intsAttr([0, 2, 1, 3]) });
  const merged = b.op('Reshape', [mixed, b.intConst('shape', [3], [1, T, D])]);
  const out = b.op('Add', [x, b.op('MatMul', [merged, b.randomWeight('wo', [D, D], 0.9)])]);
  const clsOut = b.op('Gather', [out, b.intConst('cls_index', [], [0])], { axis: intAttr(1) });
  return b.finish(clsOut, 3, false, bias);
}

/**
 * Conv → Relu → Tile (channels twice) → Where with a constant condition between the copy and its
 * negation → reductions over channels concatenated: ReduceMax (the tiled copies tie), ReduceMin,
 * ReduceL2, ReduceSumSquare, ReduceSum (axes as an input) and ReduceMean over W without keepdims
 * (then Unsqueezed back) → Flatten → Gemm.
 */
export function tinyRoutingReduceNet(seed = 191): TinyModel {
  const b = new TinyGraphBuilder('routing_reduce', [1, 2, 4, 5], seed);
  const c = b.op('Relu', [b.conv(b.input, 2, 3)]);
  const tiled = b.op('Tile', [c, b.intConst('reps', [4], [1, 2, 1, 1])]);
  const cond = b.boolConst('cond', [1, 1, 4, 5], Array.from({ length: 20 }, () => (b.rng.next() < 0.5 ? 1 : 0)));
  const w = b.op('Where', [cond, tiled, b.op('Neg', [tiled])]);
  const over = (op: string): string => b.op(op, [w], { axes: intsAttr([1]), keepdims: intAttr(1) });
  const sum = b.op('ReduceSum', [w, b.intConst('axes', [1], [1])], { keepdims: intAttr(1) });
  const rowMean = b.op('ReduceMean', [w, ], { axes: intsAttr([1, 3]), keepdims: intAttr(0) });
  const rowMap = b.op('Expand', [b.op('Unsqueeze', [rowMean, b.intConst('axes', [2], [1, 3])]), b.intConst('shape', [4], [1, 1, 4, 5])]);
  return b.finish(b.op('Concat', [over('ReduceMax'), over('ReduceMin'), over('ReduceL2'), over('ReduceSumSquare'), sum, rowMap], { axis: intAttr(1) }));
}

/**
 * Elementwise functions of a signal on safe ranges, summed: Exp(x/2), Log(|x| + 1), Sqrt(|x| + ¼),
 * Reciprocal(|x| + 1), Neg(Softplus(x)), Elu, Sin, Cos, LogSoftmax over channels, Identity, Cast to
 * float and Dropout, and x times its channel mean (a product of two signals, neither a gate, one
 * broadcast: LRP's uniform rule) → Relu → Flatten → Gemm.
 */
export function tinyUnaryNet(seed = 201): TinyModel {
  const b = new TinyGraphBuilder('unary', [1, 2, 4, 4], seed);
  const c = b.conv(b.input, 2, 3);
  const k = (v: number): string => b.floatConst('c', [], [v]);
  const a = b.op('Abs', [c]);
  const terms = [
    b.op('Exp', [b.op('Mul', [c, k(0.5)])]),
    b.op('Log', [b.op('Add', [a, k(1)])]),
    b.op('Sqrt', [b.op('Add', [a, k(0.25)])]),
    b.op('Reciprocal', [b.op('Add', [a, k(1)])]),
    b.op('Neg', [b.op('Softplus', [c])]),
    b.op('Elu', [c], { alpha: floatAttr(0.7) }),
    b.op('Sin', [c]),
    b.op('Cos', [c]),
    b.op('Dropout', [b.op('Cast', [b.op('Identity', [c])], { to: intAttr(1) })]),
    b.op('LogSoftmax', [c], { axis: intAttr(1) }),
    b.op('Mul', [c, b.op('ReduceMean', [c], { axes: intsAttr([1]), keepdims: intAttr(1) })]),
  ];
  return b.finish(b.op('Relu', [b.op('Sum', terms)]));
}

/**
 * Conv → Gelu (the opset-20 op; `approximate` 'none' or 'tanh') → Conv → GroupNormalization (2
 * groups of 2 channels; opset 21: γ, β per channel) → Relu → Flatten → Gemm, encoded at opset 21.
 * The importer writes both ops out in opset-17 ops (src/onnx/lower.ts); `graph` keeps them fused,
 * so the eager reference computes them directly.
 */
export function tinyFusedOpsNet(approximate: 'none' | 'tanh', seed = 211): TinyModel {
  const b = new TinyGraphBuilder(`fused_gelu_${approximate}_groupnorm`, [1, 2, 5, 5], seed);
  const g = b.op('Gelu', [b.conv(b.input, 2, 4, { gain: 2 })], { approximate: { type: 'string', value: approximate } });
  const c = b.conv(g, 4, 4);
  const n = b.op('GroupNormalization', [c, b.randomRange('gn_gamma', [4], 0.5, 1.5), b.randomWeight('gn_beta', [4], 0.3)], { num_groups: intAttr(2), epsilon: floatAttr(1e-5) });
  const m = b.finish(b.op('Relu', [n]));
  return { ...m, bytes: encodeModel(m.graph, 'backlight-tests', 21) };
}

/**
 * Powers: x^1 and x^2.5 of a positive signal, and a constant base raised to a signal (1.5^(x/3)),
 * summed → Relu → Flatten → Gemm. LRP refuses the input-dependent exponent, so this model is for
 * the gradient family only.
 */
export function tinyPowNet(seed = 221): TinyModel {
  const b = new TinyGraphBuilder('pow', [1, 2, 4, 4], seed);
  const c = b.conv(b.input, 2, 3);
  const k = (v: number): string => b.floatConst('c', [], [v]);
  const positive = b.op('Add', [b.op('Abs', [c]), k(0.5)]);
  const terms = [b.op('Pow', [c, k(1)]), b.op('Pow', [positive, k(2.5)]), b.op('Pow', [k(1.5), b.op('Div', [c, k(3)])])];
  return b.finish(b.op('Relu', [b.op('Sum', terms)]));
}

/** Local response normalization across channels (old zoo models): two LRNs (onnxruntime takes odd sizes only). */
export function tinyLrnNet(seed = 223): TinyModel {
  const b = new TinyGraphBuilder('lrn', [1, 2, 4, 4], seed);
  const c = b.conv(b.input, 2, 5);
  const lrn = (x: string, size: number, bias: number): string =>
    b.op('LRN', [x], { size: intAttr(size), alpha: floatAttr(0.3), beta: floatAttr(0.75), bias: floatAttr(bias) });
  const first = lrn(b.op('Relu', [c]), 3, 1);
  return b.finish(b.op('Relu', [lrn(b.conv(first, 5, 4), 5, 2)]));
}

/** Every model of the blocks above (with biases), for the reference's own checks. */
export function modernTinyModels(): TinyModel[] {
  return [
    tinySqueezeExcitationNet(),
    ...(['silu', 'gelu-erf', 'gelu-tanh', 'hardswish'] as const).map((k) => tinyGatedActivationNet(k)),
    tinyLayerNormNet('fused'),
    tinyLayerNormNet('decomposed'),
    tinyInstanceNormNet(),
    tinyAttentionNet(),
    tinyRoutingReduceNet(),
    tinyUnaryNet(),
    tinyFusedOpsNet('none'),
    tinyFusedOpsNet('tanh'),
    tinyLrnNet(),
  ];
}
