/**
 * `backlight explain` with the LRP family (lrp-epsilon, lrp-zplus, lrp-alphabeta, lrp with a
 * composite, CLRP1/2, excitation and its contrastive form): files written, attributions equal to
 * the library's with the same parameters, zB bounds from the preprocessing or --box, and the usage
 * errors of the parameter flags. Commands run in-process through `run(argv, io)` on a tiny RGB
 * model generated here.
 */
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../src/cli/program.js';
import type { ExplainReport } from '../src/cli/summary.js';
import { Explainer } from '../src/index.js';
import { loadImage } from '../src/io/image.js';
import { encodeNpy } from '../src/io/npy.js';
import { encodePng } from '../src/io/png.js';
import { pixelBounds, resolvePreprocess } from '../src/io/preprocess.js';
import { intAttr, type Graph, type Node } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import type { Target, TensorLike } from '../src/methods/explainer.js';
import { METHODS, type MethodName, type MethodParams } from '../src/methods/methods.js';
import { encodeModel } from '../src/onnx/encode.js';
import { cli, expectClose, readNpy, slot } from './helpers/cli.js';

const NEW_METHODS: MethodName[] = ['lrp-epsilon', 'lrp-zplus', 'lrp-alphabeta', 'lrp', 'clrp1', 'clrp2', 'excitation', 'contrastive-excitation'];
const SIZE = 6;
const CLASSES = 5;

/** A deterministic pseudo-random value in [-1, 1) for weight i of layer `salt`. */
const weight = (salt: number, i: number): number => Math.sin(12.9898 * (i + 1) + 78.233 * salt) * 0.9;

/**
 * Conv(3→4, 3×3, pad 1) → Relu → Conv(4→4, 3×3, pad 1) → Relu → Flatten → Gemm(144→5): a small RGB
 * model whose first layer sees three channels (so per-channel zB bounds matter).
 */
function rgbGraph(): Graph {
  const node = (name: string, op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node => ({ name, op, domain: '', inputs, outputs, attrs });
  const conv = { pads: { type: 'ints' as const, value: [1, 1, 1, 1] }, kernel_shape: { type: 'ints' as const, value: [3, 3] } };
  const fill = (n: number, salt: number, scale = 1): number[] => Array.from({ length: n }, (_, i) => scale * weight(salt, i));
  return {
    name: 'rgb-tiny',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', 3, SIZE, SIZE] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', CLASSES] }],
    nodes: [
      node('conv1', 'Conv', ['input', 'c1.W', 'c1.B'], ['a'], conv),
      node('relu1', 'Relu', ['a'], ['b']),
      node('conv2', 'Conv', ['b', 'c2.W', 'c2.B'], ['c'], conv),
      node('relu2', 'Relu', ['c'], ['d']),
      node('flatten', 'Flatten', ['d'], ['f'], { axis: intAttr(1) }),
      node('fc', 'Gemm', ['f', 'fc.W', 'fc.B'], ['logits'], { transB: intAttr(1) }),
    ],
    initializers: new Map([
      ['c1.W', float32([4, 3, 3, 3], fill(108, 1, 0.5))],
      ['c1.B', float32([4], fill(4, 2, 0.1))],
      ['c2.W', float32([4, 4, 3, 3], fill(144, 3, 0.4))],
      ['c2.B', float32([4], fill(4, 4, 0.1))],
      ['fc.W', float32([CLASSES, 4 * SIZE * SIZE], fill(CLASSES * 4 * SIZE * SIZE, 5, 0.3))],
      ['fc.B', float32([CLASSES], fill(CLASSES, 6, 0.2))],
    ]),
    values: new Map(),
  };
}

const maxAbs = (a: Float32Array): number => a.reduce((m, v) => Math.max(m, Math.abs(v)), 0);

let work: string;
let model: string;
let xFile: string;
let x: TensorLike;
let pngFile: string;
let explainer: Explainer;
let outCount = 0;
const out = (): string => join(work, `out${outCount++}`);

/** The attribution the library gives for `method` with `params`, slot k of `target`. */
async function api(input: TensorLike, method: MethodName, target: Target, params: MethodParams, k = 0): Promise<Float32Array> {
  const r = await explainer.explain(input, { method, target, params, reductions: [] });
  return slot(r.attribution, k);
}

/** Runs an explain command (with --json) and returns its summary; fails the test on a non-zero exit. */
async function explain(...args: string[]): Promise<{ dir: string; report: ExplainReport }> {
  const dir = out();
  const r = await cli('explain', '--model', model, ...args, '--out', dir, '--json');
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  return { dir, report: JSON.parse(r.stdout) as ExplainReport };
}

