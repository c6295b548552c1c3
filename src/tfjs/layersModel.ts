/**
 * A TF.js layers model (Keras topology, sequential or functional, as Keras 2, Keras 3 and tfjs's
 * `model.save` write it) → graph IR.
 *
 * Layout: the model's input stays NHWC, as its users feed it. Inside, 4-D tensors are kept NCHW
 * (the IR's Conv, pools and BatchNormalization are channel-first): a Transpose is emitted where a
 * 4-D tensor first meets a channel-first layer (once, after the input) and back where a layer needs
 * Keras's own element order (Reshape, Flatten, Dense on 4-D tensors, the output). Weights are
 * converted once: HWIO → OIHW, depthwise kernels → group convolutions. TF "SAME" padding puts the
 * odd extra row/column at the bottom/right: explicit pads are computed from the static input size
 * (ONNX's SAME_UPPER, resolved at specialization, where the size is not static).
 * Design notes: docs/design/tfjs.md
 */
import { BacklightError, escapeControl } from '../errors.js';
import { floatAttr, intAttr, intsAttr, stringAttr, type Attr, type Dim, type Graph, type Node } from '../ir/graph.js';
import { float32, int64, type Tensor } from '../ir/tensor.js';
import { checkGraph } from '../onnx/validate.js';
import { depthwiseToOihw, hwioToOihw, NCHW_TO_NHWC, NHWC_TO_NCHW } from './layout.js';
import type { TfWeight } from './weights.js';

/** Layer classes the importer translates (README "TF.js models" lists them). */
export const SUPPORTED_LAYERS: readonly string[] = [
  'InputLayer', 'Conv2D', 'DepthwiseConv2D', 'SeparableConv2D', 'Dense', 'BatchNormalization', 'Activation', 'ReLU',
  'LeakyReLU', 'ELU', 'Softmax', 'Add', 'Subtract', 'Multiply', 'Average', 'Concatenate', 'MaxPooling2D', 'AveragePooling2D',
  'GlobalAveragePooling2D', 'GlobalMaxPooling2D', 'ZeroPadding2D', 'Cropping2D', 'Reshape', 'Flatten', 'Rescaling',
  'Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout',
];

/** Activation names (Activation layers and the `activation` of Conv/Dense layers). */
export const SUPPORTED_ACTIVATIONS: readonly string[] = [
  'linear', 'relu', 'relu6', 'sigmoid', 'hard_sigmoid', 'swish', 'silu', 'tanh', 'softmax', 'elu', 'selu', 'softplus', 'exponential',
];

/** Identity at inference. */
const NOISE = new Set(['Dropout', 'SpatialDropout2D', 'GaussianNoise', 'GaussianDropout', 'AlphaDropout']);

type Config = Record<string, unknown>;
type Shape = (number | null)[];
/** A reference to a layer call's output: [layer name, node index, tensor index]. */
type Ref = [string, number, number];

interface Layer {
  className: string;
  name: string;
  config: Config;
  /** The inputs of each call of the layer. */
  calls: Ref[][];
}

/** A Keras tensor as emitted: its IR name, its Keras shape, and whether the IR holds it NCHW. */
interface Value {
  name: string;
  shape: Shape;
  nchw: boolean;
}

const isObject = (v: unknown): v is Config => typeof v === 'object' && v !== null && !Array.isArray(v);

export interface LayersImportOptions {
  /**
   * The layout of a 4-D model input: 'nhwc' (default) keeps Keras's, as the model's users feed it;
   * 'nchw' takes the input channel-first (the Transpose after the input is left out), for tools
   * that feed NCHW (backlight eval).
   */
  inputLayout?: 'nhwc' | 'nchw';
}

/** Imports a layers model; `weights` come from readWeights. */
export function importLayersModel(topology: Config, weights: Map<string, TfWeight>, source = 'model.json', options: LayersImportOptions = {}): Graph {
  const { layers, inputs, outputs, name } = readTopology(topology, source);
  checkClasses(layers, source);
  const b = new LayersBuilder(weights, source);
  if (inputs.length !== 1) {
    throw new BacklightError(`${source}: the model has ${inputs.length} inputs (${inputs.map((r) => r[0]).join(', ')}); Backlight explains models with exactly one image input`);
  }
  if (outputs.length !== 1) {
    throw new BacklightError(`${source}: the model has ${outputs.length} outputs (${outputs.map((r) => r[0]).join(', ')}); Backlight explains models with one output`);
  }
  const byName = new Map(layers.map((l) => [l.name, l]));
  const inputLayer = byName.get(inputs[0]![0]);
  if (!inputLayer || inputLayer.className !== 'InputLayer') throw new BacklightError(`${source}: the model input '${escapeControl(inputs[0]![0])}' is not an InputLayer`);
  const inputShape = inputShapeOf(inputLayer, source);
  const inputName = inputLayer.name;
  const values = new Map<string, Value>();
  const key = (r: Ref): string => `${r[0]}\u0000${r[1]}\u0000${r[2]}`;
  const nchwInput = options.inputLayout === 'nchw' && inputShape.length === 4;
  values.set(key([inputName, 0, 0]), { name: inputName, shape: inputShape, nchw: nchwInput });

  const moved = softmaxBeforeReshape(layers, outputs[0]!, byName);
  let deferred = moved?.layer;
  // Calls run once their inputs exist (the layer list is usually, but not always, in order).
  const pending: { layer: Layer; index: number }[] = layers.flatMap((layer) => (layer.className === 'InputLayer' ? [] : layer.calls.map((_, index) => ({ layer, index }))));
  while (pending.length > 0) {
    const at = pending.findIndex(({ layer, index }) => layer.calls[index]!.every((r) => values.has(key(r))));
    if (at < 0) {
      const { layer, index } = pending[0]!;
      const missing = layer.calls[index]!.find((r) => !values.has(key(r)))!;
      throw new BacklightError(`${source}: layer '${escapeControl(layer.name)}' (${escapeControl(layer.className)}) reads '${escapeControl(missing[0])}', which no layer of the model computes (or a cycle)`);
    }
    const { layer, index } = pending.splice(at, 1)[0]!;
    const ins = layer.calls[index]!.map((r) => values.get(key(r))!);
    let out: Value;
    if (layer === deferred && commutes(ins[0]!.shape, moved!.lastDim)) out = ins[0]!;
    else {
      if (layer === deferred) deferred = undefined;
      out = b.layer(layer, ins, index);
    }
    values.set(key([layer.name, index, 0]), out);
  }
  const last = values.get(key(outputs[0]!));
  if (!last) throw new BacklightError(`${source}: the model output '${escapeControl(outputs[0]![0])}' is not computed by any layer`);
  let out = b.keras(last);
  if (deferred) out = b.softmax(out, -1, deferred.name);
  if (out.name === inputName) throw new BacklightError(`${source}: the model output is its input; nothing to explain`);

  const symbolic = (s: Shape): Dim[] => s.map((d, i) => (d === null ? (i === 0 ? 'N' : `dim${i}`) : d));
  const graph: Graph = {
    name,
    inputs: [{ name: inputName, dtype: 'float32', shape: symbolic(nchwInput ? NHWC_TO_NCHW.map((a) => inputShape[a]!) : inputShape) }],
    outputs: [{ name: out.name, dtype: 'float32', shape: symbolic(out.shape) }],
    nodes: b.nodes,
    initializers: b.initializers,
    values: new Map(),
  };
  checkGraph(graph, source);
  return graph;
}

