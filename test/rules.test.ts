/**
 * Every backward rule, compiled into ONNX and run by onnxruntime, against the independent eager
 * Float64 reference (test/reference/eager.ts) on tiny models covering strides, pads, groups,
 * dilations, overlapping and ceil-mode pools, residual and structural ops, and each activation.
 * Seeds are random vectors on the logits, two per image, so every class contributes.
 */
import { describe, expect, it } from 'vitest';
import { Explainer, type Target } from '../src/index.js';
import { GRADIENT_FAMILY as METHOD_NAMES, type GradientFamilyName as MethodName } from '../src/methods/methods.js';
import { backward, forward, type RefMethod } from './reference/eager.js';
import { allTinyModels, randomInput, Rng, TinyGraphBuilder, tinyMaxPoolNet, type TinyModel } from './reference/tinyModels.js';
import { intsAttr } from '../src/ir/graph.js';
import { buildModel } from '../src/builder/index.js';
import { relL2 } from './helpers/compare.js';
import { decodeModel } from '../src/onnx/decode.js';

/**
 * Models the compiler refuses on purpose, with the error expected: a product of two activations
 * (attention-style MatMul), and a ceil_mode pool whose last window starts in the end padding
 * (onnxruntime cannot load such a graph with static shapes).
 */
const REFUSED = new Map<string, RegExp>([
  ['matmul', /transA=1|left MatMul operand|Softmax/],
  ['maxpool_k2x2_s2x2_p1.1.1.1_ceil', /ceil_mode=1.*end padding/],
  ['avgpool_k2x2_s2x2_p1.1.1.1_ceil_cip0', /ceil_mode=1.*end padding/],
  ['avgpool_k2x2_s2x2_p1.1.1.1_ceil_cip1', /ceil_mode=1.*end padding/],
]);

function eager(model: TinyModel, x: Float32Array, seed: Float64Array, method: MethodName): Float64Array {
  const refMethod: RefMethod = method === 'gradient-x-input' ? 'gradient' : method;
  const fwd = forward(model.graph, x);
  const g = backward(model.graph, fwd, seed, refMethod);
  if (method === 'gradient-x-input') for (let i = 0; i < g.length; i++) g[i]! *= x[i]!;
  return g;
}

describe('compiled rules equal the eager reference', () => {
  for (const model of allTinyModels()) {
    const refusal = REFUSED.get(model.name);
    if (refusal) {
      it(`${model.name} is refused with a clear error`, async () => {
        const ex = await Explainer.load(model.bytes);
        await expect(ex.explain({ data: randomInput(model.inputShape, 7), dims: model.inputShape }, { method: 'gradient', target: 0 })).rejects.toThrow(refusal);
      });
      continue;
    }
    describe(model.name, () => {
      for (const method of METHOD_NAMES) {
        it(method, async () => {
          const ex = await Explainer.load(model.bytes);
          const x = randomInput(model.inputShape, 7);
          const classes = (await ex.predict({ data: x, dims: model.inputShape })).dims[1]!;
          const rng = new Rng(3);
          const seeds = new Float32Array(2 * classes).map(() => rng.normal());
          const r = await ex.explain({ data: x, dims: model.inputShape }, { method, target: { seeds, k: 2 } });
          const size = x.length;
          for (let j = 0; j < 2; j++) {
            const ref = eager(model, x, Float64Array.from(seeds.subarray(j * classes, (j + 1) * classes)), method);
            expect(relL2(r.attribution.data.subarray(j * size, (j + 1) * size), ref)).toBeLessThan(1e-4);
          }
        });
      }
    });
  }
});

/**
 * The WebGPU path: max-pooling switches by ArgMax over windows that tile the input (no Indices
 * output). The builder's CNN pools ReLU outputs, whose windows tie at 0: DeconvNet (no forward
 * mask) then shows whether the first maximum gets the signal, as MaxPool's Indices would say.
 */
