/**
 * Option values a careless user or a script may pass to `explain` (demo model, two demo digits as
 * an .npy batch, or one PNG for the image-only options): out-of-range numbers, garbage targets,
 * empty or control-character names, unknown methods.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { encodeNpy } from '../../src/io/npy.js';
import { DIGITS_MODEL, digitsInput } from './models.js';
import { Rng } from './rng.js';
import type { Category, FuzzCase, Prepared } from './types.js';

const R2: readonly Category[] = ['refused-2'];
const OK: readonly Category[] = ['accepted-equal'];

interface OptionCase {
  name: string;
  /** Extra arguments; '<dir>' is replaced by the case's folder. */
  args: string[];
  image?: boolean;
  /** Replaces the --out folder (e.g. ''); the checks then look at this path. */
  out?: string;
  labels?: string;
  npyName?: string;
  expect?: readonly Category[];
}

const tenLabels = (f: (i: number) => string) => Array.from({ length: 10 }, (_, i) => f(i)).join('\n');

const CASES: OptionCase[] = [
  { name: 'control', args: [], expect: OK },
  { name: 'control-image', args: [], image: true, expect: OK },
  ...['1e-300', 'NaN', '-1', '0', 'Infinity', '1e39', 'abc', ''].map((v): OptionCase => ({ name: `epsilon=${v}`, args: ['--method', 'lrp-epsilon', '--epsilon', v], expect: R2 })),
  { name: 'epsilon=1e-30', args: ['--method', 'lrp-epsilon', '--epsilon', '1e-30'] },
  { name: 'epsilon-without-lrp', args: ['--epsilon', '0.1'], expect: R2 },
  ...['1e30', 'NaN', '-1', '0', 'Infinity', '1e-4x'].map((v): OptionCase => ({ name: `meta-lr=${v}`, args: ['--meta-lr', v, '--target', 'max'] })),
  { name: 'meta-lr-two-targets', args: ['--meta-lr', '1e-4', '--target', 'max,3'], expect: R2 },
  ...['1000000000', '0', '-5', '1.5', 'NaN', 'abc', '1e400'].map((v): OptionCase => ({ name: `crop=${v}`, args: ['--crop', v], image: true })),
  { name: 'crop-bare', args: ['--crop'], image: true, expect: OK },
  ...['0', '0,0', '-1', '100000', '100000,100000', 'abc', '28,28,28', '1e9', '28.5'].map((v): OptionCase => ({ name: `size=${v}`, args: ['--size', v], image: true })),
  { name: 'out-empty', args: [], out: '' },
  { name: 'out-is-a-file', args: [], out: '<dir>/file.txt' },
  { name: 'out-control-chars', args: [], out: '<dir>/o\x1b[2Jut\r' },
  ...['garbage', '99999999999', '10', '-1', 'top0', 'top1000', 'top', 'max,,3', '1.5', '0x3', 'NaN', ''].map((v): OptionCase => ({ name: `target=${v}`, args: ['--target', v], expect: R2 })),
  { name: 'target-top10', args: ['--target', 'top10'], expect: OK },
  { name: 'labels-control-chars', args: [], labels: tenLabels((i) => `cls${i}\x1b[2J\r\x07`), image: true, expect: OK },
  { name: 'labels-control-chars-npy', args: [], labels: tenLabels((i) => `c\x00ls${i}\u202e`), expect: OK },
  { name: 'labels-wrong-count', args: [], labels: 'a\nb\nc', expect: ['refused-1', 'refused-2'] },
  { name: 'labels-json-not-strings', args: [], labels: '[1, 2, 3, 4, 5, 6, 7, 8, 9, 10]', expect: ['refused-1', 'refused-2'] },
  { name: 'labels-json-broken', args: [], labels: '["a", "b"', expect: ['refused-1', 'refused-2'] },
  { name: 'labels-huge-line', args: [], labels: tenLabels((i) => `${i}`.repeat(5000)), expect: OK },
  { name: 'labels-missing-file', args: ['--labels', '<dir>/absent.txt'], expect: ['refused-1', 'refused-2'] },
  { name: 'npy-name-control-chars', args: [], npyName: 'x\x1b[2J\r\x07.npy', expect: OK },
  { name: 'npy-name-newline', args: [], npyName: 'x\ny.npy', expect: OK },
  ...['0', '-1', '1e9', '1000000000', '1.5', 'abc', ''].map((v): OptionCase => ({ name: `threads=${v}`, args: ['--threads', v] })),
  { name: 'threads=1', args: ['--threads', '1'], expect: OK },
  ...['-1', '0', '101', 'NaN', 'abc', '1e-300'].map((v): OptionCase => ({ name: `clip=${v}`, args: ['--clip', v] })),
  { name: 'clip=100', args: ['--clip', '100'], expect: OK },
  ...['-0.5', '2', 'NaN'].map((v): OptionCase => ({ name: `opacity=${v}`, args: ['--opacity', v], image: true, expect: R2 })),
  { name: 'method-unknown', args: ['--method', 'magic'], expect: R2 },
  { name: 'method-empty', args: ['--method', ''], expect: R2 },
  { name: 'method-esc', args: ['--method', 'grad\x1b[2Jient'], expect: R2 },
  { name: 'colormap-unknown', args: ['--colormap', 'rainbow\x1b[31m'], expect: R2 },
  { name: 'composite-unknown', args: ['--method', 'lrp', '--composite', 'nope', '--box', '0,1'], expect: R2 },
  ...['abc', '1', '1,0', 'NaN,1', '0,1,2:3', '0,Infinity'].map((v): OptionCase => ({ name: `box=${v}`, args: ['--method', 'lrp', `--box=${v}`] })),
  { name: 'alpha-beta-inconsistent', args: ['--method', 'lrp-alphabeta', '--alpha', '3', '--beta', '1'], expect: R2 },
  { name: 'alpha-negative', args: ['--method', 'lrp-alphabeta', '--alpha', '-1'], expect: R2 },
  { name: 'layer-unknown', args: ['--method', 'gradcam', '--layer', 'nope\x1b[2J'], expect: ['refused-1', 'refused-2'] },
  { name: 'layer-empty', args: ['--method', 'gradcam', '--layer', ''], expect: R2 },
  { name: 'weights-without-combine', args: ['--method', 'gradcam', '--weights', '1,2'], expect: R2 },
  { name: 'preset-unknown', args: ['--preset', 'imagenet2'], expect: R2 },
  { name: 'preset-wrong-model', args: ['--preset', 'imagenet'], image: true },
  { name: 'mean-two-values', args: ['--mean', '0.5,0.5'], image: true },
  { name: 'std-zero', args: ['--std', '0'], image: true },
  { name: 'std-nan', args: ['--std', 'NaN'], image: true },
  { name: 'layout-bad', args: ['--layout', 'nwhc'], expect: R2 },
  { name: 'channels-bad', args: ['--channels', 'cmyk'], image: true, expect: R2 },
  { name: 'seed-bad', args: ['--method', 'lrp', '--box', '0,1', '--seed', 'two'], expect: R2 },
  { name: 'upsample-bad', args: ['--method', 'gradcam', '--upsample', 'cubic'], expect: R2 },
  { name: 'aggregation-bad', args: ['--method', 'gradient', '--aggregation', 'mean\x1b[2J'], expect: R2 },
  { name: 'dump-graph-into-missing-dir', args: ['--dump-graph', '<dir>/no/such/dir/g.onnx'] },
  { name: 'dump-graph-empty', args: ['--dump-graph', ''] },
  { name: 'model-missing', args: ['--model', '<dir>/absent.onnx'], expect: ['refused-1'] },
  { name: 'model-is-dir', args: ['--model', '<dir>'], expect: ['refused-1'] },
  { name: 'both-inputs', args: ['--image', '<dir>/x.npy'], expect: R2 },
  { name: 'unknown-option', args: ['--frobnicate'], expect: R2 },
  { name: 'unknown-option-esc', args: ['--fro\x1b[2Jb'], expect: R2 },
  { name: 'excess-argument', args: ['stray'], expect: R2 },
];

