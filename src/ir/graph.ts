/**
 * The graph IR: ONNX semantics at one fixed opset (IR_OPSET), so that import normalizes
 * every opset quirk once and the compiler emits nodes without translation.
 */
import type { DType, Tensor } from './tensor.js';

/** The opset every IR graph and every compiled graph uses. */
export const IR_OPSET = 17;

export type Attr =
  | { type: 'int'; value: number }
  | { type: 'float'; value: number }
  | { type: 'string'; value: string }
  | { type: 'ints'; value: number[] }
  | { type: 'floats'; value: number[] }
  | { type: 'strings'; value: string[] }
  | { type: 'tensor'; value: Tensor };

export interface Node {
  name: string;
  op: string;
  domain: string;
  /** Tensor names; '' marks an omitted optional input. */
  inputs: string[];
  outputs: string[];
  attrs: Record<string, Attr>;
}

/** A dimension is a number once known, or a symbolic name (e.g. "batch") before specialization. */
export type Dim = number | string;

export interface ValueInfo {
  name: string;
  dtype: DType;
  shape: Dim[];
}

export interface Graph {
  name: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  nodes: Node[];
  initializers: Map<string, Tensor>;
  /** Static type and shape of every tensor, filled by shape inference. */
  values: Map<string, ValueInfo>;
}

export function cloneGraph(g: Graph): Graph {
  return {
    name: g.name,
    inputs: g.inputs.map((v) => ({ ...v, shape: [...v.shape] })),
    outputs: g.outputs.map((v) => ({ ...v, shape: [...v.shape] })),
    nodes: g.nodes.map((n) => ({ ...n, inputs: [...n.inputs], outputs: [...n.outputs], attrs: { ...n.attrs } })),
    // Tensors are immutable by convention: passes replace entries, never write into data.
    initializers: new Map(g.initializers),
    values: new Map([...g.values].map(([k, v]) => [k, { ...v, shape: [...v.shape] }])),
  };
}

export function attrInt(node: Node, name: string, fallback: number): number;
export function attrInt(node: Node, name: string): number | undefined;
export function attrInt(node: Node, name: string, fallback?: number): number | undefined {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  if (a.type !== 'int') throw new Error(`node '${node.name}' (${node.op}): attribute '${name}' should be an int`);
  return a.value;
}

export function attrFloat(node: Node, name: string, fallback: number): number {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  if (a.type === 'float' || a.type === 'int') return a.value;
  throw new Error(`node '${node.name}' (${node.op}): attribute '${name}' should be a float`);
}

export function attrInts(node: Node, name: string): number[] | undefined {
  const a = node.attrs[name];
  if (a === undefined) return undefined;
  if (a.type !== 'ints') throw new Error(`node '${node.name}' (${node.op}): attribute '${name}' should be a list of ints`);
  return a.value;
}

export function attrString(node: Node, name: string, fallback: string): string {
  const a = node.attrs[name];
  if (a === undefined) return fallback;
  if (a.type !== 'string') throw new Error(`node '${node.name}' (${node.op}): attribute '${name}' should be a string`);
  return a.value;
}

export const intAttr = (value: number): Attr => ({ type: 'int', value });
export const intsAttr = (value: number[]): Attr => ({ type: 'ints', value: [...value] });
export const floatAttr = (value: number): Attr => ({ type: 'float', value });
export const stringAttr = (value: string): Attr => ({ type: 'string', value });

/** The static shape of a tensor; throws when shape inference has not resolved it. */
export function shapeOf(g: Graph, name: string): number[] {
  const init = g.initializers.get(name);
  if (init) return init.dims;
  const v = g.values.get(name);
  if (!v) throw new Error(`tensor '${name}' has no inferred shape`);
  return v.shape.map((d) => {
    if (typeof d !== 'number') throw new Error(`tensor '${name}' has a symbolic dimension '${d}'`);
    return d;
  });
}

/** Map from tensor name to the nodes that read it. */
export function consumers(g: Graph): Map<string, Node[]> {
  const m = new Map<string, Node[]>();
  for (const n of g.nodes) {
    for (const i of n.inputs) {
      if (!i) continue;
      let list = m.get(i);
      if (!list) m.set(i, (list = []));
      if (!list.includes(n)) list.push(n);
    }
  }
  return m;
}

