/**
 * TF.js graph models (`"format": "graph-model"`, tfjs-converter's output) → graph IR. The topology
 * is a TensorFlow GraphDef in JSON: nodes {name, op, input[], attr{}} with attribute values as
 * {i|f|s|b|list|shape|type|tensor} (strings base64, 64-bit ints as decimal strings). Consts take
 * their values from the weights. The NHWC input stays the model's input; 4-D activations are
 * computed NCHW inside, each tensor remembering which layout it holds, so that a Transpose appears
 * only where an op needs the other one (a Reshape, a Softmax on a 4-D tensor). TF "SAME" padding is
 * ONNX's SAME_UPPER (the extra row and column at the end), resolved to explicit pads from the
 * static input size at specialization. The semantics followed are those of tfjs-converter's
 * executors (e.g. fused ops: BiasAdd then one activation). Design: docs/design/tfjs.md.
 */
import { BacklightError, escapeControl } from '../errors.js';
import { floatAttr, intAttr, intsAttr, stringAttr, type Attr, type Dim, type Graph, type Node } from '../ir/graph.js';
import { float32, fromNumbers, int64, sizeOf, toNumbers, type Tensor } from '../ir/tensor.js';
import { checkGraph } from '../onnx/validate.js';
import type { LayersImportOptions } from './layersModel.js';
import type { TfWeight } from './weights.js';
import { broadcastConstToNchw, depthwiseToOihw, hwioToOihw, nhwcAxisInNchw, NCHW_TO_NHWC, NHWC_TO_NCHW, permuteTensor } from './layout.js';

/** The parts of a model.json this importer reads. */
export interface GraphModelJson {
  modelTopology: Record<string, unknown>;
  signature?: Record<string, unknown>;
  userDefinedMetadata?: Record<string, unknown>;
}

/** A GraphDef node as tfjs-converter writes it. */
interface TfNode {
  name: string;
  op: string;
  input: string[];
  attr: Record<string, unknown>;
}

/** The ops this importer converts (tfjs-converter names). */
export const GRAPH_MODEL_OPS: readonly string[] = [
  'Placeholder', 'Const', 'Identity', 'StopGradient',
  'Conv2D', '_FusedConv2D', 'DepthwiseConv2dNative', 'DepthwiseConv2d', 'FusedDepthwiseConv2dNative',
  'MatMul', '_FusedMatMul', 'BiasAdd',
  'Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Prelu', 'Sigmoid', 'Tanh', 'Rsqrt', 'Sqrt', 'Square',
  'Add', 'AddV2', 'AddN', 'Sub', 'Mul', 'RealDiv', 'Maximum', 'Minimum',
  'Mean', 'Sum', 'Max', 'MaxPool', 'AvgPool',
  'Reshape', 'Squeeze', 'ExpandDims', 'ConcatV2', 'Concat', 'Pad', 'PadV2', 'Transpose',
  'Softmax', 'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3',
  'Shape', 'Pack', 'StridedSlice', 'Cast',
];
const SUPPORTED = new Set(GRAPH_MODEL_OPS);

const ACTIVATIONS = new Set(['Relu', 'Relu6', 'Elu', 'LeakyRelu', 'Prelu', 'Sigmoid']);

/** A converted TF tensor: its IR name, rank, and whether a 4-D NHWC value is held as NCHW. */
interface Ref {
  name: string;
  rank: number | undefined;
  nchw: boolean;
  /** The value, for Consts and anything folded from them. */
  value?: Tensor;
  /** The length of a 1-D shape vector built from parts (Shape, Pack), for the rank after a Reshape. */
  length?: number;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const text = (s: string): string => escapeControl(s);

/**
 * Converts a graph model. `weights` maps each Const node's name to its value (dequantized);
 * `source` names the file in error messages; `options.inputLayout` 'nchw' takes a 4-D input
 * channel-first. Throws a BacklightError naming the node and op for
 * anything it cannot convert (every unsupported op at once, with counts).
 */
export function graphModelToGraph(model: GraphModelJson, weights: ReadonlyMap<string, TfWeight>, source = 'model.json', options: LayersImportOptions = {}): Graph {
  const nodes = readNodes(model.modelTopology, source);
  return new GraphConverter(nodes, weights, source, outputNames(model, nodes, source), options.inputLayout ?? 'nhwc').convert();
}

function readNodes(topology: Record<string, unknown>, source: string): TfNode[] {
  const raw = topology.node;
  if (!Array.isArray(raw) || raw.length === 0) {
    throw new BacklightError(`${source}: modelTopology.node must be a non-empty array of GraphDef nodes (a graph model's topology)`);
  }
  const seen = new Set<string>();
  return raw.map((n, i): TfNode => {
    if (!isObject(n) || typeof n.name !== 'string' || n.name === '' || typeof n.op !== 'string') {
      throw new BacklightError(`${source}: modelTopology.node[${i}] must be an object with a string 'name' and 'op'`);
    }
    const input = n.input ?? [];
    if (!Array.isArray(input) || !input.every((x) => typeof x === 'string')) {
      throw new BacklightError(`${source}: node '${text(n.name)}' (${text(n.op)}): 'input' must be an array of tensor names`);
    }
    const attr = n.attr ?? {};
    if (!isObject(attr)) throw new BacklightError(`${source}: node '${text(n.name)}' (${text(n.op)}): 'attr' must be an object`);
    if (seen.has(n.name)) throw new BacklightError(`${source}: node '${text(n.name)}' is defined twice; node names must be unique`);
    seen.add(n.name);
    // Control inputs (^name) order execution only.
    return { name: n.name, op: n.op, input: (input as string[]).filter((x) => !x.startsWith('^')), attr };
  });
}

/** The output tensors: the signature's, else the nodes nobody reads (Consts and NoOps aside). */
function outputNames(model: GraphModelJson, nodes: TfNode[], source: string): string[] {
  const sig = isObject(model.signature) ? model.signature : isObject(model.userDefinedMetadata?.signature) ? model.userDefinedMetadata.signature : undefined;
  const outs = sig && isObject(sig.outputs) ? Object.values(sig.outputs).flatMap((o) => (isObject(o) && typeof o.name === 'string' ? [o.name] : [])) : [];
  let names = outs;
  if (names.length === 0) {
    const read = new Set(nodes.flatMap((n) => n.input.map((i) => tensorKey(i).node)));
    names = nodes.filter((n) => !read.has(n.name) && n.op !== 'Const' && n.op !== 'NoOp' && n.op !== 'Placeholder').map((n) => n.name);
  }
  if (names.length !== 1) {
    throw new BacklightError(`${source}: the graph has ${names.length} outputs (${names.map(text).join(', ')}); Backlight explains models with exactly one output (the class scores)`);
  }
  return names;
}

/** 'name', 'name:0' → node 'name' output 0; 'name:k' → output k. */
function tensorKey(ref: string): { node: string; index: number } {
  const m = /^(.*):(\d+)$/.exec(ref);
  return m ? { node: m[1]!, index: Number(m[2]) } : { node: ref, index: 0 };
}

class GraphConverter {
  private readonly byName = new Map<string, TfNode>();
  private readonly refs = new Map<string, Ref>();
  /** Cached layout changes: IR name → its NCHW or NHWC twin. */
  private readonly twins = new Map<string, string>();
  private readonly out: Graph = { name: 'tfjs-graph-model', inputs: [], outputs: [], nodes: [], initializers: new Map(), values: new Map() };
  private counter = 0;

