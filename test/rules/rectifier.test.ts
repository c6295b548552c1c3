/** Rectifier gates (src/rules/masks.ts): exact at their edges in both lowerings, and the offset form of Guided Backprop. */
import { describe, expect, it } from 'vitest';
import { Explainer, type Target } from '../../src/index.js';
import { intsAttr } from '../../src/ir/graph.js';
import { relL2 } from '../helpers/compare.js';
import { randomInput, TinyGraphBuilder } from '../reference/tinyModels.js';
import { eager } from './eagerMethod.js';

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
      // Huge activations (3e38) scaled by 2^-20 before the next layer, so the logits stay finite
      // (a non-finite logit is refused); the seeds are scaled up by as much below.
      const shrunk = b.op('Mul', [y, b.floatConst('shrink', [], [2 ** -20])]);
      const model = b.finish(b.op('Relu', [b.conv(shrunk, channels, channels)]), 4);
      const top = hi ?? 3e38;
      const edges = [0, -0, -1, 2 ** -149, 2 ** -140, 2 ** -126, 1e-30, 0.5, top, below(top), 1e30, 3e38, hi === undefined ? 7 : hi * 2];
      const x = randomInput(model.inputShape, 13, 2);
      for (let i = 0; i < x.length; i += 2) x[i] = edges[(i >> 1) % edges.length]!;
      for (const gates of ['ramp', 'compare'] as const) {
        it(`${name}, ${channels} channels, ${gates} gates`, async () => {
          const ex = await Explainer.load(model.bytes, { lowering: { gates } });
          const onnx = new TextDecoder('latin1').decode(ex.compileToOnnx(model.inputShape, { method: 'gradient', target: 'max', reductions: [] }));
          expect(onnx.includes('HardSigmoid')).toBe(gates === 'ramp');
          // Seeds scaled by 2^110 (2^90 after the 2^-20) bring signals near the offset gate's bound (|R| < 2^100).
          for (const [method, scale] of [['gradient', 1], ['guided-backprop', 1], ['guided-backprop', 2 ** 110]] as const) {
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
