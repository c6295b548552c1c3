/**
 * A tiny fluent builder that appends IR nodes and seeded random initializers to a `Graph`:
 *
 *   const b = new GraphBuilder('net', { seed: 1, init: { kind: 'he' } });
 *   const logits = b.input('input', [3, 32, 32]).conv({ filters: 16, kernel: 3, pad: 1 }).relu()
 *     .globalAveragePool().flatten().gemm({ units: 10 });
 *   b.output(logits, 'logits');
 *
 * Every value carries its static shape without the batch dimension, so layers compute fan-ins and
 * Flatten sizes themselves. Weights are named as PyTorch names them (`conv1.weight`, `fc.bias`).
 */
import { intAttr, intsAttr, floatAttr, type Attr, type Graph } from '../ir/graph.js';
import type { Tensor } from '../ir/tensor.js';
import { Rng } from './random.js';

/** How weights are drawn. */
export type Init =
  /** Normal with standard deviation `std`, redrawn outside ±2 std (the saliency papers' setting). */
  | { kind: 'truncated-normal'; std: number }
  /** He (Kaiming) normal: N(0, 2 / fan_in). */
  | { kind: 'he' };

/** Biases start at zero (PyTorch's and the papers' usual choice) or are drawn like the weights. */
export type BiasInit = 'zero' | 'random';

export interface BuilderOptions {
  seed: number;
  init: Init;
  /** Default for layers that do not say; 'zero' unless given. */
  bias?: BiasInit;
}

export interface ConvOptions {
  filters: number;
  /** Square kernel size. */
  kernel: number;
  stride?: number;
  /** Symmetric padding on every spatial side. */
  pad?: number;
  groups?: number;
  /** false: no bias input (Conv followed by BatchNormalization). */
  bias?: boolean | BiasInit;
  name?: string;
}

export interface PoolOptions {
  kernel: number;
  /** Defaults to the kernel size. */
  stride?: number;
  pad?: number;
  name?: string;
}

export interface GemmOptions {
  units: number;
  bias?: boolean | BiasInit;
  name?: string;
}

/** A tensor in the graph under construction, with its shape without the batch dimension. */
export class Value {
  constructor(
    readonly builder: GraphBuilder,
    readonly name: string,
    readonly shape: readonly number[],
  ) {}

  conv(o: ConvOptions): Value { return this.builder.conv(this, o); }
  relu(name?: string): Value { return this.builder.relu(this, name); }
  maxPool(o: PoolOptions): Value { return this.builder.maxPool(this, o); }
  batchNorm(name?: string): Value { return this.builder.batchNorm(this, name); }
  add(other: Value, name?: string): Value { return this.builder.add(this, other, name); }
  globalAveragePool(name?: string): Value { return this.builder.globalAveragePool(this, name); }
  flatten(name?: string): Value { return this.builder.flatten(this, name); }
  gemm(o: GemmOptions): Value { return this.builder.gemm(this, o); }
}

export class GraphBuilder {
  readonly graph: Graph;
  readonly rng: Rng;
  readonly init: Init;
  readonly bias: BiasInit;
  private readonly counts = new Map<string, number>();
  private readonly names = new Set<string>();

  constructor(name: string, o: BuilderOptions) {
    this.graph = { name, inputs: [], outputs: [], nodes: [], initializers: new Map(), values: new Map() };
    this.rng = new Rng(o.seed);
    this.init = o.init;
    this.bias = o.bias ?? 'zero';
  }

  /** Declares a float32 graph input of shape ['batch', ...shape]. */
  input(name: string, shape: readonly number[]): Value {
    this.claim(name);
    this.graph.inputs.push({ name, dtype: 'float32', shape: ['batch', ...shape] });
    return new Value(this, name, [...shape]);
  }

