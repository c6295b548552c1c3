/**
 * torchvision models exported by test/torchvision/export_models.py with Debian's python3-torch,
 * cached in the temp folder across test files and runs; tests that need them skip without torch.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from './paths.js';

const PYTHON = '/usr/bin/python3';
export const TORCHVISION_CACHE = path.join(tmpdir(), 'backlight-torchvision');
export const HAS_TORCH = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import torch, torchvision, onnx'], { stdio: 'ignore' }).status === 0;

/** Exports the models whose files are not cached yet (one Python run). */
export function ensureExported(models: readonly string[]): void {
  mkdirSync(TORCHVISION_CACHE, { recursive: true });
  const missing = models.filter((m) => !existsSync(path.join(TORCHVISION_CACHE, `${m}.json`)));
  if (missing.length === 0) return;
  const run = spawnSync(PYTHON, [path.join(REPO, 'test', 'torchvision', 'export_models.py'), TORCHVISION_CACHE, ...missing], { encoding: 'utf8', timeout: 1_800_000 });
  if (run.status !== 0) throw new Error(`export_models.py failed: ${run.stderr.slice(-2000)}`);
}
