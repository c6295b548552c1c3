/**
 * Helpers of the output-discipline and kill tests: a small model and inputs, the CLI as a real
 * process, and the check that an explain folder holds nothing or whole sets described by its
 * summary.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { expect } from 'vitest';
import { buildModel } from '../../src/builder/index.js';
import { encodeNpy, decodeNpy } from '../../src/io/npy.js';
import { listFiles } from './cli.js';
import { REPO } from './paths.js';

/** A small CNN (3×32×32 → 4 classes) and `count` seeded .npy inputs in `dir`; returns their paths. */
export function writeModelAndInputs(dir: string, count: number): { model: string; inputs: string[] } {
  const model = join(dir, 'cnn3.onnx');
  writeFileSync(model, buildModel({ model: 'cnn3', inputSize: 32, filters: 8, kernel: 5, stride: 1, pad: 2, classes: 4, seed: 3 }));
  const inputs: string[] = [];
  let s = 987654321;
  const rnd = (): number => ((s = (Math.imul(s, 1103515245) + 12345) >>> 0) / 2 ** 32);
  for (let i = 0; i < count; i++) {
    const x = new Float32Array(3 * 32 * 32);
    for (let k = 0; k < x.length; k++) x[k] = rnd() * 2 - 1;
    const file = join(dir, `in${i}.npy`);
    writeFileSync(file, encodeNpy(x, [1, 3, 32, 32]));
    inputs.push(file);
  }
  return { model, inputs };
}

const MAIN = join(REPO, 'src', 'cli', 'main.ts');

/** `backlight <args>` as a child process (as a shell runs it). */
export function spawnBacklight(args: readonly string[]): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO, env: { ...process.env, BACKLIGHT_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
}

/** Runs `backlight <args>` to the end. */
export function runBacklight(args: readonly string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', MAIN, ...args], { cwd: REPO, encoding: 'utf8', env: { ...process.env, BACKLIGHT_DEBUG: '' }, timeout: 120_000 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The pid of a process that has ended (for stale locks and temporaries). */
export function deadPid(): number {
  const r = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'], { encoding: 'utf8' });
  return Number(r.stdout);
}

/** What the folder holds: 'nothing', or 'sets' (whole sets, described exactly by summary.json); throws otherwise. */
export async function checkExplainFolder(out: string): Promise<{ state: 'nothing' | 'sets'; sets: number }> {
  const files = listFiles(out);
  if (files.length === 0) return { state: 'nothing', sets: 0 };
  const leftovers = files.filter((f) => f.startsWith('.') || f.includes('/.') || /\.tmp-\d+-[0-9a-f]{8}$/.test(f));
  expect(leftovers, 'temporaries or a lock left').toEqual([]);
  expect(files, 'a folder with files has summary.json').toContain('summary.json');
  const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as { inputs: Array<{ dir: string; files: string[] }> };
  const described = summary.inputs.flatMap((i) => i.files.map((f) => `${i.dir.split(/[\\/]/).pop()}/${f.split(/[\\/]/).pop()}`));
  expect(['summary.json', ...described].sort(), 'summary.json describes exactly the files present').toEqual(files);
  for (const inp of summary.inputs) {
    const stem = inp.dir.split(/[\\/]/).pop()!;
    const doc = JSON.parse(readFileSync(join(out, stem, 'targets.json'), 'utf8')) as { set: { files: string[] } };
    expect([...doc.set.files].sort()).toEqual(listFiles(join(out, stem)));
    for (const f of doc.set.files) {
      const p = join(out, stem, f);
      if (f.endsWith('.npy')) expect(decodeNpy(readFileSync(p), p).data.length).toBeGreaterThan(0);
      if (f.endsWith('.png')) {
        const { info } = await sharp(p).raw().toBuffer({ resolveWithObject: true });
        expect(info.width * info.height).toBeGreaterThan(0);
      }
    }
  }
  return { state: 'sets', sets: summary.inputs.length };
}
