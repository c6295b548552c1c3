/**
 * Output discipline (docs/design/output-discipline.md): two `explain` runs into one folder merge;
 * a second run into a locked folder is refused naming the holder; a stale lock is taken over;
 * temporaries of dead runs are swept; a refused `eval` writes nothing and a corrected rerun works;
 * SIGTERM during a run leaves no temporaries.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { spawn } from 'node:child_process';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCK_FILE } from '../src/cli/outputDir.js';
import { cli, listFiles } from './helpers/cli.js';
import { checkExplainFolder, deadPid, spawnBacklight, writeModelAndInputs } from './helpers/outputs.js';

let work: string;
let model: string;
let inputs: string[];

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), 'backlight-outputs-'));
  ({ model, inputs } = writeModelAndInputs(work, 3));
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

const explain = (out: string, ...extra: string[]) => ['explain', '--model', model, '--input-npy', inputs[0]!, inputs[1]!, '--target', 'max,1', '--out', out, '--threads', '1', ...extra];

function writeLock(out: string, pid: number, host = hostname()): void {
  mkdirSync(out, { recursive: true });
  writeFileSync(join(out, LOCK_FILE), JSON.stringify({ pid, host, started: '2026-01-02T03:04:05.000Z', command: 'backlight explain …' }));
}

describe('explain: runs into one folder', () => {
  it('merges a second run with another method: summary.json and grid.png describe both', async () => {
    const out = join(work, 'merge');
    expect((await cli(...explain(out, '--method', 'gradient', '--quiet'))).code).toBe(0);
    const gradient = readFileSync(join(out, 'in0', 'gradient__1.npy'));
    const oneRow = (await sharp(join(out, 'in0', 'grid.png')).metadata()).height!;
    const r = await cli(...explain(out, '--method', 'guided-backprop', '--quiet'));
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });

    expect(await checkExplainFolder(out)).toEqual({ state: 'sets', sets: 2 });
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    for (const inp of s.inputs) for (const img of inp.images) expect(Object.keys(img.methods)).toEqual(['gradient', 'guided-backprop']);
    expect(s.methods).toEqual(['guided-backprop']);
    expect(s.earlierRuns.map((e: { methods: string[] }) => e.methods)).toEqual([['gradient']]);
    expect(Object.keys(s.display.methods).sort()).toEqual(['gradient', 'guided-backprop']);
    // The earlier method's data is kept as it was; the grid has a row more.
    expect(readFileSync(join(out, 'in0', 'gradient__1.npy'))).toEqual(gradient);
    expect((await sharp(join(out, 'in0', 'grid.png')).metadata()).height!).toBeGreaterThan(oneRow);
    const targets = JSON.parse(readFileSync(join(out, 'in0', 'targets.json'), 'utf8'));
    expect(Object.keys(targets.files)).toEqual(['gradient', 'guided-backprop']);

    // The same method again replaces its own files and keeps the other's.
    expect((await cli(...explain(out, '--method', 'gradient', '--quiet'))).code).toBe(0);
    expect(await checkExplainFolder(out)).toEqual({ state: 'sets', sets: 2 });
    const again = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    expect(Object.keys(again.inputs[0].images[0].methods).sort()).toEqual(['gradient', 'guided-backprop']);
  });

  it('replaces a set whose targets differ, and keeps the sets of other inputs', async () => {
    const out = join(work, 'replace');
    expect((await cli(...explain(out, '--method', 'gradient', '--quiet'))).code).toBe(0);
    const r = await cli('explain', '--model', model, '--input-npy', inputs[1]!, inputs[2]!, '--target', '0', '--method', 'deconvnet', '--out', out, '--quiet');
    expect(r.code).toBe(0);
    expect(await checkExplainFolder(out)).toEqual({ state: 'sets', sets: 3 });
    const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8'));
    const methodsOf = (stem: string): string[] => Object.keys(s.inputs.find((i: { dir: string }) => i.dir.endsWith(stem)).images[0].methods);
    expect(methodsOf('in0')).toEqual(['gradient']);
    expect(methodsOf('in1')).toEqual(['deconvnet']);
    expect(listFiles(join(out, 'in1')).filter((f) => f.startsWith('gradient'))).toEqual([]);
  });
});

describe('explain: the lock', () => {
  it('refuses a second run into a folder in use, in one line naming the other process (exit 1), and writes nothing', async () => {
    const out = join(work, 'busy');
    const other = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)']);
    try {
      writeLock(out, other.pid!);
      const r = await cli(...explain(out, '--method', 'gradient'));
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toBe(`backlight: output folder '${out}' is in use by another backlight run (pid ${other.pid}, started at 2026-01-02T03:04:05.000Z): wait for it to end or use another --out\n`);
      expect(listFiles(out)).toEqual([LOCK_FILE]);
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('takes over the lock of a process that is gone, with a note', async () => {
    const out = join(work, 'stale');
    const pid = deadPid();
    writeLock(out, pid);
    const r = await cli(...explain(out, '--method', 'gradient'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`backlight: note: took over the lock of '${out}' left by a run that is gone (pid ${pid}, started at 2026-01-02T03:04:05.000Z)\n`);
    expect(await checkExplainFolder(out)).toEqual({ state: 'sets', sets: 2 });
  });

  it('refuses a lock of another host even when no such pid runs here', async () => {
    const out = join(work, 'remote');
    writeLock(out, deadPid(), 'another-host');
    const r = await cli(...explain(out, '--method', 'gradient'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^backlight: output folder '.*remote' is in use by another backlight run \(pid \d+ on host another-host, started at .*\): wait for it to end or use another --out \(if that run is gone, remove '.*remote\/\.backlight\.lock'\)\n$/);
  });
});

describe('explain: temporaries', () => {
  it('sweeps the temporaries of runs that ended without cleaning up', async () => {
    const out = join(work, 'sweep');
    expect((await cli(...explain(out, '--method', 'gradient', '--quiet'))).code).toBe(0);
    const pid = deadPid();
    mkdirSync(join(out, `.backlight-tmp-${pid}-0a1b2c3d`, 'sub'), { recursive: true });
    writeFileSync(join(out, `.backlight-tmp-${pid}-0a1b2c3d`, 'sub', 'gradient__1.npy'), 'half');
    mkdirSync(join(out, `.backlight-old-${pid}-99887766`));
    writeFileSync(join(out, `summary.json.tmp-${pid}-deadbeef`), '{');
    writeFileSync(join(out, 'in0', `grid.png.tmp-${pid}-01234567`), 'x');
    const r = await cli(...explain(out, '--method', 'gradient'));
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(`backlight: note: removed 4 temporaries left in '${out}' by an interrupted run\n`);
    expect(await checkExplainFolder(out)).toEqual({ state: 'sets', sets: 2 });
  });

  it('SIGTERM during a run: exit 143, no temporaries, no lock, whole sets only', async () => {
    const out = join(work, 'sigterm');
    const child = spawnBacklight(['explain', '--model', model, '--input-npy', ...inputs, '--method', 'gradient,guided-backprop,deconvnet', '--target', 'max,1', '--out', out, '--quiet']);
    // Terminate as soon as the run holds the folder (its lock is there).
    await new Promise<void>((resolve, reject) => {
      const t0 = Date.now();
      const poll = setInterval(() => {
        if (existsSync(join(out, LOCK_FILE))) {
          clearInterval(poll);
          child.kill('SIGTERM');
          resolve();
        } else if (Date.now() - t0 > 60_000) {
          clearInterval(poll);
          reject(new Error('the run never took the lock'));
        }
      }, 5);
    });
    const code = await new Promise<number | null>((resolve) => child.on('exit', (c) => resolve(c)));
    expect(code).toBe(143);
    const state = await checkExplainFolder(out);
    expect(['nothing', 'sets']).toContain(state.state);
  }, 90_000);
});

describe('eval: a refused run writes nothing', () => {
  let data: string;
  const entry = (i: number) => ({ file: `img-${i}.png`, label: i % 4, boxes: [[2, 2, 12, 12]] });

  beforeAll(async () => {
    data = join(work, 'data');
    mkdirSync(data);
    for (let i = 0; i < 4; i++) {
      const rgb = Buffer.alloc(32 * 32 * 3, 40 + 50 * i);
      await sharp(rgb, { raw: { width: 32, height: 32, channels: 3 } }).png().toFile(join(data, `img-${i}.png`));
    }
  });

  const evalArgs = (out: string, annotations: string) => ['eval', 'pointing', '--model', model, '--data', data, '--annotations', annotations, '--out', out, '--threads', '1', '--quiet'];

  it('a bad entry in the middle (an unreadable image) is refused before anything is written; the corrected rerun works', async () => {
    const out = join(work, 'eval-bad');
    writeFileSync(join(data, 'broken.png'), 'not a png at all');
    const bad = join(work, 'bad.json');
    writeFileSync(bad, JSON.stringify([entry(0), entry(1), { file: 'broken.png', label: 0, boxes: [[1, 1, 4, 4]] }, entry(2)]));
    const r = await cli(...evalArgs(out, bad));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^backlight: cannot decode image '.*broken\.png' \(entry 2 of the annotations\): [^\n]*\n$/);
    expect(existsSync(out)).toBe(false);

    const good = join(work, 'good.json');
    writeFileSync(good, JSON.stringify([entry(0), entry(1), entry(2)]));
    const ok = await cli(...evalArgs(out, good));
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(3);
  });

  it('shards of one evaluation still run side by side into one folder (no lock between them), then merge', async () => {
    const out = join(work, 'eval-shards');
    const list = join(work, 'shards.json');
    writeFileSync(list, JSON.stringify([entry(0), entry(1), entry(2), entry(3)]));
    const [a, b] = await Promise.all([cli(...evalArgs(out, list), '--shard', '0/2'), cli(...evalArgs(out, list), '--shard', '1/2')]);
    expect([a.code, b.code, a.stderr, b.stderr]).toEqual([0, 0, '', '']);
    const m = await cli('eval', 'merge', out, '--quiet');
    expect(m).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(readFileSync(join(out, 'results.jsonl'), 'utf8').trim().split('\n')).toHaveLength(4);
    expect(listFiles(out).filter((f) => f.startsWith('.'))).toEqual([]);
  });

  it('a failure in the middle of the run (an image whose header reads but whose data does not) undoes what the run wrote', async () => {
    const out = join(work, 'eval-cut');
    const whole = readFileSync(join(data, 'img-3.png'));
    writeFileSync(join(data, 'cut.png'), whole.subarray(0, Math.floor(whole.length * 0.6)));
    const list = join(work, 'list.json');
    const cutList = JSON.stringify([entry(0), entry(1), { file: 'cut.png', label: 3, boxes: [[1, 1, 4, 4]] }, entry(2)]);
    writeFileSync(list, cutList);
    const r = await cli(...evalArgs(out, list));
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    expect(existsSync(out)).toBe(false);

    // A resumed run that fails keeps what was there before it, and nothing of its own.
    writeFileSync(list, JSON.stringify([entry(0), entry(1)]));
    expect((await cli(...evalArgs(out, list))).code).toBe(0);
    const before = new Map(listFiles(out).map((f) => [f, readFileSync(join(out, f))]));
    writeFileSync(list, cutList);
    const r2 = await cli(...evalArgs(out, list));
    expect(r2.code).toBe(1);
    expect(r2.stderr).toMatch(/^backlight: [^\n]*cut\.png[^\n]*\n$/);
    expect(listFiles(out)).toEqual([...before.keys()]);
    for (const [f, bytes] of before) expect(readFileSync(join(out, f)), f).toEqual(bytes);
  });
});
