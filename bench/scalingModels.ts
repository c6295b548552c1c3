/**
 * Synthetic models whose size is one parameter, for compile-time scaling (bench/compileScaling.ts,
 * test/compileScaling.test.ts): small tensors, so that time goes to the graph, not the arithmetic.
 */
import type { Graph, Node } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';

/** Width of every hidden tensor ([batch, WIDTH]). */
export const WIDTH = 8;
export const CLASSES = 4;

/** Deterministic weights in [-1, 1) (a sine table; no RNG state to share). */
function weights(dims: number[], salt: number): Float32Array {
  const n = dims.reduce((a, b) => a * b, 1);
  return Float32Array.from({ length: n }, (_, i) => Math.sin(1.7 * i + 0.3 * salt + 0.1));
}

function base(name: string): Graph {
  return {
    name,
    inputs: [{ name: 'x', dtype: 'float32', shape: ['batch', WIDTH] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['batch', CLASSES] }],
    nodes: [],
    initializers: new Map(),
    values: new Map(),
  };
}

function gemm(g: Graph, name: string, x: string, units: number, inWidth: number, out = name): string {
  g.initializers.set(`${name}.w`, float32([units, inWidth], weights([units, inWidth], g.initializers.size)));
  g.initializers.set(`${name}.b`, float32([units], weights([units], g.initializers.size + 1)));
  g.nodes.push({ name, op: 'Gemm', domain: '', inputs: [x, `${name}.w`, `${name}.b`], outputs: [out], attrs: { transB: { type: 'int', value: 1 } } });
  return out;
}

const node = (op: string, name: string, inputs: string[], attrs: Node['attrs'] = {}): Node => ({ name, op, domain: '', inputs, outputs: [name], attrs });

/** x → Gemm → `relus` chained ReLUs → Gemm → logits: `relus` + 2 nodes. */
export function chainModel(relus: number): Graph {
  const g = base(`chain${relus}`);
  let h = gemm(g, 'fc_in', 'x', WIDTH, WIDTH);
  for (let i = 0; i < relus; i++) {
    g.nodes.push(node('Relu', `relu${i}`, [h]));
    h = `relu${i}`;
  }
  gemm(g, 'fc_out', h, CLASSES, WIDTH, 'logits');
  return g;
}

/**
 * x → Gemm → h, then `branches` branches Relu(h + b_i) (a constant b_i each), joined by a chain of
 * Adds ('add') or one Concat followed by a Gemm ('concat'), → Gemm → logits. Every branch reads h,
 * so h's backward signal is a sum of `branches` contributions.
 */
export function wideModel(branches: number, join: 'add' | 'concat'): Graph {
  const g = base(`wide_${join}${branches}`);
  const h = gemm(g, 'fc_in', 'x', WIDTH, WIDTH);
  const outs: string[] = [];
  for (let i = 0; i < branches; i++) {
    g.initializers.set(`b${i}`, float32([WIDTH], weights([WIDTH], i)));
    g.nodes.push(node('Add', `shift${i}`, [h, `b${i}`]));
    g.nodes.push(node('Relu', `branch${i}`, [`shift${i}`]));
    outs.push(`branch${i}`);
  }
  let joined: string;
  let width = WIDTH;
  if (join === 'add') {
    joined = outs[0]!;
    for (let i = 1; i < branches; i++) {
      g.nodes.push(node('Add', `sum${i}`, [joined, outs[i]!]));
      joined = `sum${i}`;
    }
  } else {
    g.nodes.push(node('Concat', 'concat', outs, { axis: { type: 'int', value: 1 } }));
    joined = gemm(g, 'fc_mix', 'concat', WIDTH, WIDTH * branches);
    width = WIDTH;
  }
  gemm(g, 'fc_out', joined, CLASSES, width, 'logits');
  return g;
}
