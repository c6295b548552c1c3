/**
 * Runs one fuzz case through the command line, as a subprocess (the full run: real exit codes,
 * everything the process writes to its streams, native log lines included) or in-process through
 * `run(argv, io)` (the default test run: one process, no start-up cost per case), and puts the
 * result in exactly one category (types.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import type { CliIO } from '../../src/cli/errors.js';
import { run } from '../../src/cli/program.js';
import { escapeControl } from '../../src/errors.js';
import { decodeNpy } from '../../src/io/npy.js';
import { listFiles } from '../helpers/files.js';
import type { Category, FuzzCase, Prepared } from './types.js';

export const CASE_TIMEOUT_MS = 60_000;

export interface Outcome {
  id: string;
  category: Category;
  code: number | null;
  /** stderr, escaped (for reports). */
  stderr: string;
  seconds: number;
  /** Why the category was chosen, when it is not a clean one. */
  detail?: string;
}

interface Raw {
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** How to run the CLI: in-process, or a subprocess `command … args` (e.g. node out/fuzz-dist/cli/main.js). */
export type Runner = { kind: 'in-process' } | { kind: 'spawn'; command: string[] };

/** prlimit (util-linux) puts the 60 s limit on CPU time, which a loaded machine does not stretch. */
const PRLIMIT = '/usr/bin/prlimit';
/** With the CPU-time limit, the wall-clock limit is only a backstop (a process waiting forever). */
const WALL_BACKSTOP_MS = 600_000;

/**
 * A subprocess run. The limit is on CPU time where prlimit exists (SIGXCPU past it): on the shared
 * 2-core machine other work can stretch a 20 s case past 60 s of wall time. Else on wall time.
 */
function spawnCli(command: string[], args: string[], cwd: string, timeoutMs: number): Promise<Raw> {
  const cpuLimit = existsSync(PRLIMIT);
  const argv = cpuLimit ? [PRLIMIT, `--cpu=${Math.ceil(timeoutMs / 1000)}:${Math.ceil(timeoutMs / 1000) + 5}`, '--', ...command, ...args] : [...command, ...args];
  const wallMs = cpuLimit ? WALL_BACKSTOP_MS : timeoutMs;
  return new Promise((resolve) => {
    const child = spawn(argv[0]!, argv.slice(1), { cwd, env: { ...process.env, BACKLIGHT_DEBUG: '' }, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout.on('data', (b: Buffer) => out.push(b));
    child.stderr.on('data', (b: Buffer) => err.push(b));
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, wallMs);
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, stdout: Buffer.concat(out).toString('utf8'), stderr: Buffer.concat(err).toString('utf8'), timedOut: timedOut || signal === 'SIGXCPU' || (cpuLimit && signal === 'SIGKILL') });
    });
  });
}

async function inProcess(args: string[], cwd: string, timeoutMs: number): Promise<Raw> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {} };
  const before = process.cwd();
  process.chdir(cwd);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timeout = new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)));
    const code = await Promise.race([run(args, io), timeout]);
    return code === 'timeout' ? { code: null, stdout, stderr, timedOut: true } : { code, stdout, stderr, timedOut: false };
  } finally {
    clearTimeout(timer);
    process.chdir(before);
  }
}

// Raw control characters (C0 but \n, DEL, C1, bidi overrides): what escapeControl must have removed.
const RAW_CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;
const STACK = /^\s+at .+(:\d+:\d+\)?|\(native\))$/m;

async function ortForward(model: string, input: { data: Float32Array; dims: number[] }): Promise<Float32Array | Error> {
  let session: ort.InferenceSession;
  try {
    session = await ort.InferenceSession.create(model, { logSeverityLevel: 4 });
  } catch (e) {
    return e as Error;
  }
  try {
    const r = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', input.data, input.dims) });
    return r[session.outputNames[0]!]!.data as Float32Array;
  } catch (e) {
    return e as Error;
  } finally {
    await session.release();
  }
}