  constructor(
    private readonly nodes: TfNode[],
    private readonly weights: ReadonlyMap<string, TfWeight>,
    private readonly source: string,
    private readonly outputs: string[],
    private readonly inputLayout: 'nhwc' | 'nchw',
  ) {
    for (const n of nodes) this.byName.set(n.name, n);
  }

  convert(): Graph {
    const order = this.reachable();
    this.refuseUnsupported(order);
    for (const n of order) this.refs.set(n.name, this.node(n));
    const inputs = order.filter((n) => n.op === 'Placeholder');
    if (inputs.length !== 1) {
      throw new BacklightError(`${this.source}: the graph has ${inputs.length} inputs (Placeholder nodes: ${inputs.map((n) => text(n.name)).join(', ')}); Backlight explains models with exactly one image input`);
    }
    const result = this.plain(this.ref(this.outputs[0]!, undefined));
    if (result.value) throw new BacklightError(`${this.source}: the output '${text(this.outputs[0]!)}' does not depend on the input`);
    this.out.outputs = [{ name: result.name, dtype: 'float32', shape: Array.from({ length: result.rank ?? 2 }, (_, i): Dim => `out${i}`) }];
    checkGraph(this.out, this.source);
    return this.out;
  }

  /** The nodes the output depends on, producers first (iterative: deep graphs must not overflow). */
  private reachable(): TfNode[] {
    const order: TfNode[] = [];
    const state = new Map<string, 1 | 2>();
    for (const root of this.outputs) {
      const start = this.byName.get(tensorKey(root).node);
      if (!start) throw new BacklightError(`${this.source}: the output '${text(root)}' is produced by no node`);
      const stack: { node: TfNode; next: number }[] = [{ node: start, next: 0 }];
      if (state.has(start.name)) continue;
      state.set(start.name, 1);
      while (stack.length > 0) {
        const top = stack[stack.length - 1]!;
        const input = top.node.input[top.next++];
        if (input === undefined) {
          state.set(top.node.name, 2);
          order.push(top.node);
          stack.pop();
          continue;
        }
        const name = tensorKey(input).node;
        const p = this.byName.get(name);
        if (!p) throw new BacklightError(`${this.source}: node '${text(top.node.name)}' (${text(top.node.op)}) reads '${text(input)}', which no node produces`);
        const s = state.get(name);
        if (s === 1) throw new BacklightError(`${this.source}: node '${text(p.name)}' (${text(p.op)}) is on a cycle; the graph must be acyclic`);
        if (s === undefined) {
          state.set(name, 1);
          stack.push({ node: p, next: 0 });
        }
      }
    }
    return order;
  }

  private refuseUnsupported(order: TfNode[]): void {
    const bad = new Map<string, TfNode[]>();
    for (const n of order) {
      if (SUPPORTED.has(n.op)) continue;
      let list = bad.get(n.op);
      if (!list) bad.set(n.op, (list = []));
      list.push(n);
    }
    if (bad.size === 0) return;
    const parts = [...bad].map(([op, list]) => `${text(op)} ×${list.length} (node '${text(list[0]!.name)}'${list.length > 1 ? ', …' : ''})`);
    const count = [...bad.values()].reduce((s, l) => s + l.length, 0);
    throw new BacklightError(`${this.source}: ${count} node${count > 1 ? 's use' : ' uses'} TF ops that Backlight does not support: ${parts.join(', ')}; supported graph-model ops: ${GRAPH_MODEL_OPS.join(', ')}`);
  }

  // ── errors and attributes ──────────────────────────────────────────────────────────────────────