  /** Makes `v` a graph output named `name` (renaming the tensor its producer writes). */
  output(v: Value, name: string): Value {
    if (v.name !== name) {
      this.claim(name);
      for (const n of this.graph.nodes) {
        n.inputs = n.inputs.map((i) => (i === v.name ? name : i));
        n.outputs = n.outputs.map((o) => (o === v.name ? name : o));
      }
    }
    this.graph.outputs.push({ name, dtype: 'float32', shape: ['batch', ...v.shape] });
    return new Value(this, name, v.shape);
  }

  conv(x: Value, o: ConvOptions): Value {
    const [c, h, w] = spatial(x, 'Conv');
    const stride = o.stride ?? 1;
    const pad = o.pad ?? 0;
    const groups = o.groups ?? 1;
    if (c % groups !== 0 || o.filters % groups !== 0) {
      throw new Error(`Conv: ${c} input channels and ${o.filters} filters must both divide into ${groups} groups`);
    }
    const outH = Math.floor((h + 2 * pad - o.kernel) / stride) + 1;
    const outW = Math.floor((w + 2 * pad - o.kernel) / stride) + 1;
    if (outH < 1 || outW < 1) throw new Error(`Conv: a ${o.kernel}×${o.kernel} kernel does not fit a ${h}×${w} input with padding ${pad}`);
    const name = this.layerName(o.name, 'conv');
    const fanIn = (c / groups) * o.kernel * o.kernel;
    const inputs = [x.name, this.weight(`${name}.weight`, [o.filters, c / groups, o.kernel, o.kernel], fanIn)];
    const bias = this.biasKind(o.bias);
    if (bias) inputs.push(this.biasTensor(`${name}.bias`, o.filters, fanIn, bias));
    return this.node('Conv', name, inputs, [o.filters, outH, outW], {
      dilations: intsAttr([1, 1]),
      group: intAttr(groups),
      kernel_shape: intsAttr([o.kernel, o.kernel]),
      pads: intsAttr([pad, pad, pad, pad]),
      strides: intsAttr([stride, stride]),
    });
  }

  relu(x: Value, name?: string): Value {
    return this.node('Relu', this.layerName(name, 'relu'), [x.name], x.shape);
  }

  maxPool(x: Value, o: PoolOptions): Value {
    const [c, h, w] = spatial(x, 'MaxPool');
    const stride = o.stride ?? o.kernel;
    const pad = o.pad ?? 0;
    const outH = Math.floor((h + 2 * pad - o.kernel) / stride) + 1;
    const outW = Math.floor((w + 2 * pad - o.kernel) / stride) + 1;
    if (outH < 1 || outW < 1) throw new Error(`MaxPool: a ${o.kernel}×${o.kernel} window does not fit a ${h}×${w} input`);
    return this.node('MaxPool', this.layerName(o.name, 'maxpool'), [x.name], [c, outH, outW], {
      kernel_shape: intsAttr([o.kernel, o.kernel]),
      pads: intsAttr([pad, pad, pad, pad]),
      strides: intsAttr([stride, stride]),
    });
  }

  /**
   * Inference-mode BatchNormalization over the channel axis with random statistics: gamma in
   * [0.5, 1.5), beta and running mean N(0, 0.1²), running variance in [0.5, 1.5) (always positive).
   */
  batchNorm(x: Value, name?: string): Value {
    const c = x.shape[0];
    if (c === undefined) throw new Error('BatchNormalization: the input has no channel axis');
    const n = this.layerName(name, 'bn');
    const rng = this.rng;
    const gamma = this.tensor(`${n}.weight`, [c], rng.fillUniform(new Float32Array(c), 0.5, 1.5));
    const beta = this.tensor(`${n}.bias`, [c], rng.fillNormal(new Float32Array(c), 0.1));
    const mean = this.tensor(`${n}.running_mean`, [c], rng.fillNormal(new Float32Array(c), 0.1));
    const variance = this.tensor(`${n}.running_var`, [c], rng.fillUniform(new Float32Array(c), 0.5, 1.5));
    return this.node('BatchNormalization', n, [x.name, gamma, beta, mean, variance], x.shape, {
      epsilon: floatAttr(1e-5),
      momentum: floatAttr(0.9),
    });
  }