export function optionCases(seed: number, random: number): FuzzCase[] {
  const cases: FuzzCase[] = CASES.map((c) => ({
    id: `option/${c.name}`,
    group: 'option',
    expect: c.expect,
    prepare: (dir) => prepareOptions(dir, c),
  }));
  // Random combinations of values from the list above, two or three options at once.
  const pool = CASES.filter((c) => c.args.length > 0 && !c.args.includes('<dir>') && !c.image && c.out === undefined && !c.args.some((a) => a.includes('<dir>')));
  for (let i = 0; i < random; i++) {
    const rng = new Rng(seed * 31337 + i);
    const picked = Array.from({ length: rng.int(2, 4) }, () => rng.pick(pool));
    const args = picked.flatMap((c) => c.args);
    cases.push({ id: `option/random#${i}`, group: 'option', prepare: (dir) => prepareOptions(dir, { name: 'random', args }) });
  }
  return cases;
}

async function prepareOptions(dir: string, c: OptionCase): Promise<Prepared> {
  const input = digitsInput();
  const x = join(dir, c.npyName ?? 'x.npy');
  writeFileSync(x, encodeNpy(input.data, input.dims));
  writeFileSync(join(dir, 'file.txt'), 'a file\n');
  const png = join(dir, 'digit.png');
  const px = Buffer.from(Uint8Array.from(input.data.subarray(0, 784), (v) => Math.round(v * 255)));
  await sharp(px, { raw: { width: 28, height: 28, channels: 1 } }).png().toFile(png);
  const sub = (a: string): string => a.replaceAll('<dir>', dir);
  const out = c.out === undefined ? join(dir, 'out') : sub(c.out);
  const args = ['explain', '--model', DIGITS_MODEL, ...(c.image ? ['--image', png, '--preset', 'mnist'] : ['--input-npy', x]), '--out', out, '-q'];
  if (c.labels !== undefined) {
    writeFileSync(join(dir, 'labels.txt'), c.labels);
    args.push('--labels', join(dir, 'labels.txt'));
  }
  args.push(...c.args.map(sub));
  // '--model X' given twice: commander keeps the last, which is the case's.
  return { args, out, check: c.image ? undefined : { model: DIGITS_MODEL, input } };
}
