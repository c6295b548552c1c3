/**
 * The package as a consumer gets it: `npm run build` (into this checkout's dist/), `npm pack`, and
 * a fresh folder with the tarball installed beside the packages a consumer adds (onnxruntime-web
 * for a browser app, onnxruntime-node and sharp for Node). Used by test/consumer.*.test.ts.
 *
 * The tarball is made once per state of the sources: it lives in a temp folder named by a hash of
 * package.json, tsconfig.build.json, README.md, LICENSE and src/, so the two consumer tests (which
 * vitest runs in separate workers, possibly at once) share it; a lock folder keeps them from
 * building dist/ at the same time. Installs come from npm's cache (`--prefer-offline`), with
 * ONNXRUNTIME_NODE_INSTALL=skip (no CUDA download; onnxruntime-node's CPU binaries ship in it).
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { REPO } from './paths.js';

/** The consumer tests build, pack and install (about 2 min each): only with BACKLIGHT_CONSUMER=1. */
export const CONSUMER_TESTS = process.env.BACKLIGHT_CONSUMER === '1';

const NPM_ENV = { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip', npm_config_onnxruntime_node_install: 'skip', npm_config_update_notifier: 'false' };

function filesUnder(dir: string): string[] {
  return readdirSync(dir)
    .sort()
    .flatMap((f) => {
      const p = path.join(dir, f);
      return statSync(p).isDirectory() ? filesUnder(p) : [p];
    });
}

/** A hash of what goes into the tarball. */
function sourceHash(): string {
  const h = createHash('sha256');
  for (const f of ['package.json', 'tsconfig.build.json', 'tsconfig.json', 'README.md', 'LICENSE'].map((x) => path.join(REPO, x)).concat(filesUnder(path.join(REPO, 'src')))) {
    h.update(path.relative(REPO, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  return h.digest('hex').slice(0, 16);
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Builds and packs the package (once per source state); returns the tarball's path. */
export async function packedTarball(): Promise<string> {
  const dir = path.join(tmpdir(), `backlight-pack-${sourceHash()}`);
  const done = path.join(dir, 'tarball.txt');
  const lock = `${dir}.lock`;
  for (let waited = 0; !existsSync(done); waited += 500) {
    try {
      mkdirSync(lock);
    } catch {
      if (waited > 240_000) throw new Error(`waited 4 min for ${lock} (remove it if no test is running)`);
      await sleep(500);
      continue;
    }
    try {
      if (existsSync(done)) break;
      // A clean dist/: files of deleted modules would otherwise be packed.
      rmSync(path.join(REPO, 'dist'), { recursive: true, force: true });
      execFileSync('npm', ['run', 'build'], { cwd: REPO, env: NPM_ENV, stdio: 'pipe' });
      mkdirSync(dir, { recursive: true });
      const out = execFileSync('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', dir], { cwd: REPO, env: NPM_ENV, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      const info = JSON.parse(out) as { filename: string }[];
      writeFileSync(done, path.join(dir, info[0]!.filename));
    } finally {
      rmSync(lock, { recursive: true, force: true });
    }
  }
  return readFileSync(done, 'utf8');
}

/**
 * A fresh folder with package.json (ESM) and `packages` installed from npm's cache, the tarball
 * first. Returns the folder; the caller removes it.
 */
export function installConsumer(tarball: string, packages: string[], prefix = 'backlight-consumer-'): string {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }, null, 2));
  execFileSync('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball, ...packages], { cwd: dir, env: NPM_ENV, stdio: 'pipe', timeout: 300_000 });
  return dir;
}

/** Bytes on disk under a folder (apparent sizes of regular files). */
export function folderBytes(dir: string): number {
  return filesUnder(dir).reduce((sum, f) => sum + statSync(f).size, 0);
}