  add(a: Value, b: Value, name?: string): Value {
    if (a.shape.length !== b.shape.length || a.shape.some((d, i) => d !== b.shape[i])) {
      throw new Error(`Add: shapes [${a.shape}] and [${b.shape}] differ`);
    }
    return this.node('Add', this.layerName(name, 'add'), [a.name, b.name], a.shape);
  }

  globalAveragePool(x: Value, name?: string): Value {
    const [c] = spatial(x, 'GlobalAveragePool');
    return this.node('GlobalAveragePool', this.layerName(name, 'gap'), [x.name], [c, 1, 1]);
  }

  /** Flatten with axis 1: [batch, ...] → [batch, product]. */
  flatten(x: Value, name?: string): Value {
    const size = x.shape.reduce((p, d) => p * d, 1);
    return this.node('Flatten', this.layerName(name, 'flatten'), [x.name], [size], { axis: intAttr(1) });
  }

  /** A dense layer as PyTorch exports nn.Linear: Gemm(x, W[units, in], b) with transB = 1. */
  gemm(x: Value, o: GemmOptions): Value {
    if (x.shape.length !== 1) throw new Error(`Gemm: the input must be [batch, features], got [batch, ${x.shape}]; flatten it first`);
    const fanIn = x.shape[0]!;
    const name = this.layerName(o.name, 'fc');
    const inputs = [x.name, this.weight(`${name}.weight`, [o.units, fanIn], fanIn)];
    const bias = this.biasKind(o.bias);
    if (bias) inputs.push(this.biasTensor(`${name}.bias`, o.units, fanIn, bias));
    return this.node('Gemm', name, inputs, [o.units], {
      alpha: floatAttr(1),
      beta: floatAttr(1),
      transB: intAttr(1),
    });
  }

  private node(op: string, name: string, inputs: string[], shape: readonly number[], attrs: Record<string, Attr> = {}): Value {
    // The node and its single output share the layer's name (ONNX keeps node and tensor names apart).
    this.graph.nodes.push({ name, op, domain: '', inputs, outputs: [name], attrs });
    return new Value(this, name, [...shape]);
  }

  private weight(name: string, dims: number[], fanIn: number): string {
    const data = new Float32Array(dims.reduce((p, d) => p * d, 1));
    if (this.init.kind === 'he') this.rng.fillHe(data, fanIn);
    else this.rng.fillTruncatedNormal(data, this.init.std);
    return this.tensor(name, dims, data);
  }

  private biasTensor(name: string, n: number, fanIn: number, kind: BiasInit): string {
    if (kind === 'zero') return this.tensor(name, [n], new Float32Array(n));
    return this.weight(name, [n], fanIn);
  }

  private biasKind(b: boolean | BiasInit | undefined): BiasInit | undefined {
    if (b === false) return undefined;
    if (b === undefined || b === true) return this.bias;
    return b;
  }

  private tensor(name: string, dims: number[], data: Float32Array): string {
    this.claim(name);
    const t: Tensor = { dtype: 'float32', dims, data };
    this.graph.initializers.set(name, t);
    return name;
  }

  private layerName(given: string | undefined, prefix: string): string {
    if (given !== undefined) {
      this.claim(given);
      return given;
    }
    let k = this.counts.get(prefix) ?? 0;
    let name: string;
    do name = `${prefix}${++k}`;
    while (this.names.has(name));
    this.counts.set(prefix, k);
    this.claim(name);
    return name;
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`GraphBuilder: the name '${name}' is already used`);
    this.names.add(name);
  }
}

function spatial(x: Value, op: string): [number, number, number] {
  if (x.shape.length !== 3) throw new Error(`${op}: the input must be [batch, C, H, W], got [batch, ${x.shape}]`);
  return [x.shape[0]!, x.shape[1]!, x.shape[2]!];
}
