/** Rectifier gates moved below max-pooling (src/compile/poolGates.ts), against the eager reference. */
import { describe, expect, it } from 'vitest';
import { Explainer } from '../../src/index.js';
import { intsAttr } from '../../src/ir/graph.js';
import { decodeModel } from '../../src/onnx/decode.js';
import { relL2 } from '../helpers/compare.js';
import { randomInput, Rng, TinyGraphBuilder } from '../reference/tinyModels.js';
import { eager } from './eagerMethod.js';

/**
 * Rectifier gates below max-pooling (src/compile/poolGates.ts): Conv 1×1 → gate → MaxPool → Conv →
 * Relu, on inputs made of 2×2 blocks of equal values, so that every window of the 2×2 pools has a
 * four-way tie (the first position must win, before and after the move) and the 3×3 pools tie
 * across window borders; values reach ±8, so ReLU6 and Clip(−0.5, 0.5) saturate. The gate runs on
 * the pooled signal where it may (the ramp reads the pool's output) and stays in place where the
 * windows overlap and the method rectifies, or where its output is tapped.
 */
describe('rectifier gates move below max-pooling', () => {
  type Gate = 'Relu' | 'ReLU6' | 'Clip(-0.5, 0.5)';
  const model = (gate: Gate, pool: { kernel: number; stride: number; pad: number }) => {
    const b = new TinyGraphBuilder(`gatepool_${gate}_k${pool.kernel}s${pool.stride}`, [1, 2, 8, 8], 7);
    const pre = b.conv(b.input, 2, 8, { kernel: [1, 1], pads: [0, 0, 0, 0] });
    const [lo, hi] = gate === 'Relu' ? [0, 0] : gate === 'ReLU6' ? [0, 6] : [-0.5, 0.5];
    const y = gate === 'Relu' ? b.op('Relu', [pre]) : b.op('Clip', [pre, b.floatConst('lo', [], [lo]), b.floatConst('hi', [], [hi])]);
    const p = b.op('MaxPool', [y], { kernel_shape: intsAttr([pool.kernel, pool.kernel]), strides: intsAttr([pool.stride, pool.stride]), pads: intsAttr(new Array(4).fill(pool.pad)) });
    return { m: b.finish(b.op('Relu', [b.conv(p, 8, 8)]), 4), y, p };
  };
  const blocks = (seed: number): Float32Array => {
    const rng = new Rng(seed);
    const x = new Float32Array(2 * 8 * 8);
    for (let c = 0; c < 2; c++) for (let i = 0; i < 8; i += 2) for (let j = 0; j < 8; j += 2) {
      const v = rng.uniform(-8, 8);
      for (const [di, dj] of [[0, 0], [0, 1], [1, 0], [1, 1]]) x[c * 64 + (i + di!) * 8 + j + dj!] = v;
    }
    return x;
  };
  /** Whether the compiled graph reads tensor `t` in a gate (a ramp Conv or a comparison). */
  const gateReads = (bytes: Uint8Array, t: string): boolean =>
    decodeModel(bytes).graph.nodes.some((n) => n.inputs[0] === t && ((n.op === 'Conv' && n.name.includes('ramp')) || n.op === 'Greater' || n.op === 'Less'));
  const pools = [{ kernel: 2, stride: 2, pad: 0 }, { kernel: 3, stride: 2, pad: 1 }];
  for (const gate of ['Relu', 'ReLU6', 'Clip(-0.5, 0.5)'] as const) {
    for (const pool of pools) {
      const { m, y, p } = model(gate, pool);
      for (const method of ['gradient', 'deconvnet', 'guided-backprop'] as const) {
        const overlapping = pool.kernel > pool.stride;
        it(`${gate}, ${pool.kernel}×${pool.kernel} pool stride ${pool.stride}, ${method}`, async () => {
          const ex = await Explainer.load(m.bytes);
          const bytes = ex.compileToOnnx(m.inputShape, { method, target: 'max', reductions: [] });
          if (method !== 'deconvnet' || gate === 'Clip(-0.5, 0.5)') {
            // Overlapping windows keep the gates of the rectifying methods in place (even at a Clip
            // that is not a rectifier, where they would commute: the test is on the method).
            const moved = !(overlapping && method !== 'gradient');
            expect(gateReads(bytes, p), 'gate on the pooled output').toBe(moved);
            expect(gateReads(bytes, y), 'gate on its own output').toBe(!moved);
          }
          // Tied blocks, and plain random inputs (where windows that overlap often share a winner).
          for (const x of [blocks(1), blocks(2), blocks(3), randomInput(m.inputShape, 4, 4), randomInput(m.inputShape, 5, 4), randomInput(m.inputShape, 6, 4)]) {
            const seeds = Float64Array.from([1, -2, 0.5, 3]);
            const r = await ex.explain({ data: x, dims: m.inputShape }, { method, target: { seeds: Float32Array.from(seeds), k: 1 } });
            const ref = eager(m, x, seeds, method);
            // Closed gates give exact zeros; elsewhere sums that cancel leave small values, so the
            // tolerance is relative to the map's largest value.
            const scale = ref.reduce((a, v) => Math.max(a, Math.abs(v)), 0);
            for (let i = 0; i < x.length; i++) {
              if (ref[i] === 0) expect(r.attribution.data[i], `x = ${x[i]}`).toBe(0);
              else expect(Math.abs(r.attribution.data[i]! - ref[i]!)).toBeLessThan(1e-6 * scale);
            }
          }
        });
      }
    }
  }

  it('the rectifier input keeps the signals of its other readers', async () => {
    // x feeds the moved Relu and a Sigmoid branch: both signals must meet at x.
    const b = new TinyGraphBuilder('gatepool_shared_input', [1, 2, 8, 8], 9);
    const x = b.conv(b.input, 2, 8, { kernel: [1, 1], pads: [0, 0, 0, 0] });
    const pool = { kernel_shape: intsAttr([2, 2]), strides: intsAttr([2, 2]) };
    const p = b.op('MaxPool', [b.op('Relu', [x])], pool);
    const q = b.op('MaxPool', [b.op('Sigmoid', [x])], pool);
    const m = b.finish(b.op('Relu', [b.conv(b.op('Add', [p, q]), 8, 8)]), 4);
    const ex = await Explainer.load(m.bytes);
    for (const method of ['gradient', 'guided-backprop'] as const) {
      const input = randomInput(m.inputShape, 8, 2);
      const seeds = Float64Array.from([1, -2, 0.5, 3]);
      const r = await ex.explain({ data: input, dims: m.inputShape }, { method, target: { seeds: Float32Array.from(seeds), k: 1 } });
      expect(relL2(r.attribution.data, eager(m, input, seeds, method)), method).toBeLessThan(1e-5);
    }
  });

  it('a tapped gate output keeps its gate, and its signal arrives ungated', async () => {
    const { m, y, p } = model('Relu', pools[0]!);
    const ex = await Explainer.load(m.bytes);
    expect(gateReads(ex.compileToOnnx(m.inputShape, { method: 'gradient', target: 'max', reductions: [], taps: [y] }), p)).toBe(false);
    const x = blocks(4);
    const r = await ex.explain({ data: x, dims: m.inputShape }, { method: 'gradient', target: 'max', taps: [y] });
    const { activation, signal } = r.taps[y]!;
    // Windows of zeros (the Relu closed) still receive the pooled signal at their first position.
    const closedButReached = signal.data.filter((v, i) => v !== 0 && activation.data[i] === 0).length;
    expect(closedButReached).toBeGreaterThan(0);
  });
});