function classify(raw: Raw, p: Prepared, dir: string, before: Set<string>): Promise<{ category: Category; detail?: string }> | { category: Category; detail?: string } {
  if (raw.timedOut) return { category: 'hang', detail: `no exit within ${CASE_TIMEOUT_MS / 1000} s (of CPU time for a subprocess, of wall time in-process)` };
  if (/internal error|this is a bug/.test(raw.stderr) || STACK.test(raw.stderr) || (raw.code !== 0 && raw.code !== 1 && raw.code !== 2)) {
    return { category: 'internal-error', detail: `exit ${raw.code}` };
  }
  if (RAW_CONTROL.test(raw.stderr) || RAW_CONTROL.test(raw.stdout)) return { category: 'raw-control-char', detail: JSON.stringify(raw.stderr.slice(0, 200)) };
  // With --out '' (or any relative path) output lands in the working folder: look there too.
  const written = p.out === '' ? listFiles(dir).filter((f) => !before.has(f)) : listFiles(p.out);
  if (raw.code !== 0) {
    const lines = raw.stderr.split('\n').filter((l) => l.length > 0);
    if (written.length > 0) return { category: 'partial-output', detail: `left ${written.slice(0, 4).join(', ')}${written.length > 4 ? ', …' : ''}` };
    if (lines.length !== 1) return { category: 'wrong', detail: `${lines.length} lines on stderr` };
    if (!lines[0]!.startsWith('backlight: ')) return { category: 'wrong', detail: 'stderr does not start with "backlight: "' };
    return { category: raw.code === 1 ? 'refused-1' : 'refused-2' };
  }
  if (p.out === '') return { category: 'wrong', detail: `--out '' accepted, wrote ${written.length} files into the working folder` };
  const outDir = p.out;
  for (const f of written.filter((f) => f.endsWith('.npy'))) {
    const a = decodeNpy(readFileSync(join(outDir, f)), f);
    const bad = a.data.findIndex((v) => !Number.isFinite(v));
    if (bad >= 0) return { category: 'silent-NaN', detail: `${f}[${bad}] = ${a.data[bad]}` };
  }
  if (written.length === 0) return { category: 'wrong', detail: 'exit 0 but nothing written' };
  if (!p.check) return { category: 'accepted-equal' };
  const check = p.check;
  const logitsFile = written.find((f) => f.endsWith('logits.npy'));
  return ortForward(check.model, check.input).then((expected) => {
    if (expected instanceof Error) return { category: 'accepted-but-ort-refuses' as const, detail: escapeControl(expected.message.split('\n')[0]!.slice(0, 200)) };
    if (!logitsFile) return { category: 'wrong' as const, detail: 'no logits.npy' };
    const got = decodeNpy(readFileSync(join(outDir, logitsFile))).data;
    if (got.length !== expected.length) return { category: 'wrong' as const, detail: `logits have ${got.length} values, onnxruntime ${expected.length}` };
    let worst = 0;
    for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
    // NaN in onnxruntime's output where ours is finite: not equal either.
    if (!(worst <= 1e-4)) return { category: 'wrong' as const, detail: `logits differ from onnxruntime's by ${worst.toExponential(2)} (relative)` };
    return { category: 'accepted-equal' as const };
  });
}

export async function runCase(c: FuzzCase, runner: Runner, timeoutMs = CASE_TIMEOUT_MS): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'backlight-fuzz-'));
  try {
    const p = await c.prepare(dir);
    const before = new Set(listFiles(dir));
    const t0 = performance.now();
    const raw = runner.kind === 'spawn' ? await spawnCli(runner.command, p.args, dir, timeoutMs) : await inProcess(p.args, dir, timeoutMs);
    const seconds = (performance.now() - t0) / 1000;
    const { category, detail } = await classify(raw, p, dir, before);
    return { id: c.id, category, code: raw.code, stderr: escapeControl(raw.stderr.trim(), '\n'), seconds, detail };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Whether an outcome is what its case allows. */
export function allowed(c: FuzzCase, o: Outcome): boolean {
  return (c.expect ?? ['refused-1', 'refused-2', 'accepted-equal']).includes(o.category);
}
