/**
 * `eval pointing` datasets with broken annotations (missing boxes, boxes outside the image,
 * negative, NaN/Infinity, the wrong JSON shape) or missing images, on the demo model.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { DIGITS_MODEL } from './models.js';
import { Rng } from './rng.js';
import { GOOD, type Category, type FuzzCase, type Prepared } from './types.js';

const OK: readonly Category[] = ['accepted-equal'];
const REFUSED: readonly Category[] = ['refused-1', 'refused-2'];

interface EvalCase {
  name: string;
  /** The annotations file's text (three images img-0..2.png of 40×36 exist). */
  annotations: string;
  extra?: string[];
  expect?: readonly Category[];
  /** Write no images. */
  noImages?: boolean;
}

const entry = (i: number, boxes: unknown = [[4, 4, 20, 20]], label: unknown = i % 10) => ({ file: `img-${i}.png`, label, boxes });
const list = (...e: unknown[]) => JSON.stringify(e);
const good = (): unknown[] => [entry(0), entry(1), entry(2)];

const CASES: EvalCase[] = [
  { name: 'control', annotations: list(...good()), expect: OK },
  { name: 'missing-boxes', annotations: list(entry(0), { file: 'img-1.png', label: 1 }, entry(2)) },
  { name: 'empty-boxes', annotations: list(entry(0), entry(1, []), entry(2)) },
  { name: 'box-out-of-image', annotations: list(entry(0), entry(1, [[100, 100, 200, 200]]), entry(2)) },
  { name: 'box-partly-out', annotations: list(entry(0), entry(1, [[30, 30, 80, 80]]), entry(2)) },
  { name: 'box-negative', annotations: list(entry(0), entry(1, [[-10, -5, 8, 8]]), entry(2)) },
  { name: 'box-inverted', annotations: list(entry(0), entry(1, [[20, 20, 4, 4]]), entry(2)) },
  { name: 'box-nan-string', annotations: list(entry(0), entry(1, [['NaN', 0, 4, 4]]), entry(2)), expect: REFUSED },
  { name: 'box-infinity', annotations: `[${JSON.stringify(entry(0))}, {"file": "img-1.png", "label": 1, "boxes": [[0, 0, 1e999, 4]]}]`, expect: REFUSED },
  { name: 'box-three-numbers', annotations: list(entry(0), entry(1, [[1, 2, 3]]), entry(2)), expect: REFUSED },
  { name: 'box-not-list', annotations: list(entry(0), entry(1, 'all'), entry(2)), expect: REFUSED },
  { name: 'box-flat', annotations: list(entry(0), entry(1, [1, 2, 3, 4]), entry(2)) },
  { name: 'label-string', annotations: list(entry(0), entry(1, undefined, 'cat'), entry(2)), expect: REFUSED },
  { name: 'label-out-of-range', annotations: list(entry(0), entry(1, undefined, 1000), entry(2)), expect: REFUSED },
  { name: 'label-negative', annotations: list(entry(0), entry(1, undefined, -1), entry(2)), expect: REFUSED },
  { name: 'label-fraction', annotations: list(entry(0), entry(1, undefined, 1.5), entry(2)), expect: REFUSED },
  { name: 'file-missing-image', annotations: list(entry(0), entry(7), entry(2)), expect: REFUSED },
  { name: 'file-outside-folder', annotations: list(entry(0), { file: '../../../etc/passwd', label: 1, boxes: [[0, 0, 4, 4]] }), expect: REFUSED },
  { name: 'file-not-string', annotations: list(entry(0), { file: 3, label: 1, boxes: [[0, 0, 4, 4]] }), expect: REFUSED },
  { name: 'file-control-chars', annotations: list(entry(0), { file: 'img\x1b[2J-1.png', label: 1, boxes: [[0, 0, 4, 4]] }), expect: REFUSED },
  { name: 'json-object', annotations: JSON.stringify({ images: good() }), expect: REFUSED },
  { name: 'json-broken', annotations: '[{"file": "img-0.png", ', expect: REFUSED },
  { name: 'json-empty-list', annotations: '[]', expect: REFUSED },
  { name: 'json-empty-file', annotations: '', expect: REFUSED },
  { name: 'json-null-entry', annotations: list(entry(0), null, entry(2)), expect: REFUSED },
  { name: 'json-number', annotations: '42', expect: REFUSED },
  { name: 'missing-images', annotations: list(...good()), noImages: true, expect: REFUSED },
  { name: 'threads-0', annotations: list(...good()), extra: ['--threads', '0'], expect: ['refused-2'] },
  { name: 'threads-1e9', annotations: list(...good()), extra: ['--threads', '1000000000'] },
  { name: 'threads-negative', annotations: list(...good()), extra: ['--threads', '-1'], expect: ['refused-2'] },
  { name: 'tolerance-negative', annotations: list(...good()), extra: ['--tolerance', '-3'], expect: ['refused-2'] },
  { name: 'levels-nan', annotations: list(...good()), extra: ['--levels', 'NaN'], expect: ['refused-2'] },
  { name: 'limit-huge', annotations: list(...good()), extra: ['--limit', '1e9'] },
];

async function writeImages(data: string): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const px = Buffer.alloc(40 * 36);
    for (let k = 0; k < px.length; k++) px[k] = (k * 37 + i * 11) % 251;
    await sharp(px, { raw: { width: 40, height: 36, channels: 1 } }).png().toFile(join(data, `img-${i}.png`));
  }
}

function evalCase(c: EvalCase): FuzzCase {
  return {
    id: `eval/${c.name}`,
    group: 'eval',
    // A refused eval run writes nothing (src/cli/outputDir.ts undoes what it added).
    expect: c.expect ?? GOOD,
    prepare: async (dir): Promise<Prepared> => {
      const data = join(dir, 'data');
      mkdirSync(data);
      if (!c.noImages) await writeImages(data);
      writeFileSync(join(data, 'annotations.json'), c.annotations);
      const out = join(dir, 'out');
      return { args: ['eval', 'pointing', '--model', DIGITS_MODEL, '--data', data, '--preset', 'mnist', '--method', 'gradient', '--levels', '50,100', '--out', out, '-q', ...(c.extra ?? [])], out };
    },
  };
}

export function evalCases(seed: number, random: number): FuzzCase[] {
  const cases = CASES.map(evalCase);
  // Random annotation entries: numbers, strings, nulls and nested lists where boxes and labels go.
  const junk = (rng: Rng): unknown => rng.pick<() => unknown>([
    () => rng.int(-50, 60), () => rng.next() * 100 - 20, () => null, () => 'x', () => [], () => [[rng.int(-5, 45), rng.int(-5, 40), rng.int(-5, 45), rng.int(-5, 40)]], () => ({}),
  ])();
  for (let i = 0; i < random; i++) {
    const rng = new Rng(seed * 65537 + i);
    const entries = [0, 1, 2].map((k) => (rng.next() < 0.5 ? entry(k) : { file: rng.next() < 0.8 ? `img-${k}.png` : junk(rng), label: rng.next() < 0.6 ? k : junk(rng), boxes: junk(rng) }));
    cases.push(evalCase({ name: `random#${i}`, annotations: JSON.stringify(entries) }));
  }
  return cases;
}
