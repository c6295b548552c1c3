/**
 * `backlight explain --method a,b,c` when the model refuses some of the methods: the others run
 * and are written as if they had been given alone; each refused method is one `backlight: method
 * 'm': <reason>` line on stderr, nothing of it is written, summary.json lists it under `refused`,
 * and the exit status is 1 (2 when the refusal is a usage error). When every method is refused,
 * nothing is written.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ExplainReport } from '../src/cli/summary.js';
import { BacklightError } from '../src/errors.js';
import { Explainer } from '../src/index.js';
import { intAttr, type Graph, type Node } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import { encodeNpy } from '../src/io/npy.js';
import { encodeModel } from '../src/onnx/encode.js';
import { cli, listFiles } from './helpers/cli.js';

/**
 * Conv(1→2, 3×3, pad 1) → Relu → Flatten → two linear heads whose sum is the logits. Every
 * gradient and LRP method runs on it; CLRP2, which negates the weights of the one linear layer
 * that computes the logits, has none to negate.
 */
function twoHeads(): Graph {
  const convW = Float32Array.from({ length: 18 }, (_, i) => (i === 4 ? 1 : i === 13 ? -1 : 0) + 0.1 * Math.sin(i + 1));
  const headA = Float32Array.from({ length: 3 * 32 }, (_, i) => Math.sin(0.7 * i) * 0.3);
  const headB = Float32Array.from({ length: 3 * 32 }, (_, i) => Math.cos(0.3 * i) * 0.2);
  const node = (name: string, op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node => ({ name, op, domain: '', inputs, outputs, attrs });
  return {
    name: 'two-heads',
    inputs: [{ name: 'input', dtype: 'float32', shape: ['N', 1, 4, 4] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: ['N', 3] }],
    nodes: [
      node('conv', 'Conv', ['input', 'conv.W', 'conv.B'], ['c'], { pads: { type: 'ints', value: [1, 1, 1, 1] }, kernel_shape: { type: 'ints', value: [3, 3] } }),
      node('relu', 'Relu', ['c'], ['r']),
      node('flatten', 'Flatten', ['r'], ['f'], { axis: intAttr(1) }),
      node('headA', 'Gemm', ['f', 'a.W', 'a.B'], ['la'], { transB: intAttr(1) }),
      node('headB', 'Gemm', ['f', 'b.W', 'b.B'], ['lb'], { transB: intAttr(1) }),
      node('sum', 'Add', ['la', 'lb'], ['logits']),
    ],
    initializers: new Map([
      ['conv.W', float32([2, 1, 3, 3], convW)],
      ['conv.B', float32([2], [0.1, -0.1])],
      ['a.W', float32([3, 32], headA)],
      ['a.B', float32([3], [0.1, 0, -0.1])],
      ['b.W', float32([3, 32], headB)],
      ['b.B', float32([3], [0, 0.2, 0])],
    ]),
    values: new Map(),
  };
}

const image = (sign: number, n: number): number[] => Array.from({ length: 16 * n }, (_, i) => sign * (0.5 + 0.03 * (i % 16)) + 0.1 * Math.sin(i));

let work: string;
let model: string;
let x1: string;
let x3: string;
/** CLRP2's reason on this model, as the library gives it. */
let clrp2Reason: string;

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'backlight-cli-refusals-'));
  model = join(work, 'two-heads.onnx');
  writeFileSync(model, encodeModel(twoHeads()));
  x1 = join(work, 'x1.npy');
  writeFileSync(x1, encodeNpy(Float32Array.from(image(1, 1)), [1, 1, 4, 4]));
  x3 = join(work, 'x3.npy');
  writeFileSync(x3, encodeNpy(Float32Array.from(image(-1, 3)), [3, 1, 4, 4]));
  const explainer = await Explainer.load(model);
  const input = { data: Float32Array.from(image(1, 1)), dims: [1, 1, 4, 4] };
  const error = await explainer.explain(input, { method: 'clrp2', target: 'max', params: { composite: 'epsilon-plus-flat' } }).then(
    () => null,
    (e: unknown) => e,
  );
  // The premise: the library refuses CLRP2 here, as a model (not usage) error.
  expect(error).toBeInstanceOf(BacklightError);
  expect((error as BacklightError).kind, String(error)).toBe('input');
  clrp2Reason = (error as BacklightError).message;
  expect(clrp2Reason).toMatch(/CLRP2/);
});

afterAll(() => {
  if (work) {
    expect(listFiles(work).filter((f) => f.includes('.tmp-') || f.includes('.backlight-probe-'))).toEqual([]);
    rmSync(work, { recursive: true, force: true });
  }
});

const escape = (s: string): string => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** summary.json of `out`, with what differs between two runs of the same work (paths, times, command line) left out. */
function comparable(out: string): Partial<ExplainReport> {
  const s = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ExplainReport;
  const { commandLine: _c, argv: _a, out: _o, summary: _s, timings: _t, refused: _r, ...rest } = s;
  return {
    ...rest,
    inputs: s.inputs.map((i) => ({ ...i, dir: relative(out, i.dir), files: i.files.map((f) => relative(out, f)), timings: [] })),
  };
}

