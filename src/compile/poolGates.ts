/**
 * Rectifier gates move below max-pooling. In `y = Relu(x); p = MaxPool(y)` the backward signal
 * reaches y only at the pool's switches, and there y equals p (the switch holds the window's
 * maximum). A gate that is a function of y, 1[lo < y < hi], therefore takes the same value at
 * every position the signal reaches whether it is computed from y or from p, and it can be applied
 * to the pooled signal before the switches route it: on a tensor a quarter of the size (2×2 pools),
 * already in onnxruntime's blocked layout (the routed signal is not). The rectification max(0, ·)
 * of DeconvNet and Guided Backprop commutes with the routing too when no two windows share an
 * input position (each routed value lands alone; zeros stay zeros); with overlapping windows the
 * routed values add up first, so those pools keep the gate where it is.
 * Design history: docs/design/gates-below-pools.md
 */
import { windowAttributes } from '../ir/convGeometry.js';
import { attrInts, type Graph, type Node } from '../ir/graph.js';
import type { RuleChoice } from '../rules/types.js';

/** Ops whose backward, in the gradient family, is a function of their output alone. */
const OUTPUT_GATED = new Set(['Relu', 'Clip']);

/** Whether no input position lies in two windows of a pool (stride ≥ dilated kernel on every axis). */
function windowsDisjoint(pool: Node): boolean {
  const kernel = attrInts(pool, 'kernel_shape') ?? [];
  const { strides, dilations } = windowAttributes(pool, kernel.length);
  return kernel.every((k, i) => strides[i]! >= (k - 1) * dilations[i]! + 1);
}

/**
 * MaxPool nodes whose input is the output of a rectifier read by nothing else, mapped to that
 * rectifier, where the method's rule at the rectifier may run on the pooled signal instead.
 * `kept` names tensors whose own signal is an output (taps): their rectifiers stay in place.
 */
export function gatesBelowPools(g: Graph, nodes: readonly Node[], rules: (node: Node, graph: Graph) => RuleChoice, kept: ReadonlySet<string>): Map<Node, Node> {
  const readers = new Map<string, number>();
  for (const n of nodes) for (const i of n.inputs) readers.set(i, (readers.get(i) ?? 0) + 1);
  for (const o of g.outputs) readers.set(o.name, (readers.get(o.name) ?? 0) + 1);
  const producer = new Map<string, Node>();
  for (const n of nodes) for (const o of n.outputs) if (o) producer.set(o, n);

  const moved = new Map<Node, Node>();
  for (const pool of nodes) {
    if (pool.op !== 'MaxPool') continue;
    const y = pool.inputs[0]!;
    const gate = producer.get(y);
    if (!gate || !OUTPUT_GATED.has(gate.op) || readers.get(y) !== 1 || kept.has(y)) continue;
    const family = rules(gate, g).family;
    if (family === 'lrp' || rules(pool, g).family === 'lrp') continue;
    if (family !== 'gradient' && !windowsDisjoint(pool)) continue;
    moved.set(pool, gate);
  }
  return moved;
}
