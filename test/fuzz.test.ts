/**
 * The fuzz suite's seeded sample (test/fuzz/, issue 14): every hand-made broken model and a draw
 * of the hostile images, .npy files, option values, eval datasets and byte-flipped models, each run
 * through the command line in-process. Every case must end as a clean refusal (exit 1/2, one
 * escaped line, nothing under --out) or be accepted with finite outputs and logits equal to
 * onnxruntime's forward pass of the same file. The full set: `npm run fuzz` (docs/eval/fuzz.md).
 */
import { describe, expect, it } from 'vitest';
import { sampleCases } from './fuzz/cases.js';
import { allowed, runCase } from './fuzz/execute.js';

const SAMPLE = 130;

describe('fuzz sample', () => {
  const cases = sampleCases(SAMPLE);
  it('draws the hand-made cases and a mix of every group', () => {
    expect(cases.length).toBe(SAMPLE);
    expect(new Set(cases.map((c) => c.group))).toEqual(new Set(['onnx', 'flip', 'image', 'npy', 'option', 'eval']));
  });
  for (const c of cases) {
    it(c.id, async () => {
      const o = await runCase(c, { kind: 'in-process' });
      expect(allowed(c, o), `${o.category}${o.detail ? ` (${o.detail})` : ''}: ${o.stderr}`).toBe(true);
    }, 70_000);
  }
});