describe('explain: a method the model refuses does not sink the run', () => {
  it('runs the others, reports the refused one in one line, writes nothing of it (exit 1)', async () => {
    const out = join(work, 'partial');
    const r = await cli('explain', '--model', model, '--input-npy', x1, x3, '--method', 'gradient,clrp2,lrp-epsilon', '--composite', 'epsilon-plus-flat', '--target', 'max,1', '--out', out, '--json');
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`backlight: method 'clrp2': ${clrp2Reason}\n`);
    const report = JSON.parse(r.stdout) as ExplainReport;
    expect(report.methods).toEqual(['gradient', 'lrp-epsilon']);
    expect(report.refused).toEqual([{ method: 'clrp2', reason: clrp2Reason }]);
    expect(Object.keys(report.params)).not.toContain('clrp2');
    expect(Object.keys(report.display.methods)).toEqual(['gradient', 'lrp-epsilon']);

    const files = listFiles(out);
    expect(files.filter((f) => f.includes('clrp2'))).toEqual([]);
    for (const stem of ['x1', 'x3']) {
      expect(files).toContain(stem === 'x1' ? 'x1/grid.png' : 'x3/grid_2.png');
      expect(files.some((f) => f.startsWith(`${stem}/gradient__`) && f.endsWith('.npy'))).toBe(true);
      expect(files.some((f) => f.startsWith(`${stem}/lrp-epsilon__`) && f.endsWith('.npy'))).toBe(true);
      const targets = JSON.parse(readFileSync(join(out, stem, 'targets.json'), 'utf8'));
      expect(Object.keys(targets.files)).toEqual(['gradient', 'lrp-epsilon']);
    }
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ExplainReport;
    expect(summary.refused).toEqual([{ method: 'clrp2', reason: clrp2Reason }]);
    expect(summary.methods).toEqual(['gradient', 'lrp-epsilon']);
    for (const input of summary.inputs) {
      for (const img of input.images) expect(Object.keys(img.methods)).toEqual(['gradient', 'lrp-epsilon']);
    }

    // The files, pictures and summary are those of a run given only the methods that ran.
    const alone = join(work, 'alone');
    const a = await cli('explain', '--model', model, '--input-npy', x1, x3, '--method', 'gradient,lrp-epsilon', '--target', 'max,1', '--out', alone, '--quiet');
    expect(a).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(listFiles(out)).toEqual(listFiles(alone));
    for (const f of listFiles(alone).filter((name) => name !== 'summary.json')) expect(readFileSync(join(out, f)), f).toEqual(readFileSync(join(alone, f)));
    const aloneSummary = JSON.parse(readFileSync(join(alone, 'summary.json'), 'utf8')) as ExplainReport;
    expect(aloneSummary.refused).toEqual([]);
    expect(comparable(out)).toEqual(comparable(alone));
  });

  it('prints the text report on stdout and the refusal on stderr', async () => {
    const out = join(work, 'text');
    const r = await cli('explain', '--model', model, '--input-npy', x1, '--method', 'clrp2,gradient', '--composite', 'epsilon-plus-flat', '--out', out);
    expect(r.code).toBe(1);
    expect(r.stderr).toBe(`backlight: method 'clrp2': ${clrp2Reason}\n`);
    expect(r.stdout).toMatch(/wrote the summary to/);
    expect(r.stdout).not.toMatch(/clrp2/);
    expect(listFiles(out).filter((f) => f.endsWith('.npy'))).toEqual([expect.stringMatching(/^x1\/gradient__\d\.npy$/), 'x1/logits.npy']);
  });

  it('a method refused on a later input is left out of every input (exit 2 for a usage refusal)', async () => {
    // Meta-saliency explains one image per run: gradient with --meta-lr runs on x1 [1, …], not on x3 [3, …].
    const out = join(work, 'meta');
    const r = await cli('explain', '--model', model, '--input-npy', x1, x3, '--method', 'gradient,lrp-epsilon', '--meta-lr', '0.01', '--target', '1', '--out', out, '--quiet');
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^backlight: method 'gradient': meta-saliency explains one image per run\n$/);
    const files = listFiles(out);
    expect(files.filter((f) => f.includes('gradient'))).toEqual([]);
    expect(files).toContain('x1/lrp-epsilon__1.npy');
    expect(files).toContain('x3/lrp-epsilon__1.npy');
    const summary = JSON.parse(readFileSync(join(out, 'summary.json'), 'utf8')) as ExplainReport;
    expect(summary.methods).toEqual(['lrp-epsilon']);
    expect(summary.refused).toEqual([{ method: 'gradient', reason: 'meta-saliency explains one image per run' }]);
    expect(Object.keys(summary.params)).toEqual(['lrp-epsilon']);
  });

  it('reports every refused method, one line each; when none is left, writes nothing', async () => {
    const out = join(work, 'none');
    const r = await cli('explain', '--model', model, '--input-npy', x3, '--method', 'clrp2,gradient', '--composite', 'epsilon-plus-flat', '--meta-lr', '0.01', '--target', '1', '--out', out);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toBe(`backlight: method 'clrp2': ${clrp2Reason}\nbacklight: method 'gradient': meta-saliency explains one image per run\n`);
    expect(existsSync(out)).toBe(false);

    const only = join(work, 'only');
    const o = await cli('explain', '--model', model, '--input-npy', x1, '--method', 'clrp2', '--composite', 'epsilon-plus-flat', '--out', only, '--json');
    expect(o.code).toBe(1);
    expect(o.stdout).toBe('');
    expect(o.stderr).toMatch(new RegExp(`^backlight: method 'clrp2': ${escape(clrp2Reason)}\\n$`));
    expect(existsSync(only)).toBe(false);
  });
});