describe('max-pooling switches by ArgMax equal the eager reference', () => {
  const models = [
    tinyMaxPoolNet({ kernel: [2, 2], strides: [2, 2], size: [6, 8] }),
    tinyMaxPoolNet({ kernel: [3, 2], strides: [3, 2], size: [6, 6] }),
    { name: 'builder cnn3 with max-pooling', bytes: buildModel({ model: 'cnn3', filters: 4, maxPool: true, inputSize: 21, classes: 5, seed: 3 }) },
  ];
  for (const model of models) {
    for (const method of METHOD_NAMES) {
      it(`${model.name}: ${method}`, async () => {
        const ex = await Explainer.load(model.bytes, { lowering: { maxPoolSwitches: 'argmax' } });
        const ref = await Explainer.load(model.bytes);
        const dims = ex.inputShape.map((d) => (typeof d === 'number' ? d : 1));
        const x = randomInput(dims, 11);
        const onnx = new TextDecoder('latin1').decode(ex.compileToOnnx(dims, { method, target: 'max', reductions: [] }));
        expect(onnx).toContain('ArgMax');
        expect(onnx).not.toContain('ScatterElements');
        const r = await ex.explain({ data: x, dims }, { method, target: ['max', 1] });
        const expected = await ref.explain({ data: x, dims }, { method, target: ['max', 1] });
        expect(relL2(r.attribution.data, Float64Array.from(expected.attribution.data))).toBeLessThan(1e-6);
        if ('graph' in model) {
          const size = x.length;
          const classes = (await ex.predict({ data: x, dims })).dims[1]!;
          for (let j = 0; j < 2; j++) {
            const seed = new Float64Array(classes);
            seed[r.targets[0]![j]!] = 1;
            expect(relL2(r.attribution.data.subarray(j * size, (j + 1) * size), eager(model, x, seed, method))).toBeLessThan(1e-4);
          }
        }
      });
    }
  }
});

/**
 * Rectifier gates at their edges. An identity 1×1 Conv makes the pre-activation equal to the
 * input, so y takes chosen values: exact zeros, the upper bound and the float just below it,
 * subnormal and huge values. The 'ramp' gates (per-channel 1×1 convolutions with saturating
 * activations) must open and close exactly where the comparisons do, with 8 channels (onnxruntime's
 * blocked NCHWc layout) and with 3 (plain layout).
 */
describe('rectifier gates are exact at their edges', () => {
  const below = (v: number): number => {
    const f = new Float32Array([v]);
    new Uint32Array(f.buffer)[0]! -= 1; // the next float toward zero (v > 0)
    return f[0]!;
  };
  const rectifiers = [
    { name: 'Relu', hi: undefined },
    { name: 'ReLU6', hi: 6 },
    { name: 'Clip(0, 0.3)', hi: Math.fround(0.3) },
  ];
  for (const { name, hi } of rectifiers) {
    for (const channels of [8, 3]) {
      const b = new TinyGraphBuilder(`gate_${name}_${channels}`, [1, channels, 4, 4], 5);
      const eye = new Float32Array(channels * channels).map((_, i) => (i % (channels + 1) === 0 ? 1 : 0));
      const pre = b.op('Conv', [b.input, b.floatConst('eye', [channels, channels, 1, 1], eye), b.floatConst('zero', [channels], new Float32Array(channels))], { kernel_shape: intsAttr([1, 1]) });
      const y = hi === undefined ? b.op('Relu', [pre]) : b.op('Clip', [pre, b.floatConst('min', [], [0]), b.floatConst('max', [], [hi])]);
      const model = b.finish(b.op('Relu', [b.conv(y, channels, channels)]), 4);
      const top = hi ?? 3e38;
      const edges = [0, -0, -1, 2 ** -149, 2 ** -140, 2 ** -126, 1e-30, 0.5, top, below(top), 1e30, 3e38, hi === undefined ? 7 : hi * 2];
      const x = randomInput(model.inputShape, 13, 2);
      for (let i = 0; i < x.length; i += 2) x[i] = edges[(i >> 1) % edges.length]!;
      for (const gates of ['ramp', 'compare'] as const) {
        it(`${name}, ${channels} channels, ${gates} gates`, async () => {
          const ex = await Explainer.load(model.bytes, { lowering: { gates } });
          const onnx = new TextDecoder('latin1').decode(ex.compileToOnnx(model.inputShape, { method: 'gradient', target: 'max', reductions: [] }));
          expect(onnx.includes('HardSigmoid')).toBe(gates === 'ramp');
          // Seeds scaled by 2^90 bring signals near the offset gate's bound (|R| < 2^100).
          for (const [method, scale] of [['gradient', 1], ['guided-backprop', 1], ['guided-backprop', 2 ** 90]] as const) {
            const seeds = [1, -2, 0.5, 3].map((v) => v * scale);
            const r = await ex.explain({ data: x, dims: model.inputShape }, { method, target: { seeds: Float32Array.from(seeds), k: 1 } });
            const ref = eager(model, x, Float64Array.from(seeds), method);
            for (let i = 0; i < x.length; i++) {
              // Every gate the reference closes must be closed (exact zero), and the rest agree.
              if (ref[i] === 0) expect(r.attribution.data[i], `${method}, x = ${x[i]}`).toBe(0);
              else expect(Math.abs(r.attribution.data[i]! - ref[i]!), `${method}, x = ${x[i]}`).toBeLessThan(1e-5 * Math.abs(ref[i]!) + 1e-12 * scale);
            }
          }
        });
      }
    }
  }
});

