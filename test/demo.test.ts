/** `backlight demo` runs offline on the built-in assets and reproduces Nie et al.'s finding. */
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/program.js';
import type { CliIO } from '../src/cli/errors.js';

function io(): CliIO & { out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s), env: {} };
}

describe('backlight demo', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'backlight-demo-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('writes the page, the figures and a summary', async () => {
    const c = io();
    const code = await run(['demo', '--out', dir, '--json'], c);
    expect(c.err.join('')).toBe('');
    expect(code).toBe(0);
    const summary = JSON.parse(c.out.join('')) as {
      digits: { label: number; predicted: number }[];
      randomNets: { net: string; recovery: Record<string, number> }[];
      files: string[];
    };
    for (const f of summary.files) expect(existsSync(path.join(dir, f)), f).toBe(true);
    expect(summary.digits).toHaveLength(10);
    expect(summary.digits.filter((d) => d.label === d.predicted).length).toBeGreaterThanOrEqual(9);
    const html = readFileSync(path.join(dir, 'index.html'), 'utf8');
    for (const f of summary.files.filter((f) => f.endsWith('.png'))) expect(html).toContain(`src="${f}"`);
    const meta = await sharp(path.join(dir, 'digits', 'digit-3.png')).metadata();
    expect(meta.width).toBeGreaterThan(300);

    // Nie et al.: GBP recovers the image in a random CNN, not in a random FCN; DeconvNet needs max-pooling.
    const rec = (net: string, m: string) => summary.randomNets.find((r) => r.net === net)!.recovery[m]!;
    expect(rec('CNN', 'guided-backprop')).toBeGreaterThan(0.6);
    expect(rec('FCN', 'guided-backprop')).toBeLessThan(0.4);
    expect(rec('CNN + max-pool', 'deconvnet')).toBeGreaterThan(rec('CNN', 'deconvnet') + 0.2);
  });

  it('refuses an output folder under a file', async () => {
    const c = io();
    const file = path.join(dir, 'index.html');
    const code = await run(['demo', '--out', path.join(file, 'sub')], c);
    expect(code).toBe(1);
    expect(c.err.join('')).toMatch(/^backlight: .*output folder/);
  });
});
