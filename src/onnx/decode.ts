/**
 * ONNX ModelProto bytes → graph IR. Every opset between MIN_OPSET and MAX_OPSET is rewritten to the
 * IR's opset (IR_OPSET) here, once: attributes that later opsets moved to inputs (and back) are
 * normalized, Constant nodes become initializers.
 */
import { BacklightError } from '../errors.js';
import { IR_OPSET, type Attr, type Dim, type Graph, type Node, type ValueInfo } from '../ir/graph.js';
import { int64, float32, toNumbers, type Tensor } from '../ir/tensor.js';
import { functionTable, inlineCall } from './inline.js';
import { decomposeGelu, decomposeGroupNorm, lowerToFloat32 } from './lower.js';
import { dtypeFromCode, num, onnx, tensorFromProto, type OnnxNs } from './proto.js';
import { checkGraph, checkModelProto, DEFAULT_BUDGET, type ResourceBudget } from './validate.js';

export const MIN_OPSET = 7;
export const MAX_OPSET = 22;

export interface DecodedModel {
  graph: Graph;
  opset: number;
  producer: string;
}

/**
 * Decodes and validates a model (see validate.ts): a graph that is not a DAG, names written twice,
 * untyped or out-of-range attributes, non-finite weights or initializers over `budget` are refused.
 */
export function decodeModel(bytes: Uint8Array, source = 'model', budget: ResourceBudget = DEFAULT_BUDGET): DecodedModel {
  let model: OnnxNs.ModelProto;
  try {
    model = onnx.ModelProto.decode(bytes);
  } catch (e) {
    throw new BacklightError(`${source}: not a readable ONNX model (${(e as Error).message}); is the file truncated or of another format?`);
  }
  const g = model.graph;
  if (!g || !g.node || g.node.length === 0 || !g.output || g.output.length === 0) {
    throw new BacklightError(`${source}: not an ONNX model (no graph with nodes and outputs found)`);
  }
  let opset = 0;
  for (const o of model.opsetImport ?? []) {
    if (!o.domain || o.domain === 'ai.onnx') opset = num(o.version);
  }
  if (opset === 0) throw new BacklightError(`${source}: the model imports no version of the default ONNX opset`);
  if (opset < MIN_OPSET || opset > MAX_OPSET) {
    throw new BacklightError(`${source}: opset ${opset} is not supported (supported: ${MIN_OPSET}–${MAX_OPSET}); re-export the model with opset_version=17`);
  }

  checkModelProto(model, source, budget);

  const initializers = new Map<string, Tensor>();
  for (const t of g.initializer ?? []) initializers.set(t.name ?? '', tensorFromProto(t, source));

  const inputs: ValueInfo[] = [];
  for (const vi of g.input ?? []) {
    if (initializers.has(vi.name ?? '')) continue; // IR < 4 lists initializers as inputs too
    inputs.push(valueInfo(vi, source));
  }
  if (inputs.length !== 1) {
    throw new BacklightError(`${source}: the model has ${inputs.length} inputs (${inputs.map((i) => i.name).join(', ')}); Backlight explains models with exactly one image input`);
  }
  const graph: Graph = {
    name: g.name ?? 'model',
    inputs,
    outputs: (g.output ?? []).map((vi) => valueInfo(vi, source)),
    nodes: [],
    initializers,
    values: new Map(),
  };
  const upgrader = new OpsetNormalizer(graph, opset, source);
  const functions = functionTable(model.functions ?? [], nodeFromProto);
  // Node names need not be unique in ONNX, but ours name generated tensors and error messages:
  // a repeated name gets a suffix.
  const names = new Set<string>();
  (g.node ?? []).forEach((n, i) => {
    const node = nodeFromProto(n, i);
    for (let k = 2; names.has(node.name); k++) node.name = `${n.name || node.name}#${k}`;
    names.add(node.name);
    for (const inlined of inlineCall(node, functions, source)) upgrader.add(inlined);
  });
  lowerToFloat32(graph);
  names.clear();
  for (const node of graph.nodes) {
    // (nodes inlined from a function body with repeated names)
    const base = node.name;
    for (let k = 2; names.has(node.name); k++) node.name = `${base}#${k}`;
    names.add(node.name);
  }
  checkGraph(graph, source);
  return { graph, opset, producer: `${model.producerName ?? ''} ${model.producerVersion ?? ''}`.trim() };
}

function valueInfo(vi: OnnxNs.IValueInfoProto, source: string): ValueInfo {
  const tt = vi.type?.tensorType;
  if (!tt) throw new BacklightError(`${source}: graph input/output '${vi.name}' is not a tensor`);
  const shape: Dim[] = (tt.shape?.dim ?? []).map((d, i) =>
    d.dimParam ? d.dimParam : d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) > 0 ? num(d.dimValue) : `dim${i}`,
  );
  return { name: vi.name ?? '', dtype: dtypeFromCode(tt.elemType ?? 0, `${source}: '${vi.name}'`), shape };
}