// ───────────────────────────── topology ─────────────────────────────

function readTopology(topology: Config, source: string): { layers: Layer[]; inputs: Ref[]; outputs: Ref[]; name: string } {
  const model = isObject(topology.model_config) ? topology.model_config : topology;
  const cls = model.class_name;
  const config = model.config;
  if (cls === 'Sequential') return readSequential(config, source);
  if (cls !== 'Model' && cls !== 'Functional') {
    throw new BacklightError(`${source}: modelTopology holds a '${escapeControl(String(cls))}', expected a Keras Sequential, Model or Functional model`);
  }
  if (!isObject(config) || !Array.isArray(config.layers)) throw new BacklightError(`${source}: the model config has no 'layers' list`);
  const layers = config.layers.map((l, i) => readLayer(l, i, source, false));
  return { layers, inputs: refs(config.input_layers, 'input_layers', source), outputs: refs(config.output_layers, 'output_layers', source), name: String(config.name ?? 'model') };
}

function readSequential(config: unknown, source: string): { layers: Layer[]; inputs: Ref[]; outputs: Ref[]; name: string } {
  // Keras < 2.2.3 wrote the layer list itself; later versions {name, layers}.
  const list = Array.isArray(config) ? config : isObject(config) && Array.isArray(config.layers) ? config.layers : null;
  if (!list || list.length === 0) throw new BacklightError(`${source}: the Sequential model has no layers`);
  const layers = list.map((l, i) => readLayer(l, i, source, true));
  if (layers[0]!.className !== 'InputLayer') {
    // The first layer carries the input shape (batch_input_shape / batch_shape).
    const first = layers[0]!;
    const shape = first.config.batch_input_shape ?? first.config.batch_shape;
    if (!Array.isArray(shape)) throw new BacklightError(`${source}: the Sequential model's first layer '${escapeControl(first.name)}' has no batch_input_shape`);
    layers.unshift({ className: 'InputLayer', name: uniqueName('input', layers), config: { batch_input_shape: shape }, calls: [] });
  }
  for (let i = 1; i < layers.length; i++) layers[i]!.calls = [[[layers[i - 1]!.name, 0, 0]]];
  const name = isObject(config) ? String(config.name ?? 'sequential') : 'sequential';
  return { layers, inputs: [[layers[0]!.name, 0, 0]], outputs: [[layers.at(-1)!.name, 0, 0]], name };
}

const uniqueName = (base: string, layers: Layer[]): string => {
  let name = base;
  for (let k = 1; layers.some((l) => l.name === name); k++) name = `${base}_${k}`;
  return name;
};

function readLayer(l: unknown, i: number, source: string, sequential: boolean): Layer {
  if (!isObject(l) || typeof l.class_name !== 'string' || !isObject(l.config)) {
    throw new BacklightError(`${source}: layer ${i} is not an object {class_name, config}`);
  }
  const name = typeof l.config.name === 'string' ? l.config.name : typeof l.name === 'string' ? l.name : `layer_${i}`;
  const calls = sequential ? [] : readInbound(l.inbound_nodes, `${source}: layer '${escapeControl(name)}' (${escapeControl(l.class_name)})`);
  return { className: l.class_name, name, config: l.config, calls };
}

