/**
 * Every backward rule, compiled into ONNX and run by onnxruntime, against the independent eager
 * Float64 reference (test/reference/eager.ts) on tiny models covering strides, pads, groups,
 * dilations, overlapping and ceil-mode pools, residual and structural ops, and each activation.
 * Seeds are random vectors on the logits, two per image, so every class contributes.
 * Tests of one rule family (max-pool switches, rectifier gates, Conv backward, LRP rules) are in
 * test/rules/<family>.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { GRADIENT_FAMILY as METHOD_NAMES } from '../src/methods/methods.js';
import { allTinyModels, randomInput, Rng } from './reference/tinyModels.js';
import { relL2 } from './helpers/compare.js';
import { eager } from './rules/eagerMethod.js';

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
