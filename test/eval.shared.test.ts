/**
 * `backlight eval pointing` on 20 images of ../shared/data/imagenet-val-1300 with MobileNetV2
 * (fixed batch of 1, run with --batch 4: the API explains image by image). Skipped without ../shared.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CliIO } from '../src/cli/errors.js';
import { run } from '../src/cli/program.js';
import type { PointingRecord, PointingSummary } from '../src/eval/pointing.js';
import { resizeBoxes, toBoxes } from '../src/metrics/boxes.js';
import { HAS_SHARED, shared } from './helpers/paths.js';

const dir = mkdtempSync(join(tmpdir(), 'backlight-eval-shared-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(!HAS_SHARED)('eval pointing on the ImageNet subset (MobileNetV2)', () => {
  it('20 images: boxes rescaled 227 → 224, a sensible centre baseline, gradient above random', async () => {
    const out = join(dir, 'pointing');
    let stdout = '';
    let stderr = '';
    const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} };
    const code = await run(
      ['eval', 'pointing', '--model', shared('models', 'mobilenetv2-imagenet.onnx'), '--data', shared('data', 'imagenet-val-1300'), '--preset', 'imagenet', '--method', 'gradient,guided-backprop', '--limit', '20', '--batch', '4', '--threads', '2', '--out', out, '--json'],
      io,
    );
    expect(stderr).toBe('');
    expect(code).toBe(0);
    const report = JSON.parse(stdout) as { run: { processed: number }; summary: PointingSummary };
    expect(report.run.processed).toBe(20);
    const s = report.summary;
    expect(s.images).toBe(20);
    const row = (name: string) => s.rows.find((r) => r.name === name)!.subsets.all.overImages;
    // ../shared/README.md: centre 93.2 %, gradient 91.2 % on all 1,300 images (ImageNet boxes are large).
    expect(row('center')).toBeGreaterThanOrEqual(0.8);
    expect(row('center')).toBeLessThanOrEqual(1);
    expect(row('gradient')).toBeGreaterThanOrEqual(0.75);
    expect(row('gradient')).toBeGreaterThan(row('random-expected'));
    expect(row('random-expected')).toBeGreaterThan(0.4);
    expect(row('random-expected')).toBeLessThan(0.9);
    // The model gets most of them right (79 % top-1 on the whole subset).
    expect(s.top1).toBeGreaterThanOrEqual(0.5);

    const annotations = JSON.parse(readFileSync(shared('data', 'imagenet-val-1300', 'annotations.json'), 'utf8')) as { file: string; boxes: number[][] }[];
    const records = readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as PointingRecord);
    for (const r of records) {
      const expected = resizeBoxes(toBoxes(annotations[r.index]!.boxes), 227, 224);
      expect(r.file).toBe(annotations[r.index]!.file);
      r.boxes.forEach((b, k) => b.forEach((v, j) => expect(v).toBeCloseTo(expected[k]![j]!, 3)));
      expect([r.width, r.height]).toEqual([224, 224]);
    }
  });
});
