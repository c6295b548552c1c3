/**
 * Checks of an imported model before anything runs: a broken or hostile graph is refused in one
 * line naming the node, tensor or attribute and what was expected, instead of failing later as an
 * internal error or running to a silent NaN. The checks that need no shapes run at import
 * (`checkModelProto` on the protobuf, `checkGraph` on the decoded IR); those that need shapes run
 * where shapes are inferred (`checkWindowGeometry`, `checkBatchNormChannels`, called from
 * canonicalize/specialize.ts). Messages read `node 'NAME' (Op): <what> must be <expected> (got …)`.
 * A model onnxruntime refuses is refused here too (the fuzz suite's findings:
 * docs/design/hostile-inputs.md).
 */
import { BacklightError } from '../errors.js';
import { attrInt, attrInts, type Graph, type Node } from '../ir/graph.js';
import { isFloat, sizeOf } from '../ir/tensor.js';
import { ATTRIBUTE_NAMES } from './attributeNames.js';
import { checkDims, num, type OnnxNs } from './proto.js';

import type { ResourceBudget } from './budget.js';

export type { ResourceBudget } from './budget.js';

export const DEFAULT_BUDGET: ResourceBudget = { maxInputElements: 2 ** 28, maxInitializerBytes: 4 * 2 ** 30 };

const BYTES_BY_CODE: Record<number, number> = { 1: 4, 2: 1, 3: 1, 5: 2, 6: 4, 7: 8, 9: 1, 10: 2, 11: 8 };

const fail = (source: string, message: string): never => {
  throw new BacklightError(`${source}: ${message}`);
};

const nodeLabel = (n: OnnxNs.INodeProto, i: number): string => `node '${n.name || `${n.opType ?? ''}_${i}`}' (${n.opType ?? ''})`;

/** Checks on the protobuf that the decoded IR can no longer see (it keeps one value per name). */
export function checkModelProto(model: OnnxNs.IModelProto, source: string, budget: ResourceBudget): void {
  const g = model.graph!;
  const checkAttrs = (nodes: readonly OnnxNs.INodeProto[], where: string): void =>
    nodes.forEach((n, i) => {
      for (const a of n.attribute ?? []) {
        if (!a.type) {
          fail(source, `${where}${nodeLabel(n, i)}: attribute '${a.name ?? ''}' has no type (AttributeProto.type is UNDEFINED); every attribute must declare its type`);
        }
      }
    });
  checkAttrs(g.node ?? [], '');
  for (const f of model.functions ?? []) checkAttrs(f.node ?? [], `function '${f.name ?? ''}': `);
  checkNodes(g.node ?? [], source);
  checkElementTypes(g, source);

  const seen = new Set<string>();
  let bytes = 0;
  for (const t of g.initializer ?? []) {
    const name = t.name ?? '';
    if (seen.has(name)) fail(source, `initializer '${name}' is defined twice; each initializer needs a unique name (which copy is meant is ambiguous)`);
    seen.add(name);
    const dims = (t.dims ?? []).map(num);
    checkDims(dims, `initializer '${name}'`, source);
    bytes += sizeOf(dims) * (BYTES_BY_CODE[t.dataType ?? 0] ?? 1);
  }
  if (bytes > budget.maxInitializerBytes) {
    fail(source, `the initializers hold ${bytes} bytes, more than the budget of ${budget.maxInitializerBytes} (ExplainerOptions.budget.maxInitializerBytes)`);
  }
  for (const vi of [...(g.input ?? []), ...(g.output ?? [])]) {
    (vi.type?.tensorType?.shape?.dim ?? []).forEach((d, i) => {
      if (!d.dimParam && d.dimValue !== undefined && d.dimValue !== null && num(d.dimValue) < 0) {
        fail(source, `graph input/output '${vi.name ?? ''}': dimension ${i} is ${num(d.dimValue)}; a dimension must be ≥ 0 or a symbolic name`);
      }
    });
  }
}

/**
 * Attributes whose type is the same in every standard op that has them: a model that gives them
 * another type (an INT epsilon) is refused by onnxruntime, so it is refused here too, by name.
 */
