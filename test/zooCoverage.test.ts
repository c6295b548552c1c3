/**
 * Op coverage of the 597 timm/torchvision classifiers of the ONNX model zoo
 * (../shared/data/onnx-model-zoo-ops.json: per model, its op types and counts): every op type
 * must have a backward rule or be removed by canonicalization (constant folding, import
 * rewrites). A count of op types cannot show that a model explains correctly — the torchvision
 * suite (test/torchvision.test.ts) does that for each family — but it shows what is refused.
 */
import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CANONICALIZED_OPS, RULES } from '../src/rules/index.js';
import { shared } from './helpers/paths.js';

const FILE = shared('data', 'onnx-model-zoo-ops.json');
/** Recurrent layers: no classifier built of convolutions or attention uses them; refused. */
const REFUSED = new Set(['LSTM']);

describe.skipIf(!existsSync(FILE))('ONNX model zoo classifiers: op coverage', () => {
  const zoo = existsSync(FILE) ? (JSON.parse(readFileSync(FILE, 'utf8')) as { models: { name: string; family: string; ops: Record<string, number> }[] }) : { models: [] };
  const known = new Set([...RULES.keys(), ...CANONICALIZED_OPS]);
  const missing = (ops: Record<string, number>): string[] => Object.keys(ops).filter((o) => !known.has(o));

  it('every op type but recurrent layers has a rule or is canonicalized', () => {
    const all = new Set(zoo.models.flatMap((m) => Object.keys(m.ops)));
    expect([...all].filter((o) => !known.has(o) && !REFUSED.has(o))).toEqual([]);
  });

  it('≥ 99 % of the classifiers have every op covered', () => {
    const refused = zoo.models.filter((m) => missing(m.ops).length > 0);
    const coverage = 1 - refused.length / zoo.models.length;
    console.log(
      `model zoo op coverage: ${zoo.models.length - refused.length}/${zoo.models.length} classifiers (${(100 * coverage).toFixed(1)} %); refused: ` +
        (refused.map((m) => `${m.name} (${missing(m.ops).join(', ')})`).join('; ') || 'none'),
    );
    expect(coverage).toBeGreaterThanOrEqual(0.99);
  });
});