/** Map from tensor name to the node that writes it. */
export function producers(g: Graph): Map<string, Node> {
  const m = new Map<string, Node>();
  for (const n of g.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

/**
 * Sort nodes so that every node follows the producers of its inputs; throws on cycles. The order is
 * a depth-first post-order from the nodes in their given order (so an already sorted graph keeps
 * its order), computed with an explicit stack: chains of 100,000 nodes must not overflow it.
 */
export function topoSort(g: Graph): void {
  const prod = producers(g);
  const state = new Map<Node, 1 | 2>(); // 1: on the current path, 2: placed
  const order: Node[] = [];
  for (const root of g.nodes) {
    if (state.has(root)) continue;
    const stack: { node: Node; next: number }[] = [{ node: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const input = top.node.inputs[top.next++];
      if (input === undefined) {
        state.set(top.node, 2);
        order.push(top.node);
        stack.pop();
        continue;
      }
      const p = input ? prod.get(input) : undefined;
      if (!p) continue;
      const s = state.get(p);
      if (s === 1) throw new Error(`the graph has a cycle through node '${p.name}'`);
      if (s === undefined) {
        state.set(p, 1);
        stack.push({ node: p, next: 0 });
      }
    }
  }
  g.nodes = order;
}

/**
 * Orders the nodes as they become ready: a first-in first-out topological sort (Kahn's algorithm,
 * ties in the given order). onnxruntime executes a sorted graph in node order, and its session
 * creation slows down with the number of nodes that are ready long before their place in that
 * order: a backward pass whose rectifier masks read only forward tensors but sit after the whole
 * forward pass made session creation grow with the square of the depth (measurements in
 * docs/design/compile-time.md). Throws on cycles. Linear in nodes and edges.
 */
export function scheduleWhenReady(g: Graph): void {
  const prod = producers(g);
  const pending = new Map<Node, number>();
  const readers = new Map<string, Node[]>();
  const queue: Node[] = [];
  for (const n of g.nodes) {
    const waits = new Set<string>();
    for (const i of n.inputs) if (i && prod.has(i)) waits.add(i);
    for (const i of waits) {
      let list = readers.get(i);
      if (!list) readers.set(i, (list = []));
      list.push(n);
    }
    pending.set(n, waits.size);
    if (waits.size === 0) queue.push(n);
  }
  for (let head = 0; head < queue.length; head++) {
    for (const o of queue[head]!.outputs) {
      for (const r of (o && readers.get(o)) || []) {
        const left = pending.get(r)! - 1;
        pending.set(r, left);
        if (left === 0) queue.push(r);
      }
    }
  }
  if (queue.length !== g.nodes.length) {
    const stuck = g.nodes.find((n) => pending.get(n)! > 0)!;
    throw new Error(`the graph has a cycle through node '${stuck.name}'`);
  }
  g.nodes = queue;
}

/** Replace every read of tensor `from` by `to` (nodes and graph outputs). */
export function renameUses(g: Graph, from: string, to: string): void {
  for (const n of g.nodes) n.inputs = n.inputs.map((i) => (i === from ? to : i));
  for (const o of g.outputs) if (o.name === from) o.name = to;
}

/** Drop nodes whose outputs nobody reads, and initializers nobody uses. */
export function removeDeadNodes(g: Graph): void {
  const live = new Set(g.outputs.map((o) => o.name));
  const kept: Node[] = [];
  for (let i = g.nodes.length - 1; i >= 0; i--) {
    const n = g.nodes[i]!;
    if (n.outputs.some((o) => o && live.has(o))) {
      kept.push(n);
      for (const x of n.inputs) if (x) live.add(x);
    }
  }
  g.nodes = kept.reverse();
  for (const name of [...g.initializers.keys()]) if (!live.has(name)) g.initializers.delete(name);
}

/** Generates tensor and node names that do not collide with a graph's own. */
export class NameScope {
  private used = new Set<string>();
  private counter = 0;
  constructor(g?: Graph) {
    if (!g) return;
    for (const n of g.nodes) {
      this.used.add(n.name);
      for (const o of n.outputs) this.used.add(o);
    }
    for (const k of g.initializers.keys()) this.used.add(k);
    for (const v of g.inputs) this.used.add(v.name);
  }
  fresh(hint: string): string {
    let name: string;
    do name = `${hint}__${this.counter++}`;
    while (this.used.has(name));
    this.used.add(name);
    return name;
  }
  reserve(name: string): void {
    this.used.add(name);
  }
}