/** Keras 2 / tfjs: [[[layer, node, tensor, kwargs], …], …]; Keras 3: [{args: [keras tensors], kwargs}, …]. */
function readInbound(nodes: unknown, where: string): Ref[][] {
  if (nodes === undefined) return [];
  if (!Array.isArray(nodes)) throw new BacklightError(`${where}: 'inbound_nodes' must be a list`);
  return nodes.map((node) => {
    if (Array.isArray(node)) return node.map((r) => ref(r, where));
    if (isObject(node)) {
      const found: Ref[] = [];
      const walk = (v: unknown): void => {
        if (Array.isArray(v)) v.forEach(walk);
        else if (isObject(v)) {
          const history = isObject(v.config) ? v.config.keras_history : undefined;
          if (v.class_name === '__keras_tensor__' && history !== undefined) found.push(ref(history, where));
          else Object.values(v).forEach(walk);
        }
      };
      walk(node.args);
      return found;
    }
    throw new BacklightError(`${where}: an inbound node is neither a list nor {args, kwargs}`);
  });
}

function ref(r: unknown, where: string): Ref {
  if (!Array.isArray(r) || typeof r[0] !== 'string' || !Number.isInteger(r[1] ?? 0) || !Number.isInteger(r[2] ?? 0)) {
    throw new BacklightError(`${where}: a layer reference must be [layer name, node index, tensor index]`);
  }
  return [r[0], (r[1] as number | undefined) ?? 0, (r[2] as number | undefined) ?? 0];
}

function refs(v: unknown, field: string, source: string): Ref[] {
  if (!Array.isArray(v)) throw new BacklightError(`${source}: the model config has no '${field}' list`);
  // Keras 3 writes a single input as [name, node, tensor] rather than a list of them.
  return typeof v[0] === 'string' ? [ref(v, `${source}: ${field}`)] : v.map((r) => ref(r, `${source}: ${field}`));
}

function inputShapeOf(layer: Layer, source: string): Shape {
  const s = layer.config.batch_input_shape ?? layer.config.batch_shape;
  if (!Array.isArray(s) || !s.every((d) => d === null || (Number.isInteger(d) && (d as number) > 0))) {
    throw new BacklightError(`${source}: input layer '${escapeControl(layer.name)}' has no batch_input_shape [null, …] of positive integers`);
  }
  return s as Shape;
}

/** One line naming every unsupported layer class with its count and first layer. */
function checkClasses(layers: Layer[], source: string): void {
  const bad = new Map<string, Layer[]>();
  for (const l of layers) if (!SUPPORTED_LAYERS.includes(l.className)) bad.set(l.className, [...(bad.get(l.className) ?? []), l]);
  if (bad.size === 0) return;
  const list = [...bad].map(([c, ls]) => `${escapeControl(c)} (${ls.length === 1 ? `layer '${escapeControl(ls[0]!.name)}'` : `${ls.length} layers, first '${escapeControl(ls[0]!.name)}'`})`);
  const what = bad.size === 1 ? `layer class ${list[0]} is not supported` : `${bad.size} layer classes are not supported: ${list.join(', ')}`;
  throw new BacklightError(`${source}: ${what}; supported: ${SUPPORTED_LAYERS.join(', ')}`);
}

/**
 * A softmax layer whose output only reaches the model output through Reshape/Flatten layers that
 * keep its last axis (MobileNet's [1,1,1000] softmax, then Reshape [1000]): it is moved to the end,
 * where canonicalization removes a trailing softmax as for ONNX models. The values are the same
 * (a softmax over the last axis commutes with reshapes that keep it).
 */
function softmaxBeforeReshape(layers: Layer[], output: Ref, byName: Map<string, Layer>): { layer: Layer; lastDim: number | 'flatten' } | undefined {
  const readers = (name: string): Layer[] => layers.filter((l) => l.calls.some((c) => c.some((r) => r[0] === name)));
  let at = byName.get(output[0]);
  let lastDim: unknown;
  const chain: Layer[] = [];
  while (at && (at.className === 'Reshape' || at.className === 'Flatten') && at.calls.length === 1) {
    chain.push(at);
    at = byName.get(at.calls[0]![0]![0]);
  }
  if (!at || chain.length === 0 || at.calls.length !== 1) return undefined;
  const isSoftmax = (at.className === 'Activation' && at.config.activation === 'softmax') || (at.className === 'Softmax' && [undefined, -1].includes(at.config.axis as number));
  if (!isSoftmax) return undefined;
  // Every layer of the chain is read by the next one only, and keeps the last axis.
  for (let i = chain.length - 1; i >= 0; i--) {
    const l = chain[i]!;
    const rs = readers(i === chain.length - 1 ? at.name : chain[i + 1]!.name);
    if (rs.length !== 1 || rs[0] !== l) return undefined;
    if (l.className === 'Reshape') {
      const t = l.config.target_shape;
      if (!Array.isArray(t)) return undefined;
      lastDim = t.at(-1);
    } else lastDim = 'flatten';
  }
  if (readers(chain[0]!.name).length > 0) return undefined;
  if (lastDim !== 'flatten' && !(typeof lastDim === 'number' && lastDim > 0)) return undefined;
  return { layer: at, lastDim };
}

/** Whether reshaping a softmax's input of Keras shape `shape` to a last axis of `lastDim` keeps its rows. */
function commutes(shape: Shape, lastDim: number | 'flatten'): boolean {
  const rest = shape.slice(1);
  if (rest.some((d) => d === null) || rest.length === 0) return false;
  const k = rest.at(-1) as number;
  return lastDim === 'flatten' ? (rest as number[]).every((d, i) => i === rest.length - 1 || d === 1) : lastDim === k;
}

// ───────────────────────────── emission ─────────────────────────────


class LayersBuilder {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Tensor>();
  private readonly used = new Set<string>();

  constructor(
    private readonly weights: Map<string, TfWeight>,
    private readonly source: string,
  ) {}

  private fail(layer: Layer, detail: string): never {
    throw new BacklightError(`${this.source}: layer '${escapeControl(layer.name)}' (${escapeControl(layer.className)}): ${detail}`);
  }

