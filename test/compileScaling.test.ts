/**
 * Compile scaling, without timing anything (timings: bench/compileScaling.ts): deep chains and
 * wide DAGs compile, their gradients equal the analytic ones, the graph utilities handle deep
 * chains without recursion, and the compiled node order keeps few nodes waiting (the property that
 * keeps onnxruntime's session creation linear; docs/design/compile-time.md).
 */
import { describe, expect, it } from 'vitest';
import { chainModel, CLASSES, wideModel, WIDTH } from '../bench/scalingModels.js';
import { canonicalize } from '../src/canonicalize/index.js';
import { compile } from '../src/compile/compile.js';
import { Explainer } from '../src/index.js';
import { producers, scheduleWhenReady, topoSort, type Graph } from '../src/ir/graph.js';
import { extractionOptions } from '../src/methods/framework.js';
import { methodByName } from '../src/methods/methods.js';
import { decodeModel } from '../src/onnx/decode.js';
import { encodeModel } from '../src/onnx/encode.js';

/** Every node follows the producers of its inputs. */
function isTopological(g: Graph): boolean {
  const prod = producers(g);
  const placed = new Set<string>();
  for (const n of g.nodes) {
    if (n.inputs.some((i) => i && prod.has(i) && !placed.has(i))) return false;
    for (const o of n.outputs) placed.add(o);
  }
  return true;
}

/**
 * The most nodes that are ready (all inputs computed) but not yet run, when the nodes run in
 * list order: what made onnxruntime's session creation grow with the square of the depth.
 */
function maxWaiting(g: Graph): number {
  const prod = producers(g);
  const readers = new Map<string, number[]>();
  const pending = g.nodes.map((n, j) => {
    const waits = new Set(n.inputs.filter((i) => i && prod.has(i)));
    for (const i of waits) {
      const list = readers.get(i);
      if (list) list.push(j);
      else readers.set(i, [j]);
    }
    return waits.size;
  });
  const ready = new Set<number>(pending.flatMap((p, j) => (p === 0 ? [j] : [])));
  let most = 0;
  g.nodes.forEach((n, j) => {
    ready.delete(j);
    for (const o of n.outputs) for (const r of readers.get(o) ?? []) if (--pending[r]! === 0) ready.add(r);
    most = Math.max(most, ready.size);
  });
  return most;
}

const gradient = { ...extractionOptions(methodByName('gradient')), seeds: { top: 1, given: 0 }, reductions: [] };

function compiledChain(relus: number): Graph {
  const { graph } = decodeModel(encodeModel(chainModel(relus)), 'chain');
  return compile(canonicalize(graph, [1, WIDTH]).graph, gradient).graph;
}

/** ∂ logit_c / ∂ x of `model` at x, summing over branches whose ReLU is open (h + shift > 0). */
function analyticGradient(model: Graph, x: Float32Array, shifts: Float32Array[], c: number): Float64Array {
  const w = (name: string): Float32Array => model.initializers.get(name)!.data as Float32Array;
  const [wIn, bIn, wOut] = [w('fc_in.w'), w('fc_in.b'), w('fc_out.w')];
  const h = Array.from({ length: WIDTH }, (_, j) => bIn[j]! + x.reduce((s, xi, i) => s + wIn[j * WIDTH + i]! * xi, 0));
  const grad = new Float64Array(WIDTH);
  for (const shift of shifts) {
    for (let j = 0; j < WIDTH; j++) {
      if (h[j]! + shift[j]! <= 0) continue;
      for (let i = 0; i < WIDTH; i++) grad[i] += wOut[c * WIDTH + j]! * wIn[j * WIDTH + i]!;
    }
  }
  return grad;
}

const x = Float32Array.from({ length: WIDTH }, (_, i) => Math.cos(0.9 * i + 0.2));