const ATTRIBUTE_TYPES: Record<string, number> = (() => {
  const T = { FLOAT: 1, INT: 2, STRING: 3, INTS: 7 };
  const table: Record<string, number> = {};
  for (const a of ['alpha', 'beta', 'gamma', 'epsilon', 'momentum', 'lambd']) table[a] = T.FLOAT;
  for (const a of ['strides', 'pads', 'dilations', 'kernel_shape', 'output_padding', 'perm']) table[a] = T.INTS;
  for (const a of ['group', 'transA', 'transB', 'keepdims', 'ceil_mode', 'count_include_pad', 'to', 'axis']) table[a] = T.INT;
  for (const a of ['auto_pad']) table[a] = T.STRING;
  return table;
})();
const TYPE_NAMES: Record<number, string> = { 1: 'FLOAT', 2: 'INT', 3: 'STRING', 4: 'TENSOR', 5: 'GRAPH', 6: 'FLOATS', 7: 'INTS', 8: 'STRINGS', 9: 'TENSORS', 10: 'GRAPHS', 11: 'SPARSE_TENSOR', 12: 'SPARSE_TENSORS', 13: 'TYPE_PROTO', 14: 'TYPE_PROTOS' };

/**
 * Node names, where given, are unique (onnxruntime refuses a graph with two nodes of one name);
 * attributes of default-domain ops are ones the op defines, of the type it defines.
 */
function checkNodes(nodes: readonly OnnxNs.INodeProto[], source: string): void {
  const seen = new Map<string, OnnxNs.INodeProto>();
  nodes.forEach((n, i) => {
    const name = n.name || `${n.opType ?? ''}_${i}`;
    if (n.name) {
      const other = seen.get(n.name);
      if (other) fail(source, `two nodes are named '${n.name}' (${other.opType ?? ''} and ${n.opType ?? ''}); node names must be unique (or empty)`);
      seen.set(n.name, n);
    }
    if (n.domain && n.domain !== 'ai.onnx') return;
    const known = ATTRIBUTE_NAMES[n.opType ?? ''];
    for (const a of n.attribute ?? []) {
      if (known && !known.includes(a.name ?? '')) {
        fail(source, `node '${name}' (${n.opType ?? ''}): unknown attribute '${a.name ?? ''}'; ${n.opType ?? ''} has ${known.length === 0 ? 'no attributes' : known.join(', ')}`);
      }
      const want = ATTRIBUTE_TYPES[a.name ?? ''];
      if (want !== undefined && a.type && a.type !== want) {
        fail(source, `node '${name}' (${n.opType ?? ''}): attribute '${a.name ?? ''}' has type ${TYPE_NAMES[a.type] ?? a.type}; it must be ${TYPE_NAMES[want]}`);
      }
    }
  });
}

/** Inputs of these ops (by index) share one element type T. */
const SAME_TYPE: Record<string, readonly number[]> = {
  Conv: [0, 1, 2], ConvTranspose: [0, 1, 2], Gemm: [0, 1, 2], MatMul: [0, 1], PRelu: [0, 1],
  Add: [0, 1], Sub: [0, 1], Mul: [0, 1], Div: [0, 1], Sum: [], Max: [], Min: [], Mean: [], Concat: [],
  InstanceNormalization: [0, 1, 2], LayerNormalization: [0, 1, 2], Where: [1, 2],
};
/** Ops whose output has the element type of input 0. */
const PASS_TYPE = new Set([
  ...Object.keys(SAME_TYPE).filter((op) => op !== 'Where'), 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Softmax', 'LogSoftmax', 'Flatten', 'Reshape', 'Transpose', 'Squeeze', 'Unsqueeze',
  'MaxPool', 'AveragePool', 'GlobalAveragePool', 'GlobalMaxPool', 'BatchNormalization', 'Identity', 'Dropout', 'Clip', 'Pad', 'Slice', 'Gather', 'Resize',
  'Upsample', 'ReduceMean', 'ReduceSum', 'ReduceMax', 'Sqrt', 'Exp', 'Neg', 'Abs', 'Erf', 'HardSigmoid', 'HardSwish', 'Elu', 'Selu', 'Softplus', 'Split', 'Expand', 'Tile',
]);
const DTYPE_NAMES: Record<number, string> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 16: 'bfloat16' };

/**
 * Element types agree where an op needs one type for several inputs (a float16 weight into a float32
 * Gemm, an int64 Conv bias): onnxruntime refuses such a model, and Backlight, which computes in
 * float32, would otherwise run it. Types follow the nodes in file order (ONNX stores them
 * topologically sorted); a tensor whose type is not known here is not checked.
 */
