/** Shared helpers of the CLI tests: in-process runs with captured output, and result files. */
import { readFileSync } from 'node:fs';
import { expect } from 'vitest';
import type { CliIO } from '../../src/cli/errors.js';
import { run } from '../../src/cli/program.js';
import { decodeNpy } from '../../src/io/npy.js';
import type { TensorLike } from '../../src/methods/explainer.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `backlight <args>` in-process; `progress` stands in for a terminal behind stderr. */
export async function runCli(args: readonly string[], progress?: CliIO['progress']): Promise<CliResult> {
  let stdout = '';
  let stderr = '';
  const io: CliIO = { stdout: (t) => void (stdout += t), stderr: (t) => void (stderr += t), env: {}, progress };
  const code = await run(args, io);
  return { code, stdout, stderr };
}

export const cli = (...args: string[]): Promise<CliResult> => runCli(args);

export function readNpy(file: string): TensorLike {
  return decodeNpy(readFileSync(file), file);
}

/** The [N, …] attribution of slot k from the API's [N, K, …]. */
export function slot(t: TensorLike, k: number): Float32Array {
  const [n, kk] = t.dims as [number, number];
  const per = t.data.length / (n * kk);
  const out = new Float32Array(n * per);
  for (let i = 0; i < n; i++) out.set(t.data.subarray((i * kk + k) * per, (i * kk + k + 1) * per), i * per);
  return out;
}

export function expectClose(actual: Float32Array, expected: Float32Array, tol = 1e-6): void {
  expect(actual.length).toBe(expected.length);
  let worst = 0;
  for (let i = 0; i < actual.length; i++) worst = Math.max(worst, Math.abs(actual[i]! - expected[i]!) / Math.max(1, Math.abs(expected[i]!)));
  expect(worst).toBeLessThanOrEqual(tol);
}

export { listFiles } from './files.js';
