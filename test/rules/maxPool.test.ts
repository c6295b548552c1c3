/** MaxPool backward: the switches by ArgMax (the WebGPU lowering) against the eager reference and the Indices path. */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/builder/index.js';
import { Explainer } from '../../src/index.js';
import { GRADIENT_FAMILY as METHOD_NAMES } from '../../src/methods/methods.js';
import { relL2 } from '../helpers/compare.js';
import { randomInput, tinyMaxPoolNet } from '../reference/tinyModels.js';
import { eager } from './eagerMethod.js';

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
