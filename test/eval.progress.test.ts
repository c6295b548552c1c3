/**
 * `eval` progress off a terminal (issue 15, item 7): plain lines at the start, every
 * BACKLIGHT_PROGRESS_EVERY seconds and at the end, so a Kubernetes or Slurm log is not silent;
 * nothing with --quiet or --json. A small `eval sensitivity` run drives the real command.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildModel } from '../src/builder/index.js';
import { evalProgress, formatDuration, lineProgress, progressSeconds } from '../src/cli/eval/progress.js';
import { BacklightError } from '../src/errors.js';
import { runCli } from './helpers/cli.js';

/** A stream behind stderr that is not a terminal (a pipe, a log file). */
function pipe(): Writable & { isTTY?: boolean } {
  const s = new Writable({ write: (_c, _e, done) => done() }) as Writable & { isTTY?: boolean };
  s.isTTY = false;
  return s;
}

describe('progress lines', () => {
  it('print at the start, at most every S seconds, and at the end, with rate and ETA', () => {
    const lines: string[] = [];
    let now = 0;
    const p = lineProgress((l) => lines.push(l), 'pointing', 10, () => now);
    p.start(1300);
    for (let i = 1; i <= 1300; i++) {
      now = i * 100; // 10 images per second
      p.tick(i, 1300, `f${i}.jpg`);
    }
    p.stop();
    expect(lines[0]).toBe('eval pointing: 0/1300 images\n');
    expect(lines[1]).toBe('eval pointing: 100/1300 images, 10 img/s, ETA 2m00s\n');
    expect(lines[2]).toBe('eval pointing: 200/1300 images, 10 img/s, ETA 1m50s\n');
    // 130 s of work, a line every 10 s (the last tick is left to the end line).
    expect(lines).toHaveLength(1 + 12 + 1);
    expect(lines.at(-1)).toBe('eval pointing: 1300/1300 images in 2m10s, 10 img/s\n');
  });

  it('every 0 seconds is a line per image; durations read as 9s, 2m08s, 1h02m', () => {
    const lines: string[] = [];
    let now = 0;
    const p = lineProgress((l) => lines.push(l), 'sanity', 0, () => now);
    p.start(3);
    for (let i = 1; i <= 3; i++) p.tick(i, 3, 'x');
    p.stop();
    expect(lines).toHaveLength(1 + 2 + 1);
    expect([formatDuration(9.4), formatDuration(128), formatDuration(3725)]).toEqual(['9s', '2m08s', '1h02m']);
  });

  it('BACKLIGHT_PROGRESS_EVERY: seconds ≥ 0, else a usage error in one line', () => {
    expect(progressSeconds({})).toBe(30);
    expect(progressSeconds({ BACKLIGHT_PROGRESS_EVERY: '2.5' })).toBe(2.5);
    expect(() => progressSeconds({ BACKLIGHT_PROGRESS_EVERY: '-1' })).toThrow(BacklightError);
    expect(() => progressSeconds({ BACKLIGHT_PROGRESS_EVERY: 'often' })).toThrow(/^BACKLIGHT_PROGRESS_EVERY 'often' must be a number of seconds ≥ 0 \(0: a line per image\)$/);
  });

  it('go to stderr off a terminal, and nowhere when disabled (--quiet, --json) or on a terminal', () => {
    let err = '';
    const io = { stdout: () => undefined, stderr: (t: string) => void (err += t), env: {}, progress: pipe() };
    const p = evalProgress(io, 'ablation', true)!;
    p.start(2);
    p.stop();
    expect(err).toBe('eval ablation: 0/2 images\neval ablation: 0/2 images in 0s\n');
    expect(evalProgress(io, 'ablation', false)).toBeUndefined();
    expect(evalProgress({ ...io, progress: undefined }, 'ablation', true)).toBeUndefined();
  });
});

describe('eval sensitivity off a terminal', () => {
  let dir: string;
  let data: string;
  let model: string;
  const SIZE = 16;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'backlight-eval-progress-'));
    data = join(dir, 'data');
    mkdirSync(data);
    const labels: { file: string; label: number }[] = [];
    for (let i = 0; i < 3; i++) {
      const rgb = Buffer.alloc(SIZE * SIZE * 3);
      for (let k = 0; k < rgb.length; k++) rgb[k] = (k * 31 + i * 89) % 256;
      await sharp(rgb, { raw: { width: SIZE, height: SIZE, channels: 3 } }).png().toFile(join(data, `s${i}.png`));
      labels.push({ file: `s${i}.png`, label: i });
    }
    writeFileSync(join(data, 'labels.json'), JSON.stringify(labels));
    model = join(dir, 'cnn.onnx');
    writeFileSync(model, buildModel({ model: 'cnn3', inputSize: SIZE, filters: 4, kernel: 3, stride: 1, pad: 1, maxPool: true, classes: 4, seed: 5, bias: 'random' }));
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('prints the start and end lines on stderr; --quiet prints nothing', async () => {
    const args = ['eval', 'sensitivity', '--model', model, '--data', data, '--method', 'gradient', '--threads', '1'];
    const r = await runCli([...args, '--out', join(dir, 'out')], pipe());
    expect(r.code, r.stderr).toBe(0);
    const lines = r.stderr.trimEnd().split('\n');
    expect(lines[0]).toBe('eval sensitivity: 0/3 images');
    expect(lines.at(-1)).toMatch(/^eval sensitivity: 3\/3 images in \d+s, [0-9.]+ img\/s$/);
    const q = await runCli([...args, '--out', join(dir, 'out-quiet'), '--quiet'], pipe());
    expect(q).toMatchObject({ code: 0, stderr: '' });
  });
});