  private fail(n: TfNode, message: string): never {
    throw new BacklightError(`${this.source}: node '${text(n.name)}' (${text(n.op)}): ${message}`);
  }

  private attr(n: TfNode, name: string): Record<string, unknown> | undefined {
    const a = n.attr[name];
    if (a === undefined) return undefined;
    if (!isObject(a)) this.fail(n, `attribute '${name}' must be an AttrValue object`);
    return a;
  }

  private attrString(n: TfNode, name: string, fallback?: string): string {
    const a = this.attr(n, name);
    if (a === undefined || a.s === undefined) {
      if (fallback !== undefined) return fallback;
      return this.fail(n, `attribute '${name}' is missing (expected a string)`);
    }
    if (typeof a.s !== 'string') this.fail(n, `attribute '${name}' must be a base64 string`);
    return decodeBase64(a.s as string);
  }

  private attrInts(n: TfNode, name: string, length?: number): number[] | undefined {
    const a = this.attr(n, name);
    if (a === undefined) return undefined;
    const list = a.list;
    if (!isObject(list)) return this.fail(n, `attribute '${name}' must be a list of integers`);
    const raw = list.i ?? [];
    const values = Array.isArray(raw) ? raw.map(Number) : [NaN];
    if (!values.every(Number.isSafeInteger)) this.fail(n, `attribute '${name}' must be a list of integers (got ${text(JSON.stringify(raw))})`);
    if (length !== undefined && values.length !== length) this.fail(n, `attribute '${name}' must hold ${length} integers (got ${values.length})`);
    return values;
  }

  private attrStrings(n: TfNode, name: string): string[] {
    const a = this.attr(n, name);
    if (a === undefined) return [];
    const list = a.list;
    const raw = isObject(list) ? (list.s ?? []) : undefined;
    if (!Array.isArray(raw) || !raw.every((s) => typeof s === 'string')) this.fail(n, `attribute '${name}' must be a list of base64 strings`);
    return (raw as string[]).map(decodeBase64);
  }

  private attrNumber(n: TfNode, name: string, field: 'i' | 'f', fallback: number): number {
    const a = this.attr(n, name);
    if (a === undefined || a[field] === undefined) return fallback;
    const v = Number(a[field]);
    if (!Number.isFinite(v) || (field === 'i' && !Number.isSafeInteger(v))) {
      this.fail(n, `attribute '${name}' must be ${field === 'i' ? 'an integer' : 'a finite number'} (got ${text(JSON.stringify(a[field]))})`);
    }
    return v;
  }

  private attrBool(n: TfNode, name: string): boolean {
    const a = this.attr(n, name);
    if (a === undefined || a.b === undefined) return false;
    if (typeof a.b !== 'boolean') this.fail(n, `attribute '${name}' must be a boolean`);
    return a.b as boolean;
  }

  private dataFormat(n: TfNode): 'NHWC' | 'NCHW' {
    const f = this.attrString(n, 'data_format', 'NHWC');
    if (f !== 'NHWC' && f !== 'NCHW') this.fail(n, `data_format must be NHWC or NCHW (got '${text(f)}')`);
    return f;
  }

  // ── emitting ───────────────────────────────────────────────────────────────────────────────────

  private fresh(hint: string): string {
    return `${hint}__${this.counter++}`;
  }

  private emit(op: string, inputs: string[], attrs: Record<string, Attr>, name: string, output = name): string {
    this.out.nodes.push({ name, op, domain: '', inputs, outputs: [output], attrs } satisfies Node);
    return output;
  }

  private constant(t: Tensor, hint: string): string {
    const name = this.fresh(hint);
    this.out.initializers.set(name, t);
    return name;
  }

  /** The IR name of a Ref, making an initializer of a constant on first use. */
  private nameOf(r: Ref): string {
    if (r.value && !this.out.initializers.has(r.name)) this.out.initializers.set(r.name, r.value);
    return r.name;
  }

  private ref(input: string, reader: TfNode | undefined): Ref {
    const { node, index } = tensorKey(input);
    const r = this.refs.get(node);
    if (!r) throw new BacklightError(`${this.source}: '${text(input)}' is produced by no node`);
    if (index !== 0) {
      const p = this.byName.get(node)!;
      const where = reader ? `node '${text(reader.name)}' (${text(reader.op)}) reads` : 'the graph reads';
      throw new BacklightError(`${this.source}: ${where} output ${index} of node '${text(p.name)}' (${text(p.op)}); only the first output of a node is supported`);
    }
    return r;
  }

  private input(n: TfNode, i: number): Ref {
    const name = n.input[i];
    if (name === undefined) this.fail(n, `expected at least ${i + 1} inputs (got ${n.input.length})`);
    return this.ref(name, n);
  }

  private constInput(n: TfNode, i: number, what: string): Tensor {
    const r = this.input(n, i);
    if (!r.value) this.fail(n, `${what} (input ${i}, '${text(n.input[i]!)}') must be a constant`);
    return r.value;
  }

  /** The value in NCHW (4-D NHWC tensors are transposed once, then the twin is reused). */
  private nchw(r: Ref): Ref {
    if (r.nchw || r.rank !== 4) return r;
    if (r.value) {
      const value = permuteTensor(r.value, NHWC_TO_NCHW);
      return { name: this.constant(value, `${r.name}__nchw`), rank: 4, nchw: true, value };
    }
    let twin = this.twins.get(r.name);
    if (!twin) {
      twin = this.emit('Transpose', [r.name], { perm: intsAttr([...NHWC_TO_NCHW]) }, this.fresh(`${r.name}__nchw`));
      this.twins.set(r.name, twin);
    }
    return { name: twin, rank: 4, nchw: true };
  }

