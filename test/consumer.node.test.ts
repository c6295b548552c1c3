/**
 * A Node program as a consumer writes it: the packed tarball with onnxruntime-node and sharp in a
 * fresh folder, and the README's program (the block after `<!-- consumer-program -->`, taken
 * verbatim) type-checked with `tsc --strict` (NodeNext) and run. Its top-1 class and probability
 * must be the command line's (the package's own bin) for the same photo, and its PNGs must decode
 * at the photo's size. Needs ../shared (MobileNetV2 and a photo); skipped without. Runs with
 * BACKLIGHT_CONSUMER=1 (`npm run test:consumer`): about 2 min on the 2-core CI machine.
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { presets } from '../src/index.js';
import { CONSUMER_TESTS, installConsumer, packedTarball } from './helpers/pack.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';

const version = (pkg: string): string => (JSON.parse(readFileSync(path.join(REPO, 'node_modules', pkg, 'package.json'), 'utf8')) as { version: string }).version;

/** The README's consumer program. */
function readmeProgram(): string {
  const readme = readFileSync(path.join(REPO, 'README.md'), 'utf8');
  const m = /<!-- consumer-program -->\n```ts\n([\s\S]*?)```/.exec(readme);
  if (!m) throw new Error('README.md has no ```ts block after <!-- consumer-program -->');
  return m[1]!;
}

const PHOTO = 'grace_hopper.jpg';

describe.skipIf(!CONSUMER_TESTS || !HAS_SHARED)('a Node program using the packed tarball', () => {
  let dir = '';

  beforeAll(async () => {
    dir = installConsumer(await packedTarball(), [`onnxruntime-node@${version('onnxruntime-node')}`, `sharp@${version('sharp')}`], 'backlight-node-');
    copyFileSync(shared('models/mobilenetv2-imagenet.onnx'), path.join(dir, 'mobilenetv2.onnx'));
    copyFileSync(shared('images', PHOTO), path.join(dir, 'photo.jpg'));
    writeFileSync(path.join(dir, 'program.ts'), readmeProgram());
  }, 600_000);

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('is at most 15 lines of user code', () => {
    const lines = readmeProgram().split('\n').filter((l) => l.trim() !== '');
    expect(lines.length).toBeLessThanOrEqual(15);
  });

  it('type-checks under --strict, runs, and agrees with the command line', () => {
    const tsc = spawnSync(
      process.execPath,
      [path.join(REPO, 'node_modules/typescript/bin/tsc'), '--strict', '--noEmit', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022',
        '--types', 'node', '--typeRoots', path.join(REPO, 'node_modules/@types'), 'program.ts'],
      { cwd: dir, encoding: 'utf8' },
    );
    expect(tsc.stdout + tsc.stderr).toBe('');
    expect(tsc.status).toBe(0);

    const run = spawnSync(process.execPath, ['--import', path.join(REPO, 'node_modules/tsx/dist/loader.mjs'), 'program.ts'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);
    const top5 = run.stdout.trim().split('\n').map((l) => {
      const [index, ...rest] = l.split(' ');
      return { index: Number(index), name: rest.slice(0, -1).join(' '), p: Number(rest.at(-1)) };
    });
    expect(top5).toHaveLength(5);

    const cli = spawnSync(path.join(dir, 'node_modules/.bin/backlight'), ['explain', '--model', 'mobilenetv2.onnx', '--image', 'photo.jpg', '--preset', 'imagenet', '--method', 'gradient', '--target', 'max', '--out', 'cli', '--threads', '2'], { cwd: dir, encoding: 'utf8', timeout: 240_000 });
    expect(cli.stderr).toBe('');
    expect(cli.status).toBe(0);
    const summary = JSON.parse(readFileSync(path.join(dir, 'cli/summary.json'), 'utf8')) as { inputs: { images: { predictions: { index: number; probability: number }[] }[] }[] };
    const best = summary.inputs[0]!.images[0]!.predictions[0]!;
    expect(top5[0]!.index).toBe(best.index);
    expect(top5[0]!.name).toBe(presets.imagenet.classes![best.index]);
    expect(top5[0]!.p).toBe(Number(best.probability.toFixed(4)));
  }, 600_000);

  it("writes the overlays at the photo's size", async () => {
    const photo = await sharp(path.join(dir, 'photo.jpg')).metadata();
    for (const file of ['guided-backprop.png', 'lrp.png']) {
      const png = await sharp(path.join(dir, file)).metadata();
      expect([png.format, png.width, png.height]).toEqual(['png', photo.width, photo.height]);
    }
  });
});