/** A usage error: exit code 2 and one `backlight: …` line matching `pattern`. */
async function usageError(pattern: RegExp, ...args: string[]): Promise<void> {
  const r = await cli('explain', '--model', model, ...args, '--out', out());
  expect(r.code).toBe(2);
  expect(r.stdout).toBe('');
  expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(r.stderr).toMatch(/^backlight: /);
  expect(r.stderr).toMatch(pattern);
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'backlight-cli-lrp-'));
  model = join(work, 'rgb.onnx');
  writeFileSync(model, encodeModel(rgbGraph()));
  const data = Float32Array.from({ length: 3 * SIZE * SIZE }, (_, i) => 1.5 * Math.sin(0.37 * i + 0.2) + 0.3 * Math.cos(1.3 * i));
  x = { data, dims: [1, 3, SIZE, SIZE] };
  xFile = join(work, 'x.npy');
  writeFileSync(xFile, encodeNpy(data, x.dims));
  const rgb = Uint8Array.from({ length: SIZE * SIZE * 3 }, (_, i) => (37 * i + 11 * (i % 3)) % 256);
  pngFile = join(work, 'photo.png');
  writeFileSync(pngFile, await encodePng(rgb, SIZE, SIZE));
  explainer = (await Explainer.load(model)) as Explainer;
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('explain with LRP methods', () => {
  it('writes the files of every new method, each equal to the API with the same parameters', async () => {
    // Explain the predicted class and another one.
    const best = (await explainer.explain(x, { method: 'gradient', target: 'max' })).targets[0]![0]!;
    const other = (best + 1) % CLASSES;
    const { dir, report } = await explain('--input-npy', xFile, '--method', NEW_METHODS.join(','), '--target', `max,${other}`, '--box=-1,2');
    expect(report.inputs[0]!.perImage[0]).toEqual([best, other]);
    const box = { low: [-1], high: [2] };
    const expectedParams: Record<string, MethodParams> = {
      'lrp-epsilon': { epsilon: 1e-6 },
      'lrp-alphabeta': { alpha: 1, beta: 0 },
      lrp: { composite: 'gu2018', box },
      clrp1: { composite: 'gu2018', box },
      clrp2: { composite: 'gu2018', box },
    };
    expect(report.params).toEqual(expectedParams);
    expect(report.zbBounds).toEqual({ source: '--box', ...box });
    for (const m of NEW_METHODS) {
      for (const [k, c] of [best, other].entries()) {
        for (const f of [`${m}__${c}.npy`, `${m}__${c}.png`, `${m}__${c}_overlay.png`]) expect(existsSync(join(dir, 'x', f)), f).toBe(true);
        const file = readNpy(join(dir, 'x', `${m}__${c}.npy`));
        expect(file.dims).toEqual([1, 3, SIZE, SIZE]);
        const expected = await api(x, m, ['max', other], expectedParams[m] ?? {}, k);
        expect(maxAbs(expected), `${m} ${c}`).toBeGreaterThan(0);
        expectClose(file.data, expected);
      }
      // LRP relevance is drawn signed; CLRP and excitation maps are non-negative magnitudes.
      expect(report.display.methods[m]!.values).toBe(METHODS[m].display === 'signed' ? 'signed channel sum' : 'max |.| over channels');
    }
    expect(report.display.methods.lrp!.values).toBe('signed channel sum');
    expect(report.display.methods.clrp2!.values).toBe('max |.| over channels');
    expect(existsSync(join(dir, 'x', 'grid.png'))).toBe(true);
  });

  it('--image: the zB bounds come from the preset (pixelBounds), and the maps equal the API with them', async () => {
    const { dir, report } = await explain('--image', pngFile, '--preset', 'imagenet', '--size', String(SIZE), '--method', 'lrp,clrp2,lrp-epsilon', '--target', '2');
    const p = resolvePreprocess('imagenet', { size: [SIZE, SIZE] }, ['N', 3, SIZE, SIZE]);
    const bounds = pixelBounds(p);
    expect(bounds.low).toHaveLength(3);
    expect(report.zbBounds).toEqual({ source: 'preprocessing', ...bounds });
    expect(report.params.lrp).toEqual({ composite: 'gu2018', box: bounds });
    expect(report.params.clrp2).toEqual({ composite: 'gu2018', box: bounds });
    expect(report.params['lrp-epsilon']).toEqual({ epsilon: 1e-6 });
    const img = await loadImage(pngFile, p);
    for (const m of ['lrp', 'clrp2'] as const) {
      const file = readNpy(join(dir, 'photo', `${m}__2.npy`));
      expectClose(file.data, await api(img.tensor, m, [2], { composite: 'gu2018', box: bounds }));
    }
    // Other bounds give other maps: the bounds are really used.
    const other = await api(img.tensor, 'lrp', [2], { composite: 'gu2018', box: { low: [-1], high: [1] } });
    expect(maxAbs(readNpy(join(dir, 'photo', 'lrp__2.npy')).data.map((v, i) => v - other[i]!))).toBeGreaterThan(1e-4);
  });

  it('--input-npy with --preset: the zB bounds of that preset', async () => {
    const { report } = await explain('--input-npy', xFile, '--preset', 'imagenet', '--size', String(SIZE), '--method', 'clrp1', '--target', '0');
    const bounds = pixelBounds(resolvePreprocess('imagenet', { size: [SIZE, SIZE] }, ['N', 3, SIZE, SIZE]));
    expect(report.zbBounds).toEqual({ source: 'preprocessing', ...bounds });
    expect(report.params.clrp1).toEqual({ composite: 'gu2018', box: bounds });
  });

  it('--box per channel, also as a separate argument starting with a dash', async () => {
    const box = { low: [-1, -1.5, -2], high: [1, 2, 3] };
    const { dir, report } = await explain('--input-npy', xFile, '--method', 'lrp', '--composite', 'epsilon-gamma-box', '--box', '-1,-1.5,-2:1,2,3', '--target', '3');
    expect(report.params.lrp).toEqual({ composite: 'epsilon-gamma-box', epsilon: 1e-6, box });
    expectClose(readNpy(join(dir, 'x', 'lrp__3.npy')).data, await api(x, 'lrp', [3], { composite: 'epsilon-gamma-box', epsilon: 1e-6, box }));
  });

  it('passes ε, α2β1, composites, --normalize and --seed to the library', async () => {
    const cases: Array<[string[], MethodName, MethodParams]> = [
      [['--method', 'lrp-epsilon', '--epsilon', '0.01'], 'lrp-epsilon', { epsilon: 0.01 }],
      [['--method', 'lrp-alphabeta', '--alpha', '2', '--beta', '1'], 'lrp-alphabeta', { alpha: 2, beta: 1 }],
      [['--method', 'lrp-alphabeta', '--alpha', '3'], 'lrp-alphabeta', { alpha: 3, beta: 2 }],
      [['--method', 'lrp-alphabeta', '--beta', '1'], 'lrp-alphabeta', { alpha: 2, beta: 1 }],
      [['--method', 'lrp', '--composite', 'epsilon-plus-flat', '--epsilon', '0.1'], 'lrp', { composite: 'epsilon-plus-flat', epsilon: 0.1 }],
      [['--method', 'clrp2', '--normalize', '--box=-2,2'], 'clrp2', { composite: 'gu2018', box: { low: [-2], high: [2] }, normalize: true }],
      [['--method', 'clrp1', '--composite', 'epsilon-plus-flat'], 'clrp1', { composite: 'epsilon-plus-flat', epsilon: 1e-6 }],
      [['--method', 'contrastive-excitation', '--normalize'], 'contrastive-excitation', { normalize: true }],
      [['--method', 'lrp-zplus', '--seed', 'one'], 'lrp-zplus', { seed: 'one' }],
    ];
    for (const [args, method, params] of cases) {
      const { dir, report } = await explain('--input-npy', xFile, ...args, '--target', '4', '--no-png');
      expect(report.params[method], args.join(' ')).toEqual(params);
      expectClose(readNpy(join(dir, 'x', `${method}__4.npy`)).data, await api(x, method, [4], params));
    }
    // α2β1 differs from the default α1β0, and seed 'one' from the logit seed.
    const a21 = await api(x, 'lrp-alphabeta', [4], { alpha: 2, beta: 1 });
    const a10 = await api(x, 'lrp-alphabeta', [4], {});
    expect(maxAbs(a21.map((v, i) => v - a10[i]!))).toBeGreaterThan(1e-4);
  });

  it('--alpha is LRP-αβ only; --opacity sets the overlay opacity', async () => {
    const both = await explain('--input-npy', xFile, '--method', 'lrp-alphabeta', '--alpha', '2', '--opacity', '0.9');
    expect(both.report.display.opacity).toBe(0.9);
    expect(both.report.params['lrp-alphabeta']).toEqual({ alpha: 2, beta: 1 });
    await usageError(/^backlight: --alpha is used by lrp-alphabeta \(the overlay opacity is --opacity\), and none of the methods given \(lrp-zplus\) reads it\n$/, '--input-npy', xFile, '--method', 'lrp-zplus', '--alpha', '0.3');
    await usageError(/^backlight: --opacity '2' must be a number from 0 to 1\n$/, '--input-npy', xFile, '--opacity', '2');
  });

  it('prints the parameters in the text report', async () => {
    const r = await cli('explain', '--model', model, '--input-npy', xFile, '--method', 'lrp,lrp-epsilon', '--box=-1,2', '--epsilon', '0.5', '--out', out());
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('lrp: composite gu2018, zB bounds -1 to 2 (from --box)');
    expect(r.stdout).toContain('lrp-epsilon: ε 0.5');
  });
});

