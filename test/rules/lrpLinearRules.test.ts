/**
 * Properties of single LRP rules at linear layers (src/rules/linearRules/): signs, and the stated
 * equivalence of Excitation Backprop and z⁺ without bias. Conservation over all rules and the
 * comparisons with Zennit are in test/lrp.test.ts and test/lrp.reference.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { buildModel } from '../../src/builder/index.js';
import { Explainer } from '../../src/index.js';
import { relL2 } from '../helpers/compare.js';
import { randomInput } from '../reference/tinyModels.js';

describe('LRP linear rules', () => {
  const cnnWithMaxPooling = buildModel({ model: 'cnn3', inputSize: 32, filters: 8, maxPool: true, seed: 3 });

  it('z⁺ keeps signs: a positive seed gives non-negative relevance everywhere', async () => {
    const ex = await Explainer.load(cnnWithMaxPooling);
    const r = await ex.explain({ data: randomInput([2, 3, 32, 32], 6), dims: [2, 3, 32, 32] }, { method: 'lrp-zplus', target: [0, 5], params: { seed: 'one' } });
    expect(Math.min(...r.attribution.data)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...r.attribution.data)).toBeGreaterThan(0);
  });

  it('Excitation Backprop equals LRP z⁺ without bias on non-negative activations', async () => {
    const bytes = buildModel({ model: 'cnn3', inputSize: 32, filters: 8, maxPool: true, seed: 7, bias: 'random' });
    const ex = await Explainer.load(bytes);
    const x = Float32Array.from(randomInput([1, 3, 32, 32], 8), Math.abs); // pixels ≥ 0, so every activation is
    const ebp = await ex.explain({ data: x, dims: [1, 3, 32, 32] }, { method: 'excitation', target: ['max', 2] });
    const zplus = await ex.explain({ data: x, dims: [1, 3, 32, 32] }, { method: 'lrp', target: ['max', 2], params: { composite: { conv: { rule: 'zplus', ignoreBias: true }, dense: { rule: 'zplus', ignoreBias: true } } } });
    expect(relL2(ebp.attribution.data, zplus.attribution.data)).toBeLessThan(1e-5);
    const contrastive = await ex.explain({ data: x, dims: [1, 3, 32, 32] }, { method: 'contrastive-excitation', target: 'max' });
    expect(Math.min(...contrastive.attribution.data)).toBeGreaterThanOrEqual(0);
  });
});