  private fresh(base: string): string {
    let name = base;
    for (let k = 2; this.used.has(name); k++) name = `${base}#${k}`;
    this.used.add(name);
    return name;
  }

  op(op: string, inputs: string[], attrs: Record<string, Attr>, name: string): string {
    const node = this.fresh(name);
    this.nodes.push({ name: node, op, domain: '', inputs, outputs: [node], attrs });
    return node;
  }

  init(name: string, t: Tensor): string {
    const n = this.fresh(name);
    this.initializers.set(n, t);
    return n;
  }

  /** Each tensor transposed once, however many layers read it in the other layout. */
  private readonly transposed = new Map<string, Value>();

  /** The value as Keras holds it (NHWC for 4-D tensors). */
  keras(v: Value): Value {
    if (!v.nchw) return v;
    let t = this.transposed.get(v.name);
    if (!t) this.transposed.set(v.name, (t = { name: this.op('Transpose', [v.name], { perm: intsAttr([...NCHW_TO_NHWC]) }, `${v.name}/nhwc`), shape: v.shape, nchw: false }));
    return t;
  }

  /** A 4-D value channel-first. */
  nchw(v: Value, layer: Layer): Value {
    if (v.nchw) return v;
    if (v.shape.length !== 4) this.fail(layer, `expected a 4-D input [batch, height, width, channels], got rank ${v.shape.length}`);
    let t = this.transposed.get(v.name);
    if (!t) this.transposed.set(v.name, (t = { name: this.op('Transpose', [v.name], { perm: intsAttr([...NHWC_TO_NCHW]) }, `${v.name}/nchw`), shape: v.shape, nchw: true }));
    return t;
  }

  /** The IR axis of Keras axis `axis` of `v`. */
  private axis(v: Value, axis: number, layer: Layer): number {
    const rank = v.shape.length;
    const a = axis < 0 ? axis + rank : axis;
    if (a <= 0 || a >= rank) this.fail(layer, `axis ${axis} is out of range for a rank-${rank} input (the batch axis cannot be used)`);
    return v.nchw ? (NHWC_TO_NCHW as readonly number[]).indexOf(a) : a;
  }

  private weight(layer: Layer, w: string, shape?: number[]): TfWeight {
    let found = this.weights.get(`${layer.name}/${w}`);
    if (!found) {
      // Some converters prefix the model's name: 'model/conv1/kernel'.
      const suffix = `/${layer.name}/${w}`;
      const matches = [...this.weights.keys()].filter((k) => k.endsWith(suffix));
      if (matches.length === 1) found = this.weights.get(matches[0]!);
    }
    if (!found) this.fail(layer, `weight '${escapeControl(`${layer.name}/${w}`)}' is not in the weights manifest`);
    if (found.dtype !== 'float32') this.fail(layer, `weight '${escapeControl(found.name)}' is ${found.dtype}, expected float32`);
    if (shape && (found.shape.length !== shape.length || found.shape.some((d, i) => d !== shape[i]))) {
      this.fail(layer, `weight '${escapeControl(found.name)}' has shape [${found.shape.join(', ')}], expected [${shape.join(', ')}]`);
    }
    return found;
  }

  private str(layer: Layer, key: string, fallback: string): string {
    const v = layer.config[key] ?? fallback;
    if (typeof v !== 'string') this.fail(layer, `'${key}' must be a string`);
    return v;
  }

  /** A pair of positive integers: Keras writes [a, b] or a single a. */
  private pair(layer: Layer, key: string, fallback?: [number, number]): [number, number] {
    const v = layer.config[key] ?? fallback;
    const p = typeof v === 'number' ? [v, v] : v;
    if (!Array.isArray(p) || p.length !== 2 || !p.every((x) => Number.isInteger(x) && x > 0)) this.fail(layer, `'${key}' must be two positive integers`);
    return p as [number, number];
  }

  private channelsLast(layer: Layer): void {
    const f = layer.config.data_format ?? 'channels_last';
    if (f !== 'channels_last') this.fail(layer, `data_format '${escapeControl(String(f))}' is not supported (only channels_last, TF.js's default)`);
  }