function checkElementTypes(g: OnnxNs.IGraphProto, source: string): void {
  const types = new Map<string, number>();
  for (const vi of g.input ?? []) if (vi.type?.tensorType?.elemType) types.set(vi.name ?? '', vi.type.tensorType.elemType);
  for (const t of g.initializer ?? []) if (t.dataType) types.set(t.name ?? '', t.dataType);
  (g.node ?? []).forEach((n, i) => {
    if (n.domain && n.domain !== 'ai.onnx') return;
    const op = n.opType ?? '';
    const inputs = n.input ?? [];
    const shared = SAME_TYPE[op];
    if (shared) {
      const idx = shared.length > 0 ? shared : inputs.map((_, k) => k);
      let first: { k: number; type: number } | undefined;
      for (const k of idx) {
        const type = inputs[k] ? types.get(inputs[k]!) : undefined;
        if (type === undefined) continue;
        if (!first) first = { k, type };
        else if (type !== first.type) {
          const name = (j: number) => `input ${j} '${inputs[j]}' is ${DTYPE_NAMES[j === k ? type : first!.type] ?? `type ${j === k ? type : first!.type}`}`;
          fail(source, `${nodeLabel(n, i)}: ${name(k)} but ${name(first.k)}; the inputs of ${op} must share one element type`);
        }
      }
    }
    const out = n.output?.[0];
    if (!out) return;
    const attr = (a: string) => n.attribute?.find((x) => x.name === a);
    let type: number | undefined;
    if (op === 'Cast') type = num(attr('to')?.i);
    else if (op === 'Constant') type = attr('value')?.t?.dataType ?? undefined;
    else if (op === 'Shape' || op === 'Size' || op === 'ArgMax' || op === 'ArgMin' || op === 'NonZero') type = 7;
    else if (op === 'Where' && inputs[1]) type = types.get(inputs[1]);
    else if (PASS_TYPE.has(op) && inputs[0]) type = types.get(inputs[0]);
    if (type) types.set(out, type);
  });
}

/** The first index of a NaN or ±Inf in float data, or -1. */
export function firstNonFinite(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i]!)) return i;
  return -1;
}

const valueText = (v: number): string => (Number.isNaN(v) ? 'NaN' : v > 0 ? '+Inf' : '-Inf');

/** Ops whose initializer inputs are learned weights: those must be finite (masks elsewhere may hold ±Inf). */
const WEIGHTED = new Set(['Conv', 'ConvTranspose', 'Gemm', 'MatMul', 'BatchNormalization', 'InstanceNormalization', 'LayerNormalization', 'PRelu']);

/** Checks on the decoded graph that need no shapes. */
export function checkGraph(g: Graph, source: string): void {
  const writer = new Map<string, Node>();
  for (const n of g.nodes) {
    for (const o of n.outputs) {
      if (!o) continue;
      const other = writer.get(o);
      if (other) fail(source, `tensor '${o}' is written by two nodes, '${other.name}' (${other.op}) and '${n.name}' (${n.op}); every tensor needs one producer`);
      if (g.initializers.has(o)) fail(source, `node '${n.name}' (${n.op}) writes tensor '${o}', which is also an initializer or a Constant's output`);
      if (g.inputs.some((i) => i.name === o)) fail(source, `node '${n.name}' (${n.op}) writes tensor '${o}', which is the graph input`);
      writer.set(o, n);
    }
  }
  checkAcyclic(g, writer, source);
  for (const n of g.nodes) checkAttributes(n, source);
  checkWeights(g, source);
}

/** An iterative depth-first search (deep chains must not overflow the stack); names a node on a cycle. */
function checkAcyclic(g: Graph, writer: Map<string, Node>, source: string): void {
  const state = new Map<Node, 1 | 2>(); // 1: on the current path, 2: done
  for (const root of g.nodes) {
    if (state.has(root)) continue;
    const stack: { node: Node; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      if (top.next >= top.node.inputs.length) {
        state.set(top.node, 2);
        stack.pop();
        continue;
      }
      const input = top.node.inputs[top.next++]!;
      const p = input ? writer.get(input) : undefined;
      if (!p) continue;
      const s = state.get(p);
      if (s === 1) {
        const loop = p === top.node ? 'reads its own output' : `is on a cycle (reads '${input}', which depends on the node's own output)`;
        fail(source, `node '${p.name}' (${p.op}) ${loop}; the graph must be acyclic`);
      }
      if (s === undefined) {
        state.set(p, 1);
        stack.push({ node: p, next: 0 });
      }
    }
  }
}