function attrFromProto(a: OnnxNs.IAttributeProto, where: string): Attr | undefined {
  const T = onnx.AttributeProto.AttributeType;
  switch (a.type) {
    case T.INT: return { type: 'int', value: num(a.i) };
    case T.FLOAT: return { type: 'float', value: a.f ?? 0 };
    case T.STRING: return { type: 'string', value: new TextDecoder().decode(a.s ?? new Uint8Array()) };
    case T.INTS: return { type: 'ints', value: (a.ints ?? []).map(num) };
    case T.FLOATS: return { type: 'floats', value: [...(a.floats ?? [])] };
    case T.STRINGS: return { type: 'strings', value: (a.strings ?? []).map((s) => new TextDecoder().decode(s)) };
    case T.TENSOR: return { type: 'tensor', value: tensorFromProto(a.t ?? {}, where) };
    default: return undefined; // graphs and sparse tensors: only control-flow ops use them, and those are refused later
  }
}

function nodeFromProto(n: OnnxNs.INodeProto, index: number): Node {
  const op = n.opType ?? '';
  const name = n.name && n.name.length > 0 ? n.name : `${op}_${index}`;
  const attrs: Record<string, Attr> = {};
  for (const a of n.attribute ?? []) {
    const v = attrFromProto(a, `node '${name}' (${op})`);
    if (v) attrs[a.name ?? ''] = v;
  }
  return { name, op, domain: n.domain === 'ai.onnx' ? '' : (n.domain ?? ''), inputs: [...(n.input ?? [])], outputs: [...(n.output ?? [])], attrs };
}

/** Rewrites nodes written for `opset` into IR_OPSET form as they are added to the graph. */
class OpsetNormalizer {
  private counter = 0;
  constructor(
    private g: Graph,
    private opset: number,
    private source: string,
  ) {}

  private constInput(node: Node, suffix: string, t: Tensor): string {
    const name = `${node.name}__${suffix}_${this.counter++}`;
    this.g.initializers.set(name, t);
    return name;
  }

  private moveIntsToInput(node: Node, attr: string, at: number): void {
    const a = node.attrs[attr];
    delete node.attrs[attr];
    while (node.inputs.length < at) node.inputs.push('');
    if (a && a.type === 'ints') node.inputs[at] = this.constInput(node, attr, int64([a.value.length], a.value));
  }

  private constValue(node: Node, input: number): number[] | undefined {
    const name = node.inputs[input];
    const t = name ? this.g.initializers.get(name) : undefined;
    return t ? toNumbers(t) : undefined;
  }