/**
 * Guided Backprop at a two-sided rectifier (ReLU6) with the ramps and one seed is Relu(R + S), S
 * from the forward pass, so that onnxruntime fuses the gate into the backward convolution; with
 * several seeds, comparisons, or a one-sided gate it is the Relu and then the gate.
 */
describe('Guided Backprop takes the offset gate where it can fuse', () => {
  const model = (act: 'ReLU6' | 'Relu') => {
    const b = new TinyGraphBuilder(`offset_${act}`, [1, 8, 6, 6], 4);
    const pre = b.conv(b.input, 8, 8);
    const y = act === 'Relu' ? b.op('Relu', [pre]) : b.op('Clip', [pre, b.floatConst('min', [], [0]), b.floatConst('max', [], [6])]);
    return b.finish(b.conv(y, 8, 8), 4);
  };
  const cases: { act: 'ReLU6' | 'Relu'; gates: 'ramp' | 'compare'; target: Target; offset: boolean }[] = [
    { act: 'ReLU6', gates: 'ramp', target: 'max', offset: true },
    { act: 'ReLU6', gates: 'ramp', target: [0, 2], offset: false },
    { act: 'ReLU6', gates: 'compare', target: 'max', offset: false },
    { act: 'Relu', gates: 'ramp', target: 'max', offset: false },
  ];
  for (const { act, gates, target, offset } of cases) {
    it(`${act}, ${gates} gates, target ${JSON.stringify(target)}: ${offset ? 'offset' : 'product'} form`, async () => {
      const m = model(act);
      const ex = await Explainer.load(m.bytes, { lowering: { gates } });
      const text = new TextDecoder('latin1').decode(ex.compileToOnnx(m.inputShape, { method: 'guided-backprop', target, reductions: [] }));
      expect(text.includes('closedOffset')).toBe(offset);
      const x = randomInput(m.inputShape, 5, 3);
      const r = await ex.explain({ data: x, dims: m.inputShape }, { method: 'guided-backprop', target });
      const size = x.length;
      r.targets[0]!.forEach((t, j) => {
        const seed = new Float64Array(4);
        seed[t] = 1;
        expect(relL2(r.attribution.data.subarray(j * size, (j + 1) * size), eager(m, x, seed, 'guided-backprop'))).toBeLessThan(1e-5);
      });
    });
  }
});

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

/**
 * The zero-inserted signal is s·out long per axis; a geometry whose input needs less than that
 * (the [9, 8] case: 8 columns, stride 3, 3 outputs) keeps ConvTranspose.
 */
describe('strided depthwise convs run backward as zero insertion and a stride-1 Conv', () => {
  for (const model of allTinyModels().filter((m) => /_s[23]x[23]_.*_g[234]$/.test(m.name))) {
    const fallback = model.inputShape[3] === 8 && model.name.includes('s2x3');
    it(`${model.name}: ${fallback ? 'ConvTranspose' : 'zero insertion'}`, async () => {
      const ex = await Explainer.load(model.bytes);
      const onnx = new TextDecoder('latin1').decode(ex.compileToOnnx(model.inputShape, { method: 'gradient', target: 'max', reductions: [] }));
      expect(onnx.includes('Resize')).toBe(!fallback);
      expect(onnx.includes('ConvTranspose')).toBe(fallback);
    });
  }
});