  layer(layer: Layer, ins: Value[], call: number): Value {
    const c = layer.config;
    const one = (): Value => {
      if (ins.length !== 1) this.fail(layer, `expected one input, got ${ins.length}`);
      return ins[0]!;
    };
    const tag = call === 0 ? layer.name : `${layer.name}@${call}`;
    if (NOISE.has(layer.className)) return one();
    switch (layer.className) {
      case 'Conv2D': return this.activation(layer, this.conv(layer, one(), tag), this.str(layer, 'activation', 'linear'), tag);
      case 'DepthwiseConv2D': return this.activation(layer, this.depthwise(layer, one(), tag), this.str(layer, 'activation', 'linear'), tag);
      case 'SeparableConv2D': return this.activation(layer, this.separable(layer, one(), tag), this.str(layer, 'activation', 'linear'), tag);
      case 'Dense': return this.activation(layer, this.dense(layer, one(), tag), this.str(layer, 'activation', 'linear'), tag);
      case 'BatchNormalization': return this.batchNorm(layer, one(), tag);
      case 'Activation': return this.activation(layer, one(), this.str(layer, 'activation', 'linear'), tag);
      case 'ReLU': return this.relu(layer, one(), tag);
      case 'LeakyReLU': {
        const alpha = c.negative_slope ?? c.alpha ?? 0.3;
        if (typeof alpha !== 'number') this.fail(layer, "'alpha' must be a number");
        const x = one();
        return { ...x, name: this.op('LeakyRelu', [x.name], { alpha: floatAttr(alpha) }, tag) };
      }
      case 'ELU': {
        const x = one();
        return { ...x, name: this.op('Elu', [x.name], { alpha: floatAttr(typeof c.alpha === 'number' ? c.alpha : 1) }, tag) };
      }
      case 'Softmax': {
        const axis = c.axis ?? -1;
        if (!Number.isInteger(axis)) this.fail(layer, "'axis' must be one integer");
        return this.softmax(one(), axis as number, tag, layer);
      }
      case 'Add': case 'Subtract': case 'Multiply': case 'Average': return this.merge(layer, ins, tag);
      case 'Concatenate': return this.concat(layer, ins, tag);
      case 'MaxPooling2D': case 'AveragePooling2D': return this.pool(layer, one(), tag);
      case 'GlobalAveragePooling2D': case 'GlobalMaxPooling2D': {
        this.channelsLast(layer);
        const x = this.nchw(one(), layer);
        const op = layer.className === 'GlobalAveragePooling2D' ? 'GlobalAveragePool' : 'GlobalMaxPool';
        const pooled = this.op(op, [x.name], {}, tag);
        const shape4: Shape = [x.shape[0]!, 1, 1, x.shape[3]!];
        if (c.keepdims === true) return { name: pooled, shape: shape4, nchw: true };
        return { name: this.op('Flatten', [pooled], { axis: intAttr(1) }, `${tag}/flatten`), shape: [x.shape[0]!, x.shape[3]!], nchw: false };
      }
      case 'ZeroPadding2D': case 'Cropping2D': return this.padOrCrop(layer, one(), tag);
      case 'Flatten': {
        this.channelsLast(layer);
        const x = this.keras(one());
        const rest = x.shape.slice(1);
        const size = rest.every((d) => d !== null) ? (rest as number[]).reduce((a, d) => a * d, 1) : null;
        return { name: this.op('Flatten', [x.name], { axis: intAttr(1) }, tag), shape: [x.shape[0]!, size], nchw: false };
      }
      case 'Reshape': return this.reshape(layer, one(), tag);
      case 'Rescaling': {
        const x = one();
        const { scale, offset } = c;
        if (typeof scale !== 'number' || (offset !== undefined && typeof offset !== 'number')) this.fail(layer, "only a single number 'scale' and 'offset' are supported");
        const scaled = this.op('Mul', [x.name, this.init(`${tag}/scale`, float32([], [scale]))], {}, `${tag}/mul`);
        return { ...x, name: this.op('Add', [scaled, this.init(`${tag}/offset`, float32([], [(offset as number | undefined) ?? 0]))], {}, tag) };
      }
      default: this.fail(layer, 'is not supported');
    }
  }

  // ── convolutions ──

  /** Explicit ONNX pads [top, left, bottom, right] for TF padding, or SAME_UPPER where the size is not static. */
  private windowPads(layer: Layer, x: Value, kernel: [number, number], strides: [number, number], dilations: [number, number]): Record<string, Attr> {
    const padding = this.str(layer, 'padding', 'valid');
    if (padding === 'valid') return {};
    if (padding !== 'same') this.fail(layer, `padding '${escapeControl(padding)}' is not supported (valid or same)`);
    const size = [x.shape[1], x.shape[2]];
    if (size.some((d) => d === null)) return { auto_pad: stringAttr('SAME_UPPER') };
    const begin: number[] = [];
    const end: number[] = [];
    for (let i = 0; i < 2; i++) {
      const n = size[i] as number;
      const out = Math.ceil(n / strides[i]!);
      const total = Math.max(0, (out - 1) * strides[i]! + (kernel[i]! - 1) * dilations[i]! + 1 - n);
      begin.push(Math.floor(total / 2));
      end.push(total - Math.floor(total / 2));
    }
    return { pads: intsAttr([...begin, ...end]) };
  }

  private outSize(layer: Layer, x: Value, kernel: [number, number], strides: [number, number], dilations: [number, number]): Shape {
    const same = this.str(layer, 'padding', 'valid') === 'same';
    const dim = (n: number | null, i: number): number | null => {
      if (n === null) return null;
      const out = same ? Math.ceil(n / strides[i]!) : Math.floor((n - ((kernel[i]! - 1) * dilations[i]! + 1)) / strides[i]!) + 1;
      if (out < 1) this.fail(layer, `the ${kernel.join('×')} window does not fit the ${x.shape[1]}×${x.shape[2]} input`);
      return out;
    };
    return [x.shape[0]!, dim(x.shape[1]!, 0), dim(x.shape[2]!, 1)];
  }

  private convNode(layer: Layer, x: Value, weight: Tensor, bias: Tensor | undefined, o: { kernel: [number, number]; strides: [number, number]; dilations: [number, number]; group: number; pads: Record<string, Attr> }, tag: string): string {
    const inputs = [x.name, this.init(`${tag}/weight`, weight)];
    if (bias) inputs.push(this.init(`${tag}/bias`, bias));
    return this.op('Conv', inputs, { kernel_shape: intsAttr(o.kernel), strides: intsAttr(o.strides), dilations: intsAttr(o.dilations), group: intAttr(o.group), ...o.pads }, tag);
  }

  private geometry(layer: Layer, x: Value, kernelKey: string) {
    this.channelsLast(layer);
    const kernel = this.pair(layer, kernelKey);
    const strides = this.pair(layer, 'strides', [1, 1]);
    const dilations = this.pair(layer, 'dilation_rate', [1, 1]);
    if (dilations.some((d) => d > 1) && strides.some((s) => s > 1)) this.fail(layer, 'strides > 1 with dilation_rate > 1 is not supported (as in Keras)');
    return { kernel, strides, dilations, pads: this.windowPads(layer, x, kernel, strides, dilations) };
  }