  /** The value in TF's own layout. */
  private plain(r: Ref): Ref {
    if (!r.nchw) {
      this.nameOf(r);
      return r;
    }
    let twin = this.twins.get(r.name);
    if (!twin) {
      twin = this.emit('Transpose', [r.name], { perm: intsAttr([...NCHW_TO_NHWC]) }, this.fresh(`${r.name}__nhwc`));
      this.twins.set(r.name, twin);
    }
    return { name: twin, rank: 4, nchw: false };
  }

  // ── ops ────────────────────────────────────────────────────────────────────────────────────────

  private node(n: TfNode): Ref {
    switch (n.op) {
      case 'Placeholder': return this.placeholder(n);
      case 'Const': return this.constNode(n);
      case 'Identity': case 'StopGradient': return this.input(n, 0);
      case 'Conv2D': case '_FusedConv2D': return this.conv(n, false);
      case 'DepthwiseConv2dNative': case 'DepthwiseConv2d': case 'FusedDepthwiseConv2dNative': return this.conv(n, true);
      case 'MatMul': case '_FusedMatMul': return this.matmul(n);
      case 'BiasAdd': return this.biasAdd(n, this.input(n, 0), this.input(n, 1));
      case 'Relu': case 'Relu6': case 'Elu': case 'LeakyRelu': case 'Sigmoid':
        return this.activation(n, n.op, this.input(n, 0), undefined);
      case 'Prelu': return this.activation(n, 'Prelu', this.input(n, 0), this.input(n, 1));
      case 'Tanh': case 'Sqrt': return this.unary(n, n.op);
      case 'Rsqrt': {
        const s = this.unary(n, 'Sqrt', `${n.name}__sqrt`);
        return { ...s, name: this.emit('Reciprocal', [s.name], {}, n.name) };
      }
      case 'Square': {
        const x = this.input(n, 0);
        return { ...x, value: undefined, name: this.emit('Mul', [this.nameOf(x), x.name], {}, n.name) };
      }
      case 'Add': case 'AddV2': return this.binary(n, 'Add');
      case 'Sub': return this.binary(n, 'Sub');
      case 'Mul': return this.binary(n, 'Mul');
      case 'RealDiv': return this.binary(n, 'Div');
      case 'Maximum': return this.binary(n, 'Max');
      case 'Minimum': return this.binary(n, 'Min');
      case 'AddN': return this.addN(n);
      case 'Mean': return this.reduce(n, 'ReduceMean');
      case 'Sum': return this.reduce(n, 'ReduceSum');
      case 'Max': return this.reduce(n, 'ReduceMax');
      case 'MaxPool': return this.pool(n, 'MaxPool');
      case 'AvgPool': return this.pool(n, 'AveragePool');
      case 'Reshape': return this.reshape(n);
      case 'Squeeze': return this.squeeze(n);
      case 'ExpandDims': return this.expandDims(n);
      case 'ConcatV2': return this.concat(n, n.input.slice(0, -1), n.input.length - 1);
      case 'Concat': return this.concat(n, n.input.slice(1), 0);
      case 'Pad': case 'PadV2': return this.pad(n);
      case 'Transpose': return this.transpose(n);
      case 'Softmax': {
        const x = this.plain(this.input(n, 0));
        return { name: this.emit('Softmax', [x.name], { axis: intAttr(-1) }, n.name), rank: x.rank, nchw: false };
      }
      case 'FusedBatchNorm': case 'FusedBatchNormV2': case 'FusedBatchNormV3': return this.batchNorm(n);
      case 'Shape': return this.shape(n);
      case 'Pack': return this.pack(n);
      case 'StridedSlice': return this.stridedSlice(n);
      case 'Cast': return this.cast(n);
      default: return this.fail(n, 'unsupported op');
    }
  }

  private placeholder(n: TfNode): Ref {
    const dtype = this.attr(n, 'dtype')?.type;
    if (dtype !== undefined && dtype !== 'DT_FLOAT') this.fail(n, `the input must be DT_FLOAT (got ${text(String(dtype))}); Backlight explains float32 image inputs`);
    const shapeAttr = this.attr(n, 'shape')?.shape;
    if (!isObject(shapeAttr) || shapeAttr.unknownRank === true || !Array.isArray(shapeAttr.dim)) {
      this.fail(n, "attribute 'shape' must give the input's rank (a TensorShapeProto with 'dim')");
    }
    const shape: Dim[] = (shapeAttr.dim as unknown[]).map((d, i) => {
      const size = isObject(d) ? Number(d.size ?? -1) : NaN;
      if (!Number.isSafeInteger(size) || size < -1) this.fail(n, `input dimension ${i} must be an integer ≥ -1 (got ${text(JSON.stringify(d))})`);
      return size >= 1 ? size : i === 0 ? 'batch' : `dim${i}`;
    });
    // An NCHW input (for tools that feed channel-first tensors) is the NCHW twin of TF's input.
    const nchw = this.inputLayout === 'nchw' && shape.length === 4;
    this.out.inputs.push({ name: n.name, dtype: 'float32', shape: nchw ? NHWC_TO_NCHW.map((a) => shape[a]!) : shape });
    return { name: n.name, rank: shape.length, nchw };
  }

