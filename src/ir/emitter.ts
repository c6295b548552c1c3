/** Appends ONNX nodes and constants to the graph being compiled, with collision-free names. */
import { NameScope, type Attr, type Node } from './graph.js';
import { float32, int64, type Tensor } from './tensor.js';

export type AttrValue = number | number[] | string | Tensor | Attr;

function toAttr(v: AttrValue): Attr {
  if (typeof v === 'string') return { type: 'string', value: v };
  if (typeof v === 'number') return Number.isInteger(v) ? { type: 'int', value: v } : { type: 'float', value: v };
  if (Array.isArray(v)) return { type: 'ints', value: v };
  if ('dtype' in v) return { type: 'tensor', value: v };
  return v;
}

export class Emitter {
  readonly nodes: Node[] = [];
  private ints = new Map<string, string>();
  private scalars = new Map<number, string>();
  /** Constants already stored, by tensor identity: a rule that uses one modified weight twice stores it once. */
  private tensors = new WeakMap<Tensor, string>();
  /**
   * Signals emitted as x ⊙ c (LRP relevance at a layer input: the forward tensor x times a
   * K-major signal c), by name. A rule receiving such a signal unchanged can regroup
   * (x ⊙ c) / z as c ⊙ (x / z): the quotient then holds forward tensors only, computed once for
   * all K seeds, and the product itself is dropped as dead code.
   */
  readonly products = new Map<string, { x: string; c: string; shape: readonly number[] }>();

  constructor(
    readonly scope: NameScope,
    readonly initializers: Map<string, Tensor>,
    /** Prefix for generated names, so a dumped graph shows which part made a node. */
    private prefix = 'bwd',
  ) {}

  /** Emits one node and returns its output names. Float attributes that are integral need `floatAttr` (ir/graph.ts). */
  ops(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs = 1, hint = op): string[] {
    const outs = Array.from({ length: outputs }, () => this.scope.fresh(`${this.prefix}/${hint}`));
    const converted: Record<string, Attr> = {};
    for (const [k, v] of Object.entries(attrs)) converted[k] = toAttr(v);
    this.nodes.push({ name: this.scope.fresh(`${this.prefix}/${hint}_node`), op, domain: '', inputs, outputs: outs, attrs: converted });
    return outs;
  }

  op(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, hint = op): string {
    return this.ops(op, inputs, attrs, 1, hint)[0]!;
  }

  constant(t: Tensor, hint = 'const'): string {
    const known = this.tensors.get(t);
    if (known) return known;
    const name = this.scope.fresh(`${this.prefix}/${hint}`);
    this.initializers.set(name, t);
    this.tensors.set(t, name);
    return name;
  }

  /** A 1-D int64 constant (shapes, axes, pads), shared between nodes that need the same values. */
  int64s(values: readonly number[]): string {
    const key = values.join(',');
    let name = this.ints.get(key);
    if (!name) this.ints.set(key, (name = this.constant(int64([values.length], values), 'ints')));
    return name;
  }

  /** A float32 scalar constant, shared. */
  scalar(value: number): string {
    let name = this.scalars.get(value);
    if (!name) this.scalars.set(value, (name = this.constant(float32([], [value]), 'scalar')));
    return name;
  }

  reshape(x: string, shape: readonly number[], hint = 'Reshape'): string {
    return this.op('Reshape', [x, this.int64s(shape)], {}, hint);
  }
}