  private bias(layer: Layer, n: number): Tensor | undefined {
    if (layer.config.use_bias === false) return undefined;
    return float32([n], this.weight(layer, 'bias', [n]).data);
  }

  private conv(layer: Layer, input: Value, tag: string): Value {
    const x = this.nchw(input, layer);
    const g = this.geometry(layer, x, 'kernel_size');
    const cin = x.shape[3];
    const groups = typeof layer.config.groups === 'number' ? layer.config.groups : 1;
    const filters = layer.config.filters;
    if (typeof filters !== 'number' || cin === null || cin === undefined) this.fail(layer, "needs 'filters' and a known number of input channels");
    if (cin % groups !== 0 || filters % groups !== 0) this.fail(layer, `groups ${groups} does not divide ${cin} input channels and ${filters} filters`);
    const k = this.weight(layer, 'kernel', [g.kernel[0], g.kernel[1], cin / groups, filters]);
    const w = hwioToOihw(float32(k.shape, k.data as Float32Array));
    const name = this.convNode(layer, x, w, this.bias(layer, filters), { ...g, group: groups }, tag);
    return { name, shape: [...this.outSize(layer, x, g.kernel, g.strides, g.dilations), filters], nchw: true };
  }

  /** Depthwise kernel [kh, kw, C, M] → group conv weight [C·M, 1, kh, kw] (output channel c·M + m, as TF orders it). */
  private depthwiseWeight(layer: Layer, cin: number, kernel: [number, number]): { w: Tensor; mult: number } {
    const mult = typeof layer.config.depth_multiplier === 'number' ? layer.config.depth_multiplier : 1;
    const k = this.weight(layer, 'depthwise_kernel', [kernel[0], kernel[1], cin, mult]);
    return { w: depthwiseToOihw(float32(k.shape, k.data as Float32Array)), mult };
  }

  private depthwise(layer: Layer, input: Value, tag: string): Value {
    const x = this.nchw(input, layer);
    const g = this.geometry(layer, x, 'kernel_size');
    const cin = x.shape[3];
    if (typeof cin !== 'number') this.fail(layer, 'needs a known number of input channels');
    const { w, mult } = this.depthwiseWeight(layer, cin, g.kernel);
    const name = this.convNode(layer, x, w, this.bias(layer, cin * mult), { ...g, group: cin }, tag);
    return { name, shape: [...this.outSize(layer, x, g.kernel, g.strides, g.dilations), cin * mult], nchw: true };
  }

  private separable(layer: Layer, input: Value, tag: string): Value {
    const x = this.nchw(input, layer);
    const g = this.geometry(layer, x, 'kernel_size');
    const cin = x.shape[3];
    const filters = layer.config.filters;
    if (typeof cin !== 'number' || typeof filters !== 'number') this.fail(layer, "needs 'filters' and a known number of input channels");
    const { w, mult } = this.depthwiseWeight(layer, cin, g.kernel);
    const dw = this.convNode(layer, x, w, undefined, { ...g, group: cin }, `${tag}/depthwise`);
    const pk = this.weight(layer, 'pointwise_kernel', [1, 1, cin * mult, filters]);
    const pw = hwioToOihw(float32(pk.shape, pk.data as Float32Array));
    const ones: [number, number] = [1, 1];
    const name = this.convNode(layer, { ...x, name: dw }, pw, this.bias(layer, filters), { kernel: ones, strides: ones, dilations: ones, group: 1, pads: {} }, tag);
    return { name, shape: [...this.outSize(layer, x, g.kernel, g.strides, g.dilations), filters], nchw: true };
  }

  private dense(layer: Layer, input: Value, tag: string): Value {
    const x = this.keras(input);
    const units = layer.config.units;
    const cin = x.shape.at(-1);
    if (typeof units !== 'number' || typeof cin !== 'number') this.fail(layer, "needs 'units' and a known input size");
    const k = this.weight(layer, 'kernel', [cin, units]);
    const bias = this.bias(layer, units);
    const w = this.init(`${tag}/kernel`, float32([cin, units], k.data));
    const shape = [...x.shape.slice(0, -1), units];
    if (x.shape.length === 2) {
      const inputs = [x.name, w, ...(bias ? [this.init(`${tag}/bias`, bias)] : [])];
      return { name: this.op('Gemm', inputs, {}, tag), shape, nchw: false };
    }
    // Dense on a higher-rank tensor applies to its last axis.
    const mm = this.op('MatMul', [x.name, w], {}, bias ? `${tag}/matmul` : tag);
    return { name: bias ? this.op('Add', [mm, this.init(`${tag}/bias`, bias)], {}, tag) : mm, shape, nchw: false };
  }

  // ── normalization and activations ──