  private constNode(n: TfNode): Ref {
    const w = this.weights.get(n.name);
    if (!w) this.fail(n, `its value is not in the weights (no weight named '${text(n.name)}' in weightsManifest)`);
    // Integer constants feed shapes and axes, which the IR keeps in int64.
    const value: Tensor = w.data instanceof Float32Array ? { dtype: 'float32', dims: [...w.shape], data: w.data } : fromNumbers('int64', w.shape, Array.from(w.data));
    return { name: n.name, rank: value.dims.length, nchw: false, value };
  }

  /** Conv2D, DepthwiseConv2dNative and their fused forms. */
  private conv(n: TfNode, depthwise: boolean): Ref {
    const format = this.dataFormat(n);
    const x = format === 'NHWC' ? this.nchw(this.input(n, 0)) : this.plain(this.input(n, 0));
    if (x.rank !== undefined && x.rank !== 4) this.fail(n, `the input must be 4-D (got rank ${x.rank})`);
    const filter = this.constInput(n, 1, 'the filter');
    if (filter.dims.length !== 4) this.fail(n, `the filter must be 4-D [height, width, in, out] (got [${filter.dims.join(', ')}])`);
    const weight = depthwise ? depthwiseToOihw(filter) : hwioToOihw(filter);
    const attrs = this.window(n, format, [filter.dims[0]!, filter.dims[1]!], true);
    if (depthwise) attrs.group = intAttr(filter.dims[2]!);
    const fused = n.op.startsWith('_Fused') || n.op.startsWith('Fused');
    const conv = fused ? `${n.name}__conv` : n.name;
    const y: Ref = { name: this.emit('Conv', [x.name, this.constant(weight, `${n.name}__weight`)], attrs, conv), rank: 4, nchw: format === 'NHWC' };
    return fused ? this.fusedOps(n, y, 2) : y;
  }

  /** Strides, dilations and padding of a window op, in the IR's spatial order. */
  private window(n: TfNode, format: 'NHWC' | 'NCHW', kernel: number[] | undefined, dilated: boolean): Record<string, Attr> {
    const [h, w] = format === 'NHWC' ? [1, 2] : [2, 3];
    const other = format === 'NHWC' ? [0, 3] : [0, 1];
    const pick = (name: string): number[] => {
      const v = this.attrInts(n, name, 4) ?? [1, 1, 1, 1];
      if (v.some((s) => s < 1)) this.fail(n, `${name} must be integers ≥ 1 (got [${v.join(', ')}])`);
      if (other.some((i) => v[i] !== 1)) this.fail(n, `${name} along the batch and channel axes must be 1 (got [${v.join(', ')}])`);
      return [v[h]!, v[w]!];
    };
    const attrs: Record<string, Attr> = { strides: intsAttr(pick('strides')) };
    if (dilated) attrs.dilations = intsAttr(pick('dilations'));
    if (kernel) attrs.kernel_shape = intsAttr(kernel);
    const padding = this.attrString(n, 'padding');
    if (padding === 'SAME') attrs.auto_pad = stringAttr('SAME_UPPER');
    else if (padding === 'VALID') attrs.pads = intsAttr([0, 0, 0, 0]);
    else if (padding === 'EXPLICIT') {
      const p = this.attrInts(n, 'explicit_paddings', 8)!;
      if (!p || p.some((v) => v < 0)) this.fail(n, 'explicit_paddings must be 8 integers ≥ 0');
      if (other.some((i) => p[2 * i] !== 0 || p[2 * i + 1] !== 0)) this.fail(n, 'explicit_paddings along the batch and channel axes must be 0');
      attrs.pads = intsAttr([p[2 * h]!, p[2 * w]!, p[2 * h + 1]!, p[2 * w + 1]!]);
    } else this.fail(n, `padding must be SAME, VALID or EXPLICIT (got '${text(padding)}')`);
    return attrs;
  }

  /** fused_ops = [BiasAdd, activation?] after the op's own output (tfjs-converter's semantics). */
  private fusedOps(n: TfNode, y: Ref, firstArg: number): Ref {
    const ops = this.attrStrings(n, 'fused_ops');
    const numArgs = this.attrNumber(n, 'num_args', 'i', n.input.length - firstArg);
    if (ops.length === 0 || ops.length > 2 || ops[0] !== 'BiasAdd' || (ops[1] !== undefined && !ACTIVATIONS.has(ops[1]))) {
      this.fail(n, `fused_ops must be [BiasAdd] or [BiasAdd, one of ${[...ACTIVATIONS].join('|')}] (got [${ops.map(text).join(', ')}])`);
    }
    const wantArgs = ops[1] === 'Prelu' ? 2 : 1;
    if (numArgs !== wantArgs || n.input.length < firstArg + wantArgs) this.fail(n, `fused_ops [${ops.join(', ')}] need ${wantArgs} extra input${wantArgs > 1 ? 's' : ''} (num_args is ${numArgs}, inputs ${n.input.length})`);
    const act = ops[1];
    const biased = this.biasAdd(n, y, this.input(n, firstArg), act ? `${n.name}__bias` : n.name);
    return act ? this.activation(n, act, biased, act === 'Prelu' ? this.input(n, firstArg + 1) : undefined) : biased;
  }

  private biasAdd(n: TfNode, x: Ref, bias: Ref, name = n.name): Ref {
    if (!bias.value) this.fail(n, 'the bias must be a constant');
    if (bias.value.dims.length !== 1) this.fail(n, `the bias must be 1-D (got [${bias.value.dims.join(', ')}])`);
    const nchwFormat = n.op === 'BiasAdd' && this.dataFormat(n) === 'NCHW';
    const b = x.nchw || nchwFormat ? { ...bias.value, dims: [bias.value.dims[0]!, 1, 1] } : bias.value;
    return { name: this.emit('Add', [this.nameOf(x), this.constant(b, `${n.name}__bias`)], {}, name), rank: x.rank, nchw: x.nchw };
  }