describe('compile scaling', () => {
  it('topoSort and scheduleWhenReady order a 30,000-node chain (no recursion) and refuse cycles', () => {
    const g = chainModel(30_000);
    g.nodes.reverse();
    topoSort(g);
    expect(isTopological(g)).toBe(true);
    g.nodes.reverse();
    scheduleWhenReady(g);
    expect(isTopological(g)).toBe(true);
    expect(g.nodes.length).toBe(30_002);
    const loop = chainModel(3);
    loop.nodes[1]!.inputs = ['relu2'];
    expect(() => topoSort(loop)).toThrow(/cycle through node/);
    expect(() => scheduleWhenReady(loop)).toThrow(/cycle through node/);
  });

  it('a 10,000-ReLU chain compiles to 4 nodes per ReLU, with at most a few nodes waiting at any point', () => {
    const g = compiledChain(10_000);
    const relus = g.nodes.filter((n) => n.op === 'Relu').length;
    expect(relus).toBe(10_000);
    // Relu, and its backward: Greater, Cast, Mul; plus a constant number for the seeds and outputs.
    expect(g.nodes.length - 4 * relus).toBeLessThan(30);
    expect(isTopological(g)).toBe(true);
    expect(maxWaiting(g)).toBeLessThanOrEqual(4);
  }, 120_000);

  it('a 1,000-ReLU chain explains to the analytic gradient', async () => {
    const model = chainModel(1000);
    const ex = await Explainer.load(encodeModel(model));
    for (const c of [0, CLASSES - 1]) {
      const e = await ex.explain({ data: x, dims: [1, WIDTH] }, { method: 'gradient', target: c, reductions: [] });
      const want = analyticGradient(model, x, [new Float32Array(WIDTH)], c);
      expect(want.some((v) => v !== 0)).toBe(true);
      e.attribution.data.forEach((v, i) => expect(v).toBeCloseTo(want[i]!, 4));
    }
    await ex.release();
  }, 120_000);

  it.each(['add', 'concat'] as const)('a wide DAG joined by %s (200 branches) explains to the analytic gradient', async (join) => {
    const branches = 200;
    const model = wideModel(branches, join);
    const ex = await Explainer.load(encodeModel(model));
    const e = await ex.explain({ data: x, dims: [1, WIDTH] }, { method: 'gradient', target: 1, reductions: [] });
    const shifts = Array.from({ length: branches }, (_, i) => model.initializers.get(`b${i}`)!.data as Float32Array);
    let want: Float64Array;
    if (join === 'add') want = analyticGradient(model, x, shifts, 1);
    else {
      // logits = fc_out(fc_mix(concat(branches))): per branch, the mixing weights' block for it.
      const w = (name: string): Float32Array => model.initializers.get(name)!.data as Float32Array;
      const [wIn, bIn, wMix, wOut] = [w('fc_in.w'), w('fc_in.b'), w('fc_mix.w'), w('fc_out.w')];
      const h = Array.from({ length: WIDTH }, (_, j) => bIn[j]! + x.reduce((s, xi, i) => s + wIn[j * WIDTH + i]! * xi, 0));
      const mixWidth = WIDTH * branches;
      // ∂ logit / ∂ concat[k] = Σ_m wOut[1, m] · wMix[m, k]
      const up = Array.from({ length: mixWidth }, (_, k) => Array.from({ length: WIDTH }, (_, m) => wOut[WIDTH + m]! * wMix[m * mixWidth + k]!).reduce((a, b) => a + b, 0));
      want = new Float64Array(WIDTH);
      shifts.forEach((shift, b) => {
        for (let j = 0; j < WIDTH; j++) {
          if (h[j]! + shift[j]! <= 0) continue;
          for (let i = 0; i < WIDTH; i++) want[i] += up[b * WIDTH + j]! * wIn[j * WIDTH + i]!;
        }
      });
    }
    const scale = Math.max(...want.map(Math.abs));
    expect(scale).toBeGreaterThan(0);
    e.attribution.data.forEach((v, i) => expect(Math.abs(v - want[i]!) / scale).toBeLessThan(1e-4));
    await ex.release();
  }, 120_000);
});
