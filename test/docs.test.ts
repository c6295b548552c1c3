/**
 * The README's list of supported ops cannot drift from the code: every op type with a backward
 * rule (RULES) or accepted by canonicalization (CANONICALIZED_OPS) is named in its "Supported ops"
 * section, and every op type named there is one of them or one rewritten at import.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { CANONICALIZED_OPS, RULES } from '../src/rules/index.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');

/** Op types rewritten into others at import (src/onnx/decode.ts, src/onnx/lower.ts). */
const REWRITTEN_AT_IMPORT = ['Gelu', 'GroupNormalization', 'Upsample', 'QuantizeLinear'];

/** The text of the README's "## Supported ops" section, without its "Refused" paragraph. */
function supportedOpsSection(): string {
  const start = README.indexOf('\n## Supported ops\n');
  expect(start, 'README.md has a "## Supported ops" section').toBeGreaterThan(0);
  const end = README.indexOf('\n## ', start + 1);
  const section = README.slice(start, end < 0 ? undefined : end);
  const refused = section.indexOf('\nRefused:');
  return refused < 0 ? section : section.slice(0, refused);
}

/** The op types written as `OpType` in a text. */
const namedOps = (text: string): Set<string> => new Set([...text.matchAll(/`([A-Z][A-Za-z0-9]+)`/g)].map((m) => m[1]!));

describe('README: supported ops', () => {
  it('names every op type with a rule or accepted by canonicalization', () => {
    const named = namedOps(supportedOpsSection());
    const missing = [...new Set([...RULES.keys(), ...CANONICALIZED_OPS])].filter((op) => !named.has(op)).sort();
    expect(missing, 'op types missing from the README').toEqual([]);
  });

  it('names no op type the code does not accept', () => {
    const known = new Set([...RULES.keys(), ...CANONICALIZED_OPS, ...REWRITTEN_AT_IMPORT]);
    expect([...namedOps(supportedOpsSection())].filter((op) => !known.has(op)).sort()).toEqual([]);
  });

  it('the op types said to be rewritten at import are', () => {
    const decode = readFileSync(join(ROOT, 'src/onnx/decode.ts'), 'utf8');
    const lower = readFileSync(join(ROOT, 'src/onnx/lower.ts'), 'utf8');
    for (const op of ['Gelu', 'GroupNormalization', 'Upsample']) expect(decode, op).toContain(`case '${op}'`);
    expect(lower).toContain("'QuantizeLinear'");
  });
});
