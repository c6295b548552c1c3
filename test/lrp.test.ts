/**
 * LRP, contrastive LRP and Excitation Backprop: against Zennit's vectors in ../shared/reference,
 * and properties (conservation, multi-target = single). Properties of single rules (signs, the
 * stated EBP = z⁺ equivalence) are in test/rules/lrpLinearRules.test.ts.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildModel } from '../src/builder/index.js';
import { Explainer } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';
import type { MethodName, MethodParams } from '../src/methods/methods.js';
import { relL2 } from './helpers/compare.js';
import { HAS_SHARED, shared } from './helpers/paths.js';
import { randomInput } from './reference/tinyModels.js';

const sum = (a: ArrayLike<number>): number => Array.from(a).reduce((s, v) => s + v, 0);

describe.skipIf(!HAS_SHARED)('smallvgg vs Zennit reference vectors', async () => {
  const npy = (f: string) => decodeNpy(readFileSync(shared('reference', 'smallvgg', f)));
  const manifest = HAS_SHARED ? JSON.parse(readFileSync(shared('reference', 'manifest.json'), 'utf8')) : undefined;
  const box = manifest && { low: manifest.models.smallvgg.zbox_low_per_channel, high: manifest.models.smallvgg.zbox_high_per_channel };
  const ex = HAS_SHARED ? await Explainer.load(shared('reference', 'smallvgg.onnx')) : undefined;
  const x = HAS_SHARED ? npy('in0_input.npy') : undefined;
  const cases: [string, MethodName, MethodParams, string, number][] = [
    ['LRP-ε', 'lrp-epsilon', { seed: 'one' }, 'lrp_epsilon', 1e-4],
    ['LRP-α1β0', 'lrp-zplus', { seed: 'one' }, 'lrp_alpha1_beta0', 1e-4],
    ['EpsilonPlusFlat', 'lrp', { seed: 'one', composite: 'epsilon-plus-flat' }, 'lrp_epsilon_plus_flat', 1e-4],
    ['EpsilonGammaBox', 'lrp', { seed: 'one', composite: 'epsilon-gamma-box', box }, 'lrp_epsilon_gamma_box', 1e-4],
    ['Gu et al. zB + z⁺, no bias', 'lrp', { composite: 'gu2018', box }, 'lrp_zbox_zplus_nobias', 1e-4],
    ['CLRP2 (gu2018)', 'clrp2', { box }, 'clrp2_zbox_zplus_nobias', 1e-4],
    // ε-LRP is linear in the top relevance, so R_dual = c·R and the map is max(0, (1 − c)·R): the
    // subtraction cancels most digits (the reference calls it degenerate), hence the looser bound.
    ['CLRP2 (ε)', 'clrp2', { composite: { conv: { rule: 'epsilon', epsilon: 1e-6 }, dense: { rule: 'epsilon', epsilon: 1e-6 } } }, 'clrp2_epsilon', 1e-2],
  ];
  for (const [name, method, params, file, tol] of cases) {
    for (const t of [8, 7]) {
      it(`${name}, target ${t}`, async () => {
        const r = await ex!.explain(x!, { method, target: t, params });
        const ref = npy(`in0_t${t}_${file}.npy`).data;
        expect(relL2(r.attribution.data, ref)).toBeLessThan(tol);
        expect(sum(r.attribution.data)).toBeCloseTo(sum(ref), 4);
      });
    }
  }

  it('contrastive maps: several targets in one run equal single runs; both forms are ≥ 0', async () => {
    for (const method of ['clrp1', 'clrp2'] as const) {
      for (const normalize of [false, true]) {
        const multi = await ex!.explain(x!, { method, target: [8, 7, 2], params: { box, normalize } });
        const size = 3 * 64 * 64;
        for (const [j, t] of [8, 7, 2].entries()) {
          const single = await ex!.explain(x!, { method, target: t, params: { box, normalize } });
          expect(relL2(multi.attribution.data.subarray(j * size, (j + 1) * size), single.attribution.data)).toBeLessThan(1e-5);
        }
        expect(Math.min(...multi.attribution.data)).toBeGreaterThanOrEqual(0);
      }
    }
  });

  it('zB without pixel bounds is a usage error', async () => {
    await expect(ex!.explain(x!, { method: 'lrp', target: 8 })).rejects.toThrow(/zB rule, which needs the pixel bounds/);
  });
});

describe('LRP properties on bias-free random nets', () => {
  const nets = [
    ['CNN with max-pooling', buildModel({ model: 'cnn3', inputSize: 32, filters: 8, maxPool: true, seed: 3 }), [2, 3, 32, 32]],
    ['FCN', buildModel({ model: 'fcn3', inputSize: 16, hidden: 64, layers: 4, seed: 4 }), [2, 3, 16, 16]],
  ] as const;
  for (const [name, bytes, dims] of nets) {
    it(`${name}: conservation, relevance sums to the explained logit (ε → 0, z⁺, αβ, flat first layer)`, async () => {
      const ex = await Explainer.load(bytes);
      const x = randomInput(dims, 5);
      const per = x.length / dims[0];
      for (const [method, params] of [
        ['lrp-epsilon', { epsilon: 1e-9 }],
        ['lrp-zplus', {}],
        ['lrp-alphabeta', { alpha: 2, beta: 1 }],
        ['lrp', { composite: 'epsilon-plus-flat', epsilon: 1e-9 }],
      ] as [MethodName, MethodParams][]) {
        const r = await ex.explain({ data: x, dims: [...dims] }, { method, target: ['max', 1], params });
        for (let i = 0; i < dims[0]; i++) {
          for (let j = 0; j < 2; j++) {
            const logit = r.logits.data[i * 10 + r.targets[i]![j]!]!;
            const relevance = sum(r.attribution.data.subarray((i * 2 + j) * per, (i * 2 + j + 1) * per));
            expect(relevance, `${method} image ${i} target ${j}`).toBeCloseTo(logit, 3);
          }
        }
      }
    });
  }
});
