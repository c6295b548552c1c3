/** Every fuzz case of a seed: the full set, or the seeded sample of the default test run. */
import { evalCases } from './evalsets.js';
import { imageCases, npyCases } from './inputs.js';
import { existsSync } from 'node:fs';
import { cifarInput, flipCases, handMadeModelCases, hugeInputCase } from './models.js';
import { optionCases } from './options.js';
import { Rng } from './rng.js';
import type { FuzzCase } from './types.js';
import { shared } from '../helpers/paths.js';

export const DEFAULT_SEED = 14;

const SHARED_RESNET = shared('models', 'resnet20-cifar10-dynbatch.onnx');

/** The full set (about 650 cases): every hand-made case and the seeded random ones. */
export function allCases(seed = DEFAULT_SEED): FuzzCase[] {
  return [
    ...handMadeModelCases(),
    hugeInputCase(),
    ...flipCases(seed, 300),
    ...(existsSync(SHARED_RESNET) ? flipCases(seed, 60, SHARED_RESNET, cifarInput, 'resnet20').map((c) => ({ ...c, slow: true })) : []),
    ...imageCases(seed, 40),
    ...npyCases(seed, 40),
    ...optionCases(seed, 60),
    ...evalCases(seed, 30),
  ];
}

/**
 * The default test run's sample: `n` cases drawn with the seed from the fast ones, every
 * hand-made model case among them (they are the regressions of issue 14).
 */
export function sampleCases(n: number, seed = DEFAULT_SEED): FuzzCase[] {
  const all = allCases(seed).filter((c) => !c.slow);
  const must = all.filter((c) => c.group === 'onnx');
  const rest = all.filter((c) => c.group !== 'onnx');
  const rng = new Rng(seed);
  for (let i = rest.length - 1; i > 0; i--) {
    const j = rng.int(0, i + 1);
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
  }
  return [...must, ...rest.slice(0, Math.max(0, n - must.length))];
}