  add(node: Node): void {
    if (node.domain !== '') {
      throw new BacklightError(`${this.source}: node '${node.name}' (${node.domain}::${node.op}) is from a custom operator domain; only standard ONNX ops are supported`);
    }
    const v = this.opset;
    switch (node.op) {
      case 'Constant': {
        const t = constantValue(node);
        if (this.g.initializers.has(node.outputs[0]!)) {
          throw new BacklightError(`${this.source}: node '${node.name}' (Constant) writes '${node.outputs[0]}', which is already an initializer or another Constant's output; every tensor needs one producer`);
        }
        this.g.initializers.set(node.outputs[0]!, t);
        return;
      }
      case 'Slice':
        if (v < 10) {
          const starts = node.attrs.starts, ends = node.attrs.ends;
          this.moveIntsToInput(node, 'starts', 1);
          this.moveIntsToInput(node, 'ends', 2);
          if (node.attrs.axes) this.moveIntsToInput(node, 'axes', 3);
          if (!starts || !ends) throw new BacklightError(`${this.source}: node '${node.name}' (Slice) lacks starts/ends`);
        }
        break;
      case 'Clip':
        if (v < 11) {
          const lo = node.attrs.min?.type === 'float' ? node.attrs.min.value : -3.4028234663852886e38;
          const hi = node.attrs.max?.type === 'float' ? node.attrs.max.value : 3.4028234663852886e38;
          delete node.attrs.min;
          delete node.attrs.max;
          node.inputs = [node.inputs[0]!, this.constInput(node, 'min', float32([], [lo])), this.constInput(node, 'max', float32([], [hi]))];
        }
        break;
      case 'Pad':
        if (v < 11) {
          const pads = node.attrs.pads, value = node.attrs.value;
          delete node.attrs.pads;
          delete node.attrs.value;
          if (!pads || pads.type !== 'ints') throw new BacklightError(`${this.source}: node '${node.name}' (Pad) lacks pads`);
          node.inputs = [node.inputs[0]!, this.constInput(node, 'pads', int64([pads.value.length], pads.value))];
          if (value && value.type === 'float') node.inputs.push(this.constInput(node, 'value', float32([], [value.value])));
        } else if (v >= 18 && node.inputs[3]) {
          // opset 18 added `axes`: expand the pads to all axes, which needs the rank; resolved at specialization.
          node.attrs['__pad_axes'] = { type: 'ints', value: this.requireConst(node, 3, 'axes') };
          node.inputs = node.inputs.slice(0, 3);
        }
        break;
      case 'Squeeze':
      case 'Unsqueeze':
        if (v < 13) this.moveIntsToInput(node, 'axes', 1);
        break;
      case 'Split':
        if (v < 13) this.moveIntsToInput(node, 'split', 1);
        delete node.attrs.num_outputs; // opset 18: equal split into the outputs, which is opset 13's default too
        break;
      case 'Reshape':
        if (v < 5) this.moveIntsToInput(node, 'shape', 1);
        break;
      case 'ReduceMean': case 'ReduceMax': case 'ReduceMin': case 'ReduceProd': case 'ReduceL2': case 'ReduceL1':
      case 'ReduceLogSumExp': case 'ReduceSumSquare':
        if (v >= 18 && node.inputs[1]) {
          node.attrs.axes = { type: 'ints', value: this.requireConst(node, 1, 'axes') };
          node.inputs = [node.inputs[0]!];
        }
        break;
      case 'ReduceSum':
        if (v < 13) this.moveIntsToInput(node, 'axes', 1);
        break;
      case 'BatchNormalization':
        delete node.attrs.spatial;
        delete node.attrs.is_test;
        delete node.attrs.consumed_inputs;
        delete node.attrs.training_mode;
        node.outputs = [node.outputs[0]!];
        break;
      case 'Dropout':
        node.outputs = [node.outputs[0]!];
        break;
      case 'Upsample': {
        // Upsample (opsets 7–9) and opset-10 Resize read output i at input floor(i / scale).
        const scales = v < 9 ? node.attrs.scales : undefined;
        const scaleInput = scales?.type === 'floats' ? this.constInput(node, 'scales', float32([scales.value.length], scales.value)) : node.inputs[1]!;
        node.op = 'Resize';
        node.inputs = [node.inputs[0]!, '', scaleInput];
        node.attrs = { mode: node.attrs.mode ?? { type: 'string', value: 'nearest' }, coordinate_transformation_mode: { type: 'string', value: 'asymmetric' }, nearest_mode: { type: 'string', value: 'floor' } };
        break;
      }
      case 'Resize':
        if (v < 11) {
          node.inputs = [node.inputs[0]!, '', node.inputs[1]!];
          node.attrs = { mode: node.attrs.mode ?? { type: 'string', value: 'nearest' }, coordinate_transformation_mode: { type: 'string', value: 'asymmetric' }, nearest_mode: { type: 'string', value: 'floor' } };
        } else if (node.attrs.axes || (node.attrs.antialias?.type === 'int' && node.attrs.antialias.value !== 0)) {
          throw new BacklightError(`${this.source}: node '${node.name}' (Resize): the axes and antialias attributes (opset 18) are not supported`);
        }
        break;
      case 'Gelu':
        for (const n of decomposeGelu(node, (suffix, t) => this.constInput(node, suffix, t))) this.g.nodes.push(n);
        return;
      case 'GroupNormalization':
        for (const n of decomposeGroupNorm(node, v, (suffix, t) => this.constInput(node, suffix, t), this.source)) this.g.nodes.push(n);
        return;
      case 'Gemm': case 'Add': case 'Sub': case 'Mul': case 'Div':
        delete node.attrs.broadcast;
        delete node.attrs.axis;
        break;
      case 'MaxPool': case 'AveragePool': case 'Conv': case 'ConvTranspose': case 'BatchNorm':
        break;
    }
    this.g.nodes.push(node);
  }

  private requireConst(node: Node, input: number, what: string): number[] {
    const vals = this.constValue(node, input);
    if (!vals) throw new BacklightError(`${this.source}: node '${node.name}' (${node.op}): ${what} must be a constant`);
    return vals;
  }
}

function constantValue(node: Node): Tensor {
  const a = node.attrs;
  if (a.value?.type === 'tensor') return a.value.value;
  if (a.value_float?.type === 'float') return float32([], [a.value_float.value]);
  if (a.value_floats?.type === 'floats') return float32([a.value_floats.value.length], a.value_floats.value);
  if (a.value_int?.type === 'int') return int64([], [a.value_int.value]);
  if (a.value_ints?.type === 'ints') return int64([a.value_ints.value.length], a.value_ints.value);
  throw new BacklightError(`node '${node.name}' (Constant): unsupported value attribute (${Object.keys(a).join(', ')})`);
}

export { IR_OPSET };