const WINDOW_OPS = new Set(['Conv', 'ConvTranspose', 'MaxPool', 'AveragePool', 'LpPool']);

function checkAttributes(n: Node, source: string): void {
  if (!WINDOW_OPS.has(n.op)) return;
  const at = `node '${n.name}' (${n.op})`;
  const ints = (name: string, ok: (v: number) => boolean, expected: string): void => {
    const a = n.attrs[name];
    if (!a) return;
    if (a.type !== 'ints') fail(source, `${at}: attribute '${name}' must be a list of integers (got ${a.type})`);
    const v = attrInts(n, name)!;
    if (v.some((x) => !ok(x))) fail(source, `${at}: ${name} must be ${expected} (got [${v.join(', ')}])`);
  };
  ints('strides', (v) => v >= 1, 'integers ≥ 1');
  ints('dilations', (v) => v >= 1, 'integers ≥ 1');
  ints('pads', (v) => v >= 0, 'integers ≥ 0');
  ints('kernel_shape', (v) => v >= 1, 'integers ≥ 1');
  const group = n.attrs.group;
  if (group) {
    if (group.type !== 'int') fail(source, `${at}: attribute 'group' must be an integer (got ${group.type})`);
    const v = attrInt(n, 'group', 1);
    if (v < 1) fail(source, `${at}: group must be an integer ≥ 1 (got ${v})`);
  }
}

function checkWeights(g: Graph, source: string): void {
  const checked = new Set<string>();
  for (const n of g.nodes) {
    const weighted = WEIGHTED.has(n.op);
    n.inputs.forEach((name, i) => {
      const t = name ? g.initializers.get(name) : undefined;
      if (!t || !isFloat(t.dtype)) return;
      const key = `${name}\u0000${weighted}`;
      if (checked.has(key)) return;
      checked.add(key);
      const data = t.data as ArrayLike<number>;
      const bad = weighted ? firstNonFinite(data) : firstNaN(data);
      if (bad >= 0) fail(source, `initializer '${name}' (input ${i} of node '${n.name}' (${n.op})) holds ${valueText(data[bad]!)} at index ${bad}; weights must be finite`);
      if (n.op === 'BatchNormalization' && i === 4) {
        const neg = Array.prototype.findIndex.call(data, (v: number) => v < 0);
        if (neg >= 0) fail(source, `node '${n.name}' (BatchNormalization): variance '${name}' holds ${data[neg]} at index ${neg}; a variance must be ≥ 0`);
      }
    });
    if (n.op === 'BatchNormalization') checkBatchNormLengths(n, g, source);
  }
}

function firstNaN(data: ArrayLike<number>): number {
  for (let i = 0; i < data.length; i++) if (Number.isNaN(data[i]!)) return i;
  return -1;
}

const BN_PARAMS = ['scale', 'B', 'mean', 'var'] as const;

function checkBatchNormLengths(n: Node, g: Graph, source: string): void {
  let length: number | undefined;
  BN_PARAMS.forEach((what, j) => {
    const name = n.inputs[j + 1];
    const t = name ? g.initializers.get(name) : undefined;
    if (!t) return;
    if (t.dims.length !== 1) fail(source, `node '${n.name}' (BatchNormalization): ${what} '${name}' has shape [${t.dims.join(', ')}]; expected one value per channel, [C]`);
    if (length !== undefined && t.dims[0] !== length) {
      fail(source, `node '${n.name}' (BatchNormalization): ${what} '${name}' has ${t.dims[0]} values but the parameters before it have ${length}; all four need one value per channel`);
    }
    length = t.dims[0];
  });
}

/** An input tensor within the budget. */
export function checkInputSize(dims: readonly number[], where: string, budget: ResourceBudget): void {
  const n = sizeOf(dims);
  if (n > budget.maxInputElements) {
    throw new BacklightError(`${where}: shape [${dims.join(', ')}] has ${n} elements, more than the budget of ${budget.maxInputElements} (ExplainerOptions.budget.maxInputElements)`, 'usage');
  }
}
