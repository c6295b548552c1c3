/**
 * LRP composites on a residual network (the shared ResNet-20) against Zennit 0.5.1, run in float64
 * by test/zennit/make_references.py on the same ONNX weights (vectors in test/fixtures/zennit-resnet20,
 * seeded with one-hot(target) = 1). The ε-γ-box composite checks the generalized γ rule (Andéol et
 * al. 2021), which a residual net exercises where a conv output is negative and still receives
 * relevance through the residual sum.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';
import type { Composite } from '../src/methods/composites.js';
import { relL2 } from './helpers/compare.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';

const dir = path.join(REPO, 'test', 'fixtures', 'zennit-resnet20');
interface Entry { file: string; input: string; target: number; composite: string; sum: number; maxabs: number }
const manifest = JSON.parse(readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { box: { low: number[]; high: number[] }; files: Entry[] };
const npy = (f: string) => decodeNpy(readFileSync(path.join(dir, f)));

const COMPOSITES: Record<string, Composite> = {
  epsilon_gamma_box: { first: { rule: 'zbox', ...manifest.box }, conv: { rule: 'gamma', gamma: 0.25 }, dense: { rule: 'epsilon', epsilon: 1e-6 } },
  epsilon_plus_flat: { first: { rule: 'flat' }, conv: { rule: 'zplus' }, dense: { rule: 'epsilon', epsilon: 1e-6 } },
  epsilon_alpha2_beta1: { conv: { rule: 'alphabeta', alpha: 2, beta: 1 }, dense: { rule: 'epsilon', epsilon: 1e-6 } },
};

describe.skipIf(!HAS_SHARED)('LRP composites on ResNet-20 against Zennit 0.5.1', async () => {
  const ex = HAS_SHARED ? await Explainer.load(shared('models', 'resnet20-cifar10.onnx')) : undefined;
  for (const e of manifest.files) {
    it(`${e.composite}, ${e.input.replace('_input.npy', '')}, target ${e.target} (Zennit: sum ${e.sum.toFixed(3)}, max |R| ${e.maxabs.toExponential(1)})`, async () => {
      const x = npy(e.input);
      const r = await ex!.explain(x, { method: 'lrp', target: e.target, params: { composite: COMPOSITES[e.composite]!, seed: 'one' } });
      expect(relL2(r.attribution.data, npy(e.file).data)).toBeLessThan(1e-4);
    });
  }
});
