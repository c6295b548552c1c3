/**
 * What a consumer installs, checked without installing (the default run; the installs are in
 * test/consumer.node.test.ts and test/consumer.vite.test.ts): the Node runtimes are optional peers,
 * `engines` admits no Node version that a dependency refuses (from package-lock.json), the package
 * ships a licence and no source maps, and a missing peer is reported in one line.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { BacklightError } from '../src/errors.js';
import { importPeer, peerFailure } from '../src/io/peers.js';
import { REPO } from './helpers/paths.js';

const semver = createRequire(import.meta.url)('semver') as { subset(sub: string, sup: string): boolean };

interface PackageJson {
  engines: { node: string };
  dependencies: Record<string, string>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  files: string[];
  bin: Record<string, string>;
}
interface LockEntry {
  version: string;
  dev?: boolean;
  peer?: boolean;
  engines?: { node?: string } | string[];
}

const pkg = JSON.parse(readFileSync(path.join(REPO, 'package.json'), 'utf8')) as PackageJson;
const lock = JSON.parse(readFileSync(path.join(REPO, 'package-lock.json'), 'utf8')) as { packages: Record<string, LockEntry> };

describe('the package as a consumer installs it', () => {
  it('leaves onnxruntime-node, sharp and onnxruntime-web to the user (optional peers)', () => {
    for (const peer of ['onnxruntime-node', 'sharp', 'onnxruntime-web']) {
      expect(pkg.dependencies[peer]).toBeUndefined();
      expect(pkg.peerDependencies[peer]).toBeDefined();
      expect(pkg.peerDependenciesMeta[peer]?.optional).toBe(true);
    }
  });

  it("admits only Node versions every dependency's engines admit", () => {
    // What a user installs: the dependencies' tree (not dev) and the peers with theirs.
    const peers = Object.keys(pkg.peerDependencies);
    const wanted = Object.entries(lock.packages).filter(([k, v]) => k !== '' && (!v.dev || peers.some((p) => k === `node_modules/${p}`)));
    expect(wanted.length).toBeGreaterThan(20);
    const refused = wanted
      .filter(([, v]) => v.engines && !Array.isArray(v.engines) && v.engines.node && !semver.subset(pkg.engines.node, v.engines.node))
      .map(([k, v]) => `${k.replace(/.*node_modules\//, '')}@${v.version} needs node ${(v.engines as { node: string }).node}`);
    expect(refused).toEqual([]);
  });

  it('ships a licence and the bin entry, and no source maps', () => {
    expect(readFileSync(path.join(REPO, 'LICENSE'), 'utf8')).toMatch(/^MIT License\n\nCopyright \(c\) \d{4} Backlight contributors\n/);
    expect(pkg.files).toContain('LICENSE');
    expect(pkg.files).toContain('!dist/**/*.map');
    expect(pkg.bin.backlight).toBe('dist/cli/bin.js');
    expect(readFileSync(path.join(REPO, 'src/cli/bin.ts'), 'utf8')).toMatch(/^#!\/usr\/bin\/env node\n/);
  });

  it("reports a missing peer in one line, from Node's own resolution error", async () => {
    // Where nothing is installed, Node's error for `import('onnxruntime-node')`.
    const dir = mkdtempSync(path.join(tmpdir(), 'backlight-nopeer-'));
    try {
      const r = spawnSync(process.execPath, ['--input-type=module', '-e', "try { await import('onnxruntime-node'); } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })); }"], { cwd: dir, encoding: 'utf8' });
      const error = JSON.parse(r.stdout) as { code: string; message: string };
      expect(error.code).toBe('ERR_MODULE_NOT_FOUND');
      expect(peerFailure(error)).toBe('onnxruntime-node is not installed: npm install onnxruntime-node sharp');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    const missingSharp = Object.assign(new Error("Cannot find package 'sharp' imported from /app/node_modules/backlight/dist/io/image.js"), { code: 'ERR_MODULE_NOT_FOUND' });
    await expect(importPeer(() => Promise.reject(missingSharp))).rejects.toThrow(new BacklightError('sharp is not installed: npm install onnxruntime-node sharp'));
    // Any other failure is passed on as it is.
    const other = new Error('boom');
    await expect(importPeer(() => Promise.reject(other))).rejects.toBe(other);
  });
});