  private batchNorm(layer: Layer, input: Value, tag: string): Value {
    const c = layer.config;
    const rawAxis = Array.isArray(c.axis) && c.axis.length === 1 ? c.axis[0] : (c.axis ?? -1);
    if (typeof rawAxis !== 'number') this.fail(layer, "'axis' must be one integer");
    const rank = input.shape.length;
    const axis = rawAxis < 0 ? rawAxis + rank : rawAxis;
    let x: Value;
    if (rank === 4 && axis === 3) x = this.nchw(input, layer);
    else if (rank === 2 && axis === 1) x = input;
    else this.fail(layer, `normalization over axis ${rawAxis} of a rank-${rank} input is not supported (the channels of a 4-D or 2-D input)`);
    const n = x.shape.at(-1);
    if (typeof n !== 'number') this.fail(layer, 'needs a known number of channels');
    const param = (w: string, present: boolean, fill: number): string =>
      this.init(`${tag}/${w}`, float32([n], present ? this.weight(layer, w, [n]).data : new Float32Array(n).fill(fill)));
    const eps = typeof c.epsilon === 'number' ? c.epsilon : 1e-3;
    const inputs = [x.name, param('gamma', c.scale !== false, 1), param('beta', c.center !== false, 0), param('moving_mean', true, 0), param('moving_variance', true, 1)];
    return { ...x, name: this.op('BatchNormalization', inputs, { epsilon: floatAttr(eps) }, tag) };
  }

  private clip(x: Value, lo: number, hi: number, tag: string): Value {
    const min = this.init(`${tag}/min`, float32([], [lo]));
    const max = this.init(`${tag}/max`, float32([], [hi]));
    return { ...x, name: this.op('Clip', [x.name, min, max], {}, tag) };
  }

  private relu(layer: Layer, x: Value, tag: string): Value {
    const c = layer.config;
    const max = c.max_value ?? null;
    const slope = c.negative_slope ?? 0;
    const threshold = c.threshold ?? 0;
    if ((max !== null && typeof max !== 'number') || typeof slope !== 'number' || typeof threshold !== 'number') this.fail(layer, 'max_value, negative_slope and threshold must be numbers');
    if (threshold !== 0) this.fail(layer, `threshold ${threshold} is not supported (only 0)`);
    if (slope === 0) return max === null ? { ...x, name: this.op('Relu', [x.name], {}, tag) } : this.clip(x, 0, max, tag);
    const leaky: Value = { ...x, name: this.op('LeakyRelu', [x.name], { alpha: floatAttr(slope) }, max === null ? tag : `${tag}/leaky`) };
    return max === null ? leaky : this.clip(leaky, -3.4028234663852886e38, max, tag);
  }

  softmax(x: Value, axis: number, tag: string, layer?: Layer): Value {
    const a = layer ? this.axis(x, axis, layer) : x.nchw ? 1 : x.shape.length - 1;
    return { ...x, name: this.op('Softmax', [x.name], { axis: intAttr(a) }, tag) };
  }

  private activation(layer: Layer, x: Value, name: string, tag: string): Value {
    const t = layer.className === 'Activation' ? tag : `${tag}/${name}`;
    const unary = (op: string, attrs: Record<string, Attr> = {}): Value => ({ ...x, name: this.op(op, [x.name], attrs, t) });
    switch (name) {
      case 'linear': return x;
      case 'relu': return unary('Relu');
      case 'relu6': return this.clip(x, 0, 6, t);
      case 'sigmoid': return unary('Sigmoid');
      // tfjs's hard sigmoid: clip(0.2·x + 0.5, 0, 1).
      case 'hard_sigmoid': return unary('HardSigmoid', { alpha: floatAttr(0.2), beta: floatAttr(0.5) });
      case 'tanh': return unary('Tanh');
      case 'elu': return unary('Elu', { alpha: floatAttr(1) });
      case 'softplus': return unary('Softplus');
      case 'exponential': return unary('Exp');
      case 'selu': {
        const elu = this.op('Elu', [x.name], { alpha: floatAttr(1.6732632423543772) }, `${t}/elu`);
        return { ...x, name: this.op('Mul', [elu, this.init(`${t}/scale`, float32([], [1.0507009873554805]))], {}, t) };
      }
      case 'swish': case 'silu': {
        const s = this.op('Sigmoid', [x.name], {}, `${t}/sigmoid`);
        return { ...x, name: this.op('Mul', [x.name, s], {}, t) };
      }
      case 'softmax': return this.softmax(x, -1, t, layer);
      default: this.fail(layer, `activation '${escapeControl(name)}' is not supported (supported: ${SUPPORTED_ACTIVATIONS.join(', ')})`);
    }
  }

  // ── merging ──

  /** Inputs in one layout: channel-first when all are 4-D, Keras's otherwise. */
  private sameLayout(layer: Layer, ins: Value[]): Value[] {
    if (ins.length < 2) this.fail(layer, `expected at least 2 inputs, got ${ins.length}`);
    return ins.every((v) => v.shape.length === 4) ? ins.map((v) => this.nchw(v, layer)) : ins.map((v) => this.keras(v));
  }

  private merge(layer: Layer, inputs: Value[], tag: string): Value {
    const ins = this.sameLayout(layer, inputs);
    const shape = broadcastShape(ins.map((v) => v.shape));
    if (layer.className === 'Subtract') {
      if (ins.length !== 2) this.fail(layer, `expected 2 inputs, got ${ins.length}`);
      return { name: this.op('Sub', [ins[0]!.name, ins[1]!.name], {}, tag), shape, nchw: ins[0]!.nchw };
    }
    const op = layer.className === 'Multiply' ? 'Mul' : 'Add';
    const average = layer.className === 'Average';
    let acc = ins[0]!.name;
    for (let i = 1; i < ins.length; i++) acc = this.op(op, [acc, ins[i]!.name], {}, i === ins.length - 1 && !average ? tag : `${tag}/${i}`);
    if (average) acc = this.op('Mul', [acc, this.init(`${tag}/scale`, float32([], [1 / ins.length]))], {}, tag);
    return { name: acc, shape, nchw: ins[0]!.nchw };
  }