  private activation(n: TfNode, op: string, x: Ref, alpha: Ref | undefined): Ref {
    const xs = this.nameOf(x);
    const r = (name: string): Ref => ({ name, rank: x.rank, nchw: x.nchw });
    switch (op) {
      case 'Relu': return r(this.emit('Relu', [xs], {}, n.name));
      case 'Relu6': return r(this.emit('Clip', [xs, this.constant(float32([], [0]), `${n.name}__min`), this.constant(float32([], [6]), `${n.name}__max`)], {}, n.name));
      case 'Elu': return r(this.emit('Elu', [xs], { alpha: floatAttr(1) }, n.name));
      case 'Sigmoid': return r(this.emit('Sigmoid', [xs], {}, n.name));
      case 'LeakyRelu': {
        // tfjs-converter reads `alpha` for LeakyRelu and `leakyrelu_alpha` for the fused form; both default to 0.2.
        const a = n.op === 'LeakyRelu' ? this.attrNumber(n, 'alpha', 'f', 0.2) : this.attrNumber(n, 'leakyrelu_alpha', 'f', 0.2);
        return r(this.emit('LeakyRelu', [xs], { alpha: floatAttr(a) }, n.name));
      }
      case 'Prelu': {
        if (!alpha?.value) this.fail(n, 'the Prelu alpha must be a constant');
        const slope = x.nchw ? broadcastConstToNchw(alpha.value) : alpha.value;
        return r(this.emit('PRelu', [xs, this.constant(slope, `${n.name}__alpha`)], {}, n.name));
      }
      default: return this.fail(n, `unsupported activation ${text(op)}`);
    }
  }

  private unary(n: TfNode, op: string, name = n.name): Ref {
    const x = this.input(n, 0);
    return { name: this.emit(op, [this.nameOf(x)], {}, name), rank: x.rank, nchw: x.nchw };
  }

  /** Elementwise with broadcasting: NCHW when a 4-D NCHW operand meets constants or 4-D tensors. */
  private binary(n: TfNode, op: string): Ref {
    const a = this.input(n, 0);
    const b = this.input(n, 1);
    if (a.value && b.value) this.fail(n, 'both operands are constants (a graph model folds those)');
    const rank = Math.max(a.rank ?? 0, b.rank ?? 0);
    const toNchw = (a.nchw || b.nchw) && [a, b].every((r) => r.nchw || r.value || r.rank === 4);
    const side = (r: Ref): string => {
      if (!toNchw) return this.plain(r).name;
      if (r.value) return r.value.dims.length <= 4 ? this.constant(broadcastConstToNchw(r.value), `${n.name}__const`) : this.fail(n, 'a constant operand has rank > 4');
      return this.nchw(r).name;
    };
    return { name: this.emit(op, [side(a), side(b)], {}, n.name), rank, nchw: toNchw };
  }

  private addN(n: TfNode): Ref {
    const xs = n.input.map((_, i) => this.input(n, i));
    if (xs.some((x) => x.value)) this.fail(n, 'constant operands are not supported');
    const toNchw = xs.every((x) => x.rank === 4) && xs.some((x) => x.nchw);
    const names = xs.map((x) => (toNchw ? this.nchw(x) : this.plain(x)).name);
    return { name: this.emit('Sum', names, {}, n.name), rank: xs[0]!.rank, nchw: toNchw };
  }

  /** Mean/Sum/Max over constant axes; stays NCHW when the kept axes keep their order. */
  private reduce(n: TfNode, op: string): Ref {
    let x = this.input(n, 0);
    const keep = this.attrBool(n, 'keep_dims') || this.attrBool(n, 'keepdims');
    if (x.rank === undefined) this.fail(n, 'the input rank is unknown');
    const rank = x.rank;
    const axes = [...new Set(toNumbers(this.constInput(n, 1, 'the axes')).map((a) => (a < 0 ? a + rank : a)))];
    if (axes.some((a) => a < 0 || a >= rank)) this.fail(n, `axes must lie in [-${rank}, ${rank}) (got [${axes.join(', ')}])`);
    let irAxes = axes;
    if (x.nchw) {
      const mapped = axes.map(nhwcAxisInNchw);
      const kept = [0, 1, 2, 3].filter((a) => !axes.includes(a)).map(nhwcAxisInNchw);
      if (keep || kept.every((a, i) => i === 0 || a > kept[i - 1]!)) irAxes = mapped;
      else x = this.plain(x);
    }
    const y = this.emit(op, [this.nameOf(x)], { axes: intsAttr(irAxes.sort((p, q) => p - q)), keepdims: intAttr(keep ? 1 : 0) }, n.name);
    return { name: y, rank: keep ? rank : rank - axes.length, nchw: x.nchw && keep };
  }

  private pool(n: TfNode, op: string): Ref {
    const format = this.dataFormat(n);
    const x = format === 'NHWC' ? this.nchw(this.input(n, 0)) : this.plain(this.input(n, 0));
    const k = this.attrInts(n, 'ksize', 4);
    if (!k) this.fail(n, "attribute 'ksize' is missing (expected 4 integers)");
    const [h, w] = format === 'NHWC' ? [1, 2] : [2, 3];
    if (k.some((v) => v < 1) || k[0] !== 1 || k[format === 'NHWC' ? 3 : 1] !== 1) this.fail(n, `ksize must be [1, h, w, 1] with h, w ≥ 1 (got [${k.join(', ')}])`);
    const attrs = this.window(n, format, [k[h]!, k[w]!], false);
    return { name: this.emit(op, [x.name], attrs, n.name), rank: 4, nchw: format === 'NHWC' };
  }