describe('explain with LRP methods: usage errors', () => {
  it('asks for --box or --preset when a zB rule has no bounds (.npy input without preprocessing)', async () => {
    for (const method of ['lrp', 'clrp1', 'clrp2']) {
      await usageError(/zB rule.*pass --box LOW,HIGH.*or --preset/, '--input-npy', xFile, '--method', method);
    }
    await usageError(/^backlight: lrp \(composite epsilon-gamma-box\) uses the zB rule/, '--input-npy', xFile, '--method', 'lrp', '--composite', 'epsilon-gamma-box');
    // No zB rule, no bounds needed.
    await explain('--input-npy', xFile, '--method', 'lrp', '--composite', 'epsilon-plus-flat', '--no-png');
  });

  it('refuses α and β that do not satisfy α − β = 1 with α, β ≥ 0', async () => {
    const ab = /lrp-alphabeta needs α ≥ 0, β ≥ 0 and α − β = 1/;
    await usageError(ab, '--input-npy', xFile, '--method', 'lrp-alphabeta', '--alpha', '2', '--beta', '2');
    await usageError(ab, '--input-npy', xFile, '--method', 'lrp-alphabeta', '--alpha', '0.5');
    await usageError(ab, '--input-npy', xFile, '--method', 'lrp-alphabeta', '--beta=-1');
    await usageError(/--alpha 'two' must be a number/, '--input-npy', xFile, '--method', 'lrp-alphabeta', '--alpha', 'two');
  });

  it('refuses unknown composites', async () => {
    await usageError(/^backlight: unknown composite 'zennit' \(available: gu2018, epsilon-plus-flat, epsilon-gamma-box\)\n$/, '--input-npy', xFile, '--method', 'lrp', '--composite', 'zennit', '--box=0,1');
  });

  it('refuses malformed or mismatched --box values', async () => {
    await usageError(/--box '1,0' has low 1 ≥ high 0/, '--input-npy', xFile, '--method', 'lrp', '--box', '1,0');
    await usageError(/--box '1,2,3' has 3 numbers/, '--input-npy', xFile, '--method', 'lrp', '--box', '1,2,3');
    await usageError(/--box '0,a' is not a list of numbers/, '--input-npy', xFile, '--method', 'lrp', '--box', '0,a');
    await usageError(/--box '0,0:1' has 2 low and 1 high bounds/, '--input-npy', xFile, '--method', 'lrp', '--box', '0,0:1');
    await usageError(/--box has 2 bounds per side, but the input has 3 channels/, '--input-npy', xFile, '--method', 'lrp', '--box', '0,0:1,1');
  });

  it('refuses parameters no method given reads, and bad values', async () => {
    await usageError(/--epsilon is used by lrp-epsilon/, '--input-npy', xFile, '--method', 'gradient', '--epsilon', '0.1');
    await usageError(/--epsilon is used by .*--composite gu2018 has no ε rule/, '--input-npy', xFile, '--method', 'lrp', '--box=0,1', '--epsilon', '0.1');
    await usageError(/--epsilon '0' must be a number greater than 0/, '--input-npy', xFile, '--method', 'lrp-epsilon', '--epsilon', '0');
    await usageError(/--beta is used by lrp-alphabeta/, '--input-npy', xFile, '--method', 'lrp-zplus', '--beta', '1');
    await usageError(/--composite is used by lrp, clrp1, clrp2/, '--input-npy', xFile, '--method', 'lrp-epsilon', '--composite', 'gu2018');
    await usageError(/--box is used by methods with the zB rule/, '--input-npy', xFile, '--method', 'lrp-zplus', '--box', '0,1');
    await usageError(/--normalize is used by the contrastive methods/, '--input-npy', xFile, '--method', 'lrp', '--box=0,1', '--normalize');
    await usageError(/--seed 'two' must be 'one'/, '--input-npy', xFile, '--method', 'lrp-zplus', '--seed', 'two');
  });

  it('lists every method with its summary in the help', async () => {
    const r = await cli('explain', '--help');
    expect(r.code).toBe(0);
    const flat = r.stdout.replace(/\s+/g, ' ');
    for (const m of NEW_METHODS) expect(flat).toContain(`${m} ${METHODS[m].summary}`);
    for (const flag of ['--epsilon <e>', '--alpha <a>', '--beta <b>', '--composite <name>', '--box <low,high>', '--normalize', '--seed <one|logit>', '--opacity <a>']) expect(r.stdout).toContain(flag);
  });
});