  private concat(layer: Layer, inputs: Value[], tag: string): Value {
    const ins = this.sameLayout(layer, inputs);
    const axis = layer.config.axis ?? -1;
    if (!Number.isInteger(axis)) this.fail(layer, "'axis' must be one integer");
    const rank = ins[0]!.shape.length;
    const a = (axis as number) < 0 ? (axis as number) + rank : (axis as number);
    const irAxis = this.axis(ins[0]!, a, layer);
    const shape = [...ins[0]!.shape];
    const sizes = ins.map((v) => v.shape[a]);
    shape[a] = sizes.every((d) => typeof d === 'number') ? (sizes as number[]).reduce((x, y) => x + y, 0) : null;
    return { name: this.op('Concat', ins.map((v) => v.name), { axis: intAttr(irAxis) }, tag), shape, nchw: ins[0]!.nchw };
  }

  // ── pooling, padding, reshaping ──

  private pool(layer: Layer, input: Value, tag: string): Value {
    this.channelsLast(layer);
    const x = this.nchw(input, layer);
    const kernel = this.pair(layer, 'pool_size', [2, 2]);
    const strides = layer.config.strides === null || layer.config.strides === undefined ? kernel : this.pair(layer, 'strides');
    const ones: [number, number] = [1, 1];
    const pads = this.windowPads(layer, x, kernel, strides, ones);
    const op = layer.className === 'MaxPooling2D' ? 'MaxPool' : 'AveragePool';
    // TF's average over a SAME window counts only the input's pixels (ONNX count_include_pad = 0).
    const name = this.op(op, [x.name], { kernel_shape: intsAttr(kernel), strides: intsAttr(strides), ...pads }, tag);
    return { name, shape: [...this.outSize(layer, x, kernel, strides, ones), x.shape[3]!], nchw: true };
  }

  private padOrCrop(layer: Layer, input: Value, tag: string): Value {
    this.channelsLast(layer);
    const key = layer.className === 'ZeroPadding2D' ? 'padding' : 'cropping';
    const v = layer.config[key] ?? (key === 'padding' ? 1 : 0);
    const nonNeg = (n: unknown): n is number => Number.isInteger(n) && (n as number) >= 0;
    let hw: [[number, number], [number, number]];
    if (nonNeg(v)) hw = [[v, v], [v, v]];
    else if (Array.isArray(v) && v.length === 2 && v.every(nonNeg)) hw = [[v[0], v[0]], [v[1], v[1]]];
    else if (Array.isArray(v) && v.length === 2 && v.every((p) => Array.isArray(p) && p.length === 2 && p.every(nonNeg))) hw = v as [[number, number], [number, number]];
    else this.fail(layer, `'${key}' must be an integer, [h, w] or [[top, bottom], [left, right]]`);
    const x = this.nchw(input, layer);
    const [[t, bo], [l, r]] = hw;
    const dim = (d: number | null | undefined, add: number): number | null => (typeof d === 'number' ? d + add : null);
    if (key === 'padding') {
      const pads = this.init(`${tag}/pads`, int64([8], [0, 0, t, l, 0, 0, bo, r]));
      return { name: this.op('Pad', [x.name, pads], { mode: stringAttr('constant') }, tag), shape: [x.shape[0]!, dim(x.shape[1], t + bo), dim(x.shape[2], l + r), x.shape[3]!], nchw: true };
    }
    const [h, w] = [x.shape[1], x.shape[2]];
    if (typeof h !== 'number' || typeof w !== 'number') this.fail(layer, 'needs a known input height and width');
    if (t + bo >= h || l + r >= w) this.fail(layer, `cropping ${JSON.stringify(hw)} removes the whole ${h}×${w} input`);
    const starts = this.init(`${tag}/starts`, int64([2], [t, l]));
    const ends = this.init(`${tag}/ends`, int64([2], [h - bo, w - r]));
    const axes = this.init(`${tag}/axes`, int64([2], [2, 3]));
    return { name: this.op('Slice', [x.name, starts, ends, axes], {}, tag), shape: [x.shape[0]!, h - t - bo, w - l - r, x.shape[3]!], nchw: true };
  }

  private reshape(layer: Layer, input: Value, tag: string): Value {
    const target = layer.config.target_shape;
    if (!Array.isArray(target) || !target.every((d) => Number.isInteger(d) && (d === -1 || d > 0)) || target.filter((d) => d === -1).length > 1) {
      this.fail(layer, "'target_shape' must list positive integers (and at most one -1)");
    }
    const x = this.keras(input);
    const t = target as number[];
    const size = x.shape.slice(1).every((d) => d !== null) ? (x.shape.slice(1) as number[]).reduce((a, d) => a * d, 1) : null;
    const known = t.filter((d) => d > 0).reduce((a, d) => a * d, 1);
    if (size !== null && (t.includes(-1) ? size % known !== 0 : size !== known)) {
      this.fail(layer, `cannot reshape [${x.shape.slice(1).join(', ')}] (${size} values) to [${t.join(', ')}]`);
    }
    const shape: Shape = [x.shape[0]!, ...t.map((d) => (d === -1 ? (size === null ? null : size / known) : d))];
    // 0 copies the batch dimension (ONNX Reshape with allowzero = 0).
    const name = this.op('Reshape', [x.name, this.init(`${tag}/shape`, int64([t.length + 1], [0, ...t]))], {}, tag);
    return { name, shape, nchw: false };
  }
}

function broadcastShape(shapes: Shape[]): Shape {
  const rank = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < rank; i++) {
    const dims = shapes.map((s) => s[s.length - rank + i]).filter((d) => d !== undefined && d !== 1);
    out.push(dims.length === 0 ? 1 : (dims.find((d) => d !== null) ?? null));
  }
  return out;
}