  private reshape(n: TfNode): Ref {
    const x = this.plain(this.input(n, 0));
    const shape = this.input(n, 1);
    const target = shape.value ? this.constant(fromNumbers('int64', shape.value.dims, toNumbers(shape.value)), `${n.name}__shape`) : this.nameOf(shape);
    const rank = shape.value ? sizeOf(shape.value.dims) : shape.length;
    if (x.value) this.fail(n, 'reshaping a constant is not supported');
    return { name: this.emit('Reshape', [x.name, target], {}, n.name), rank, nchw: false };
  }

  private squeeze(n: TfNode): Ref {
    let x = this.input(n, 0);
    const dims = this.attrInts(n, 'squeeze_dims') ?? this.attrInts(n, 'axis') ?? [];
    if (x.rank === undefined) this.fail(n, 'the input rank is unknown');
    const rank = x.rank;
    if (dims.length === 0) x = this.plain(x);
    const axes = dims.map((a) => (a < 0 ? a + rank : a));
    let irAxes = axes;
    if (x.nchw) {
      const kept = [0, 1, 2, 3].filter((a) => !axes.includes(a)).map(nhwcAxisInNchw);
      if (kept.every((a, i) => i === 0 || a > kept[i - 1]!)) irAxes = axes.map(nhwcAxisInNchw);
      else x = this.plain(x);
    }
    const inputs = [this.nameOf(x)];
    if (irAxes.length > 0) inputs.push(this.constant(int64([irAxes.length], [...irAxes].sort((p, q) => p - q)), `${n.name}__axes`));
    return { name: this.emit('Squeeze', inputs, {}, n.name), rank: irAxes.length > 0 ? rank - irAxes.length : undefined, nchw: false };
  }

  private expandDims(n: TfNode): Ref {
    const x = this.plain(this.input(n, 0));
    const axis = toNumbers(this.constInput(n, 1, 'the axis'))[0]!;
    const rank = (x.rank ?? this.fail(n, 'the input rank is unknown')) + 1;
    const a = axis < 0 ? axis + rank : axis;
    return { name: this.emit('Unsqueeze', [x.name, this.constant(int64([1], [a]), `${n.name}__axes`)], {}, n.name), rank, nchw: false };
  }

  private concat(n: TfNode, inputs: string[], axisInput: number): Ref {
    if (inputs.length === 0) this.fail(n, 'needs at least one input');
    const xs = inputs.map((name) => this.ref(name, n));
    const rank = xs[0]!.rank;
    if (rank === undefined) this.fail(n, 'the input rank is unknown');
    const raw = toNumbers(this.constInput(n, axisInput, 'the axis'))[0]!;
    const axis = raw < 0 ? raw + rank : raw;
    if (axis < 0 || axis >= rank) this.fail(n, `axis ${raw} is out of range for rank ${rank}`);
    const toNchw = rank === 4 && xs.some((x) => x.nchw) && xs.every((x) => x.rank === 4);
    const names = xs.map((x) => (toNchw ? this.nchw(x) : this.plain(x)).name);
    const y = this.emit('Concat', names, { axis: intAttr(toNchw ? nhwcAxisInNchw(axis) : axis) }, n.name);
    return { name: y, rank, nchw: toNchw };
  }

  private pad(n: TfNode): Ref {
    let x = this.input(n, 0);
    const p = this.constInput(n, 1, 'the paddings');
    const rank = x.rank ?? this.fail(n, 'the input rank is unknown');
    const pads = toNumbers(p);
    if (p.dims.length !== 2 || p.dims[0] !== rank || p.dims[1] !== 2) this.fail(n, `paddings must have shape [${rank}, 2] (got [${p.dims.join(', ')}])`);
    if (pads.some((v) => v < 0)) this.fail(n, 'paddings must be ≥ 0');
    const inputs: string[] = [];
    const order = x.nchw ? [...NHWC_TO_NCHW] : [...Array(rank).keys()];
    if (!x.nchw) x = this.plain(x);
    inputs.push(x.name);
    const onnxPads = [...order.map((a) => pads[2 * a]!), ...order.map((a) => pads[2 * a + 1]!)];
    inputs.push(this.constant(int64([onnxPads.length], onnxPads), `${n.name}__pads`));
    if (n.op === 'PadV2') {
      const v = toNumbers(this.constInput(n, 2, 'the constant value'));
      inputs.push(this.constant(float32([], [v[0] ?? 0]), `${n.name}__value`));
    }
    return { name: this.emit('Pad', inputs, { mode: stringAttr('constant') }, n.name), rank, nchw: x.nchw };
  }

  private transpose(n: TfNode): Ref {
    const x = this.plain(this.input(n, 0));
    const perm = toNumbers(this.constInput(n, 1, 'the permutation'));
    return { name: this.emit('Transpose', [this.nameOf(x)], { perm: intsAttr(perm) }, n.name), rank: perm.length, nchw: false };
  }

  private batchNorm(n: TfNode): Ref {
    const format = this.dataFormat(n);
    if (this.attrBool(n, 'is_training')) this.fail(n, 'is_training must be false (an inference graph)');
    const x0 = this.input(n, 0);
    if (x0.rank !== 4) this.fail(n, `the input must be 4-D (got rank ${x0.rank ?? 'unknown'})`);
    const x = format === 'NHWC' ? this.nchw(x0) : this.plain(x0);
    const params = [1, 2, 3, 4].map((i) => this.constant(this.constInput(n, i, ['scale', 'offset', 'mean', 'variance'][i - 1]!), `${n.name}__p`));
    const eps = this.attrNumber(n, 'epsilon', 'f', 1e-4);
    return { name: this.emit('BatchNormalization', [x.name, ...params], { epsilon: floatAttr(eps) }, n.name), rank: 4, nchw: format === 'NHWC' };
  }

  /** Shape, Pack, StridedSlice and Cast: shape arithmetic that specialization folds once the input size is known. */
  private shape(n: TfNode): Ref {
    const x = this.plain(this.input(n, 0));
    return { name: this.emit('Shape', [this.nameOf(x)], {}, n.name), rank: 1, nchw: false, length: x.rank };
  }

  private pack(n: TfNode): Ref {
    const axis = this.attrNumber(n, 'axis', 'i', 0);
    const xs = n.input.map((_, i) => this.plain(this.input(n, i)));
    const rank = (xs[0]?.rank ?? this.fail(n, 'needs at least one input of known rank')) + 1;
    const a = axis < 0 ? axis + rank : axis;
    const axes = this.constant(int64([1], [a]), `${n.name}__axes`);
    const parts = xs.map((x, i) => this.emit('Unsqueeze', [x.name, axes], {}, this.fresh(`${n.name}__item${i}`)));
    return { name: this.emit('Concat', parts, { axis: intAttr(a) }, n.name), rank, nchw: false, length: rank === 1 ? xs.length : undefined };
  }

  private stridedSlice(n: TfNode): Ref {
    const x = this.plain(this.input(n, 0));
    const rank = x.rank ?? this.fail(n, 'the input rank is unknown');
    const [begin, end, strides] = [1, 2, 3].map((i) => toNumbers(this.constInput(n, i, ['begin', 'end', 'strides'][i - 1]!)));
    const mask = (name: string): number => this.attrNumber(n, name, 'i', 0);
    if (mask('ellipsis_mask') !== 0 || mask('new_axis_mask') !== 0) this.fail(n, 'ellipsis_mask and new_axis_mask are not supported');
    const bm = mask('begin_mask'), em = mask('end_mask'), sm = mask('shrink_axis_mask');
    const starts: number[] = [], ends: number[] = [], axes: number[] = [], steps: number[] = [], squeeze: number[] = [];
    begin!.forEach((b, i) => {
      const s = strides![i] ?? 1;
      if (s === 0) this.fail(n, 'strides must not be 0');
      const big = 2 ** 53;
      if (sm & (1 << i)) {
        starts.push(b);
        ends.push(b === -1 ? big : b + 1);
        squeeze.push(i);
      } else {
        starts.push(bm & (1 << i) ? (s > 0 ? 0 : -big) : b);
        ends.push(em & (1 << i) ? (s > 0 ? big : -big) : end![i]!);
      }
      axes.push(i);
      steps.push(sm & (1 << i) ? 1 : s);
    });
    const c = (v: number[], what: string): string => this.constant(int64([v.length], v), `${n.name}__${what}`);
    const sliced = this.emit('Slice', [x.name, c(starts, 'starts'), c(ends, 'ends'), c(axes, 'axes'), c(steps, 'steps')], {}, squeeze.length ? `${n.name}__slice` : n.name);
    if (!squeeze.length) return { name: sliced, rank, nchw: false };
    return { name: this.emit('Squeeze', [sliced, c(squeeze, 'squeeze')], {}, n.name), rank: rank - squeeze.length, nchw: false };
  }

  private cast(n: TfNode): Ref {
    const x = this.input(n, 0);
    const to = this.attr(n, 'DstT')?.type;
    const code = to === 'DT_FLOAT' ? 1 : to === 'DT_INT32' || to === 'DT_INT64' ? 7 : this.fail(n, `DstT must be DT_FLOAT, DT_INT32 or DT_INT64 (got ${text(String(to))})`);
    return { name: this.emit('Cast', [this.nameOf(x)], { to: intAttr(code) }, n.name), rank: x.rank, nchw: x.nchw };
  }

  private matmul(n: TfNode): Ref {
    let a = this.plain(this.input(n, 0));
    const b = this.input(n, 1);
    if (a.rank !== 2) this.fail(n, `the first operand must be 2-D (got rank ${a.rank ?? 'unknown'})`);
    if (!b.value || b.value.dims.length !== 2) this.fail(n, 'the second operand must be a constant 2-D matrix');
    if (this.attrBool(n, 'transpose_a')) a = { name: this.emit('Transpose', [a.name], { perm: intsAttr([1, 0]) }, `${n.name}__a`), rank: 2, nchw: false };
    const w = this.attrBool(n, 'transpose_b') ? permuteTensor(b.value, [1, 0]) : b.value;
    const fused = n.op === '_FusedMatMul';
    const y: Ref = { name: this.emit('MatMul', [a.name, this.constant(w, `${n.name}__weight`)], {}, fused ? `${n.name}__matmul` : n.name), rank: 2, nchw: false };
    return fused ? this.fusedOps(n, y, 2) : y;
  }
}

function decodeBase64(s: string): string {
  // atob exists in Node ≥ 16 and every browser; model.json strings are UTF-8.
  const bin = atob(s);
  return new TextDecoder().decode(Uint8Array.from(bin, (c) => c.charCodeAt(0)));
}
