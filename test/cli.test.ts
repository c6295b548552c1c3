/**
 * The `backlight` CLI: commands run in-process through `run(argv)` (fast), plus a few real
 * processes (`node --import tsx src/cli/main.ts`) for exit codes and stderr as a shell sees them.
 * A tiny model generated here covers everything; the shared reference model adds a real CNN when
 * ../shared is present.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportError, type CliIO } from '../src/cli/errors.js';
import { checkWritableFolder, writeFileAtomic } from '../src/io/files.js';
import { run } from '../src/cli/program.js';
import { parseTargetList, targetPositions } from '../src/methods/targets.js';
import { BacklightError } from '../src/errors.js';
import { Explainer } from '../src/index.js';
import { encodeNpy } from '../src/io/npy.js';
import { METHOD_NAMES } from '../src/methods/methods.js';
import { FRAMEWORK_METHOD_NAMES } from '../src/methods/framework.js';
import { intAttr, type Dim, type Graph, type Node } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import type { Target, TensorLike } from '../src/methods/explainer.js';
import type { MethodName } from '../src/methods/methods.js';
import { decodeModel } from '../src/onnx/decode.js';
import { encodeModel } from '../src/onnx/encode.js';
import { cli, expectClose, listFiles, readNpy, slot, type CliResult } from './helpers/cli.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const SHARED = join(ROOT, '..', 'shared', 'reference');
const HAS_SHARED = existsSync(join(SHARED, 'smallvgg.onnx')) && existsSync(join(SHARED, 'smallvgg', 'in0_input.npy'));
const METHODS_LIST = [...METHOD_NAMES, ...FRAMEWORK_METHOD_NAMES].join(', ');

function spawnCli(...args: string[]): CliResult {
  const r = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'src/cli/main.ts'), ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    env: { ...process.env, BACKLIGHT_DEBUG: '' },
    timeout: 60_000,
  });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/**
 * Conv(1→2, 3×3, pad 1) → Relu → [Sin] → Flatten → Gemm(32→3). Channel 0 passes the positive part
 * of the input, channel 1 the negative part; class 0 sums channel 0, class 1 channel 1, class 2 has
 * a bias of 0.5: a positive image predicts 0, a negative one 1, a zero image 2.
 */
function tinyGraph(opts: { batch?: Dim; unsupported?: boolean } = {}): Graph {
  const convW = new Float32Array(18);
  for (let i = 0; i < 9; i++) {
    convW[i] = (i === 4 ? 1 : 0) + 0.1 * Math.sin(i + 1);
    convW[9 + i] = (i === 4 ? -1 : 0) + 0.1 * Math.cos(i + 1);
  }
  const gemmW = new Float32Array(3 * 32);
  for (let j = 0; j < 32; j++) {
    gemmW[j] = (j < 16 ? 1 : 0) + 0.01 * Math.sin(j);
    gemmW[32 + j] = (j >= 16 ? 1 : 0) + 0.01 * Math.cos(j);
    gemmW[64 + j] = 0.05 * Math.sin(3 * j);
  }
  const batch = opts.batch ?? 'N';
  const node = (name: string, op: string, inputs: string[], outputs: string[], attrs: Node['attrs'] = {}): Node => ({ name, op, domain: '', inputs, outputs, attrs });
  const nodes: Node[] = [
    node('conv', 'Conv', ['input', 'conv.W', 'conv.B'], ['c'], { pads: { type: 'ints', value: [1, 1, 1, 1] }, kernel_shape: { type: 'ints', value: [3, 3] } }),
    node('relu', 'Relu', ['c'], ['r']),
  ];
  let last = 'r';
  if (opts.unsupported) {
    nodes.push(node('sin', 'Hardmax', ['r'], ['s']));
    last = 's';
  }
  nodes.push(node('flatten', 'Flatten', [last], ['f'], { axis: intAttr(1) }));
  nodes.push(node('fc', 'Gemm', ['f', 'fc.W', 'fc.B'], ['logits'], { transB: intAttr(1) }));
  return {
    name: 'tiny',
    inputs: [{ name: 'input', dtype: 'float32', shape: [batch, 1, 4, 4] }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: [batch, 3] }],
    nodes,
    initializers: new Map([
      ['conv.W', float32([2, 1, 3, 3], convW)],
      ['conv.B', float32([2], [0, 0])],
      ['fc.W', float32([3, 32], gemmW)],
      ['fc.B', float32([3], [0, 0, 0.5])],
    ]),
    values: new Map(),
  };
}

/** Images of [1, 4, 4]: positive (class 0), negative (class 1), zero (class 2). */
function image(kind: 'pos' | 'neg' | 'zero'): number[] {
  return Array.from({ length: 16 }, (_, i) => (kind === 'zero' ? 0 : (kind === 'pos' ? 1 : -1) * (0.5 + 0.03 * i)));
}

function npy(values: number[], dims: number[]): Uint8Array {
  return encodeNpy(Float32Array.from(values), dims);
}

/** The .npy and .json outputs of inputs: without the pictures and summary.json (test/cli.images.test.ts checks those). */
function dataFiles(files: string[]): string[] {
  return files.filter((f) => !f.endsWith('.png') && !/(^|\/)summary\.json$/.test(f));
}

/** A one-line `backlight: …` message and nothing else (no stack trace). */
function expectOneLine(stderr: string, pattern: RegExp): void {
  expect(stderr.endsWith('\n')).toBe(true);
  expect(stderr.trimEnd().split('\n')).toHaveLength(1);
  expect(stderr.startsWith('backlight: ')).toBe(true);
  expect(stderr).toMatch(pattern);
}

let work: string;
let tiny: string;
let x1: string;
let xb: string;
let ximg: string;
let explainer: Explainer;

async function api(input: TensorLike, method: MethodName, target: Target) {
  return explainer.explain(input, { method, target });
}

beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), 'backlight-cli-'));
  tiny = join(work, 'tiny.onnx');
  writeFileSync(tiny, encodeModel(tinyGraph()));
  x1 = join(work, 'x1.npy');
  writeFileSync(x1, npy(image('pos'), [1, 1, 4, 4]));
  xb = join(work, 'batch.npy');
  writeFileSync(xb, npy([...image('pos'), ...image('neg'), ...image('zero')], [3, 1, 4, 4]));
  ximg = join(work, 'single.npy');
  writeFileSync(ximg, npy(image('neg'), [1, 4, 4]));
  explainer = (await Explainer.load(tiny)) as Explainer;
});

afterAll(() => {
  if (work) {
    // Nothing anywhere may be left half-written.
    expect(listFiles(work).filter((f) => f.includes('.tmp-') || f.includes('.backlight-probe-'))).toEqual([]);
    try {
      chmodSync(join(work, 'readonly'), 0o755);
    } catch {
      // not created (running as root)
    }
    rmSync(work, { recursive: true, force: true });
  }
});

describe('targets', () => {
  it('parses lists, repeated flags and topK, dropping duplicates', () => {
    expect(parseTargetList(['max,3', 'top5', ' 3 ', 'MAX'])).toEqual(['max', 3, 'top5']);
    expect(targetPositions(['max', 3, 'top2'])).toEqual([{ spec: 'max' }, { spec: '3' }, { spec: 'top2', rank: 1 }, { spec: 'top2', rank: 2 }]);
  });

  it('rejects malformed targets as usage errors', () => {
    for (const bad of ['mx', '3,,4', '-1', '2.5', 'top0', 'top', 'topx']) {
      expect(() => parseTargetList([bad]), bad).toThrow(BacklightError);
      try {
        parseTargetList([bad]);
      } catch (e) {
        expect((e as BacklightError).kind).toBe('usage');
      }
    }
  });
});

describe('explain on a generated tiny model', () => {
  it('writes one file per method and target, named by the class used, equal to the API', async () => {
    const out = join(work, 'out1');
    const r = await cli('explain', '--model', tiny, '--input-npy', x1, '--method', 'gradient,guided-backprop', '--target', 'max,2', '--out', out, '--quiet');
    expect(r).toEqual({ code: 0, stdout: '', stderr: '' });
    expect(dataFiles(listFiles(out))).toEqual(['x1/gradient__0.npy', 'x1/gradient__2.npy', 'x1/guided-backprop__0.npy', 'x1/guided-backprop__2.npy', 'x1/logits.npy', 'x1/targets.json']);
    const input = readNpy(x1);
    for (const method of ['gradient', 'guided-backprop'] as const) {
      const ref = await api(input, method, ['max', 2]);
      expect(ref.targets).toEqual([[0, 2]]);
      for (const [k, c] of [0, 2].entries()) {
        const a = readNpy(join(out, 'x1', `${method}__${c}.npy`));
        expect(a.dims).toEqual([1, 1, 4, 4]);
        expectClose(a.data, slot(ref.attribution, k));
      }
      const logits = readNpy(join(out, 'x1', 'logits.npy'));
      expect(logits.dims).toEqual([1, 3]);
      expectClose(logits.data, ref.logits.data);
    }
    // class 2 has weights of both signs: guided backprop drops the negative part of the gradient
    expect(readFileSync(join(out, 'x1', 'gradient__2.npy'))).not.toEqual(readFileSync(join(out, 'x1', 'guided-backprop__2.npy')));
    const doc = JSON.parse(readFileSync(join(out, 'x1', 'targets.json'), 'utf8'));
    expect(doc).toMatchObject({
      input: x1,
      shape: [1, 1, 4, 4],
      batch: 1,
      classes: 3,
      targets: ['max', '2'],
      perImage: [[0, 2]],
      slots: [{ spec: 'max', name: '0', classes: [0] }, { spec: '2', name: '2', classes: [2] }],
      files: { gradient: ['gradient__0.npy', 'gradient__2.npy'], 'guided-backprop': ['guided-backprop__0.npy', 'guided-backprop__2.npy'] },
    });
  });

  it('takes an array without the batch axis as one image and writes that shape back', async () => {
    const out = join(work, 'out2');
    const r = await cli('explain', '-m', tiny, '-i', ximg, '-o', out, '-q');
    expect(r.code, r.stderr).toBe(0);
    expect(dataFiles(listFiles(out))).toEqual(['single/gradient__1.npy', 'single/logits.npy', 'single/targets.json']);
    const a = readNpy(join(out, 'single', 'gradient__1.npy'));
    expect(a.dims).toEqual([1, 4, 4]);
    const ref = await api({ data: readNpy(ximg).data, dims: [1, 1, 4, 4] }, 'gradient', 'max');
    expectClose(a.data, slot(ref.attribution, 0));
    expect(readNpy(join(out, 'single', 'logits.npy')).dims).toEqual([1, 3]);
  });

  it('names files by the target spec when N > 1 and images use different classes', async () => {
    const out = join(work, 'out3');
    const r = await cli('explain', '--model', tiny, '--input-npy', xb, '--method', 'gradient,deconvnet', '--target', 'max,1', '--target', 'top2', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    const input = readNpy(xb);
    // 'max' is the first of 'top2': merged into it (explained once).
    const names = ['1', 'top2-1', 'top2-2'];
    const methods = ['gradient', 'deconvnet'] as const;
    expect(dataFiles(listFiles(join(out, 'batch')))).toEqual([...methods.flatMap((m) => names.map((n) => `${m}__${n}.npy`)), 'logits.npy', 'targets.json'].sort());
    for (const method of methods) {
      const ref = await api(input, method, [1, 'top2']);
      expect(ref.targets.map((t) => t[1])).toEqual([0, 1, 2]);
      names.forEach((n, k) => {
        const a = readNpy(join(out, 'batch', `${method}__${n}.npy`));
        expect(a.dims).toEqual([3, 1, 4, 4]);
        expectClose(a.data, slot(ref.attribution, k));
      });
      const doc = JSON.parse(readFileSync(join(out, 'batch', 'targets.json'), 'utf8'));
      expect(doc.perImage).toEqual(ref.targets);
    }
    expect(readNpy(join(out, 'batch', 'logits.npy')).dims).toEqual([3, 3]);
    const doc = JSON.parse(readFileSync(join(out, 'batch', 'targets.json'), 'utf8'));
    expect(doc.slots[0]).toEqual({ spec: '1', name: '1', classes: [1, 1, 1] });
    expect(doc.slots[1]).toMatchObject({ spec: 'top2', rank: 1, name: 'top2-1', classes: [0, 1, 2] });
  });

  it('names a batch by class when every image uses the same one, and writes duplicates once', async () => {
    const same = join(work, 'same.npy');
    writeFileSync(same, npy([...image('pos'), ...image('pos').map((v) => 2 * v)], [2, 1, 4, 4]));
    const out = join(work, 'out4');
    const r = await cli('explain', '--model', tiny, '--input-npy', same, '--target', 'max,0', '--out', out, '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expect(dataFiles(listFiles(out))).toEqual(['same/gradient__0.npy', 'same/logits.npy', 'same/targets.json']);
    expect(readNpy(join(out, 'same', 'gradient__0.npy')).dims).toEqual([2, 1, 4, 4]);
  });

  it('--json prints one object describing files, targets and timings', async () => {
    const out = join(work, 'out5');
    const r = await cli('explain', '--model', tiny, '--input-npy', x1, ximg, '--method', 'deconvnet', '--target', 'top2', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout.trimEnd().split('\n')).toHaveLength(1);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({ command: 'explain', model: tiny, out, methods: ['deconvnet'], targets: ['top2'], dumpGraph: null });
    expect(report.inputs).toHaveLength(2);
    expect(report.inputs[0].perImage).toEqual([[0, 2]]);
    expect(report.inputs[1].perImage[0][0]).toBe(1);
    for (const inp of report.inputs) {
      for (const f of inp.files) expect(existsSync(f)).toBe(true);
      expect(inp.timings[0]).toMatchObject({ method: 'deconvnet' });
      expect(inp.timings[0].runMs).toBeGreaterThanOrEqual(0);
    }
    expect(dataFiles(report.inputs[0].files.map((f: string) => f.slice(out.length + 1)))).toEqual(['x1/deconvnet__0.npy', 'x1/deconvnet__2.npy', 'x1/logits.npy', 'x1/targets.json']);
    expect(report.timings.totalMs).toBeGreaterThan(0);
  });

  it('prints a short summary by default, and --dump-graph writes the compiled graph', async () => {
    const out = join(work, 'out6');
    const graph = join(work, 'graphs', 'g.onnx');
    const r = await cli('explain', '--model', tiny, '--input-npy', x1, '--out', out, '--dump-graph', graph);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`${x1} [1, 1, 4, 4]: targets max=0`);
    expect(r.stdout).toContain('gradient__0.npy, logits.npy, targets.json');
    expect(r.stdout).toContain(`wrote the compiled graph of gradient to ${graph}`);
    const g = decodeModel(readFileSync(graph), graph).graph;
    expect(g.inputs[0]!.shape).toEqual([1, 1, 4, 4]);
    expect(g.outputs.map((o) => o.name)).toContain('attribution');
  });

  it('accepts float64 and int arrays', async () => {
    const f64 = join(work, 'f64.npy');
    const header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1, 1, 4, 4), }";
    const h = header.padEnd(64 - 10 - 1, ' ') + '\n';
    const bytes = Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, h.length, 0]), Buffer.from(h), Buffer.from(Float64Array.from(image('pos')).buffer)]);
    writeFileSync(f64, bytes);
    const r = await cli('explain', '--model', tiny, '--input-npy', f64, '--out', join(work, 'out7'), '--quiet');
    expect(r.code, r.stderr).toBe(0);
    expectClose(readNpy(join(work, 'out7', 'f64', 'gradient__0.npy')).data, readNpy(join(work, 'out1', 'x1', 'gradient__0.npy')).data);
  });

  it('--help describes the command and exits 0', async () => {
    const r = await cli('explain', '--help');
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('Usage: backlight explain [options]');
    expect(r.stdout).toContain('<method>__<target>.npy');
    expect(r.stdout).toContain('gradient__max.npy');
    for (const m of METHODS_LIST.split(', ')) expect(r.stdout).toContain(m);
  });
});

describe('explain errors', () => {
  /** Runs a failing command and checks the exit code, the one-line message and that nothing was written. */
  async function fails(code: number, pattern: RegExp, args: string[], out = join(work, 'never')): Promise<void> {
    const r = await cli('explain', ...args, ...(args.includes('--out') ? [] : ['--out', out]));
    expect(r.code, r.stderr).toBe(code);
    expect(r.stdout).toBe('');
    expectOneLine(r.stderr, pattern);
    expect(existsSync(out)).toBe(false);
  }

  it('unknown method lists the available ones (exit 2)', async () => {
    await fails(2, new RegExp(`^backlight: unknown method 'nope' \\(available: ${METHODS_LIST}\\)\\n$`), ['--model', tiny, '--input-npy', x1, '--method', 'gradient,nope']);
  });

  it('malformed targets (exit 2)', async () => {
    await fails(2, /^backlight: malformed target 'mx' \(expected a class index such as 3, 'max' or 'topK' such as 'top5'\)\n$/, ['--model', tiny, '--input-npy', x1, '--target', 'max,mx']);
    await fails(2, /empty entry/, ['--model', tiny, '--input-npy', x1, '--target', '1,,2']);
  });

  it('out-of-range targets (exit 2)', async () => {
    await fails(2, /^backlight: target 3 is out of range: the model has 3 classes \(0–2\)\n$/, ['--model', tiny, '--input-npy', x1, '--target', '3']);
    await fails(2, /^backlight: target 'top4' asks for more classes than the model has \(3\)\n$/, ['--model', tiny, '--input-npy', x1, '--target', 'top4']);
  });

  it('wrong input shape says expected vs got (exit 1)', async () => {
    const bad = join(work, 'bad-shape.npy');
    writeFileSync(bad, npy(new Array(20).fill(0), [1, 1, 5, 4]));
    await fails(1, new RegExp(`^backlight: ${bad}: expected an array of shape \\[N, 1, 4, 4\\] \\(or \\[1, 4, 4\\] for one image\\) for model input 'input', got \\[1, 1, 5, 4\\]\\n$`), ['--model', tiny, '--input-npy', x1, bad]);
    const rank = join(work, 'bad-rank.npy');
    writeFileSync(rank, npy(new Array(16).fill(0), [16]));
    await fails(1, /expected an array of shape \[N, 1, 4, 4\] .* got \[16\]\n$/, ['--model', tiny, '--input-npy', rank]);
  });

  it('a fixed batch of 1 takes any N (image by image) and reports shapes with the fixed batch otherwise', async () => {
    const fixed = join(work, 'fixed1.onnx');
    writeFileSync(fixed, encodeModel(tinyGraph({ batch: 1 })));
    const r = await cli('explain', '--model', fixed, '--input-npy', xb, '--out', join(work, 'out-fixed'), '--json');
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).inputs[0].perImage).toEqual([[0], [1], [2]]);
    const fixed2 = join(work, 'fixed2.onnx');
    writeFileSync(fixed2, encodeModel(tinyGraph({ batch: 2 })));
    await fails(1, /expected an array of shape \[2, 1, 4, 4\] for model input 'input', got \[3, 1, 4, 4\]\n$/, ['--model', fixed2, '--input-npy', xb]);
  });

  it('an input that is not .npy, or of an unsupported dtype (exit 1)', async () => {
    const text = join(work, 'text.npy');
    writeFileSync(text, 'hello, world\n');
    await fails(1, new RegExp(`^backlight: ${text}: not a NumPy \\.npy file\\n$`), ['--model', tiny, '--input-npy', text]);
    const complex = join(work, 'complex.npy');
    const h = "{'descr': '<c8', 'fortran_order': False, 'shape': (1, 1, 4, 4), }".padEnd(53, ' ') + '\n';
    writeFileSync(complex, Buffer.concat([Buffer.from([0x93]), Buffer.from('NUMPY'), Buffer.from([1, 0, h.length, 0]), Buffer.from(h), Buffer.alloc(128)]));
    await fails(1, /complex\.npy: dtype '<c8' is not supported/, ['--model', tiny, '--input-npy', complex]);
    await fails(1, /^backlight: cannot read input file '.*missing\.npy': no such file or folder \(ENOENT\)\n$/, ['--model', tiny, '--input-npy', join(work, 'missing.npy')]);
  });

  it('a model that is missing, not ONNX, truncated or unsupported (exit 1)', async () => {
    await fails(1, /^backlight: cannot read model file '.*nothing\.onnx': ENOENT\n$/, ['--model', join(work, 'nothing.onnx'), '--input-npy', x1]);
    const notOnnx = join(work, 'not-onnx.onnx');
    writeFileSync(notOnnx, readFileSync(x1));
    await fails(1, /not-onnx\.onnx: not (a readable ONNX model|an ONNX model)/, ['--model', notOnnx, '--input-npy', x1]);
    const truncated = join(work, 'truncated.onnx');
    writeFileSync(truncated, readFileSync(tiny).subarray(0, 100));
    await fails(1, /truncated\.onnx: not (a readable ONNX model .*truncated|an ONNX model)/, ['--model', truncated, '--input-npy', x1]);
    const sin = join(work, 'sin.onnx');
    writeFileSync(sin, encodeModel(tinyGraph({ unsupported: true })));
    await fails(1, /^backlight: node 'sin' \(Hardmax\): no backward rule for op 'Hardmax' in .*sin\.onnx\n$/, ['--model', sin, '--input-npy', x1]);
  });

  it('an output folder under a regular file: detected first, nothing written (exit 1)', async () => {
    await fails(1, /^backlight: cannot create output folder '.*tiny\.onnx\/sub': '.*tiny\.onnx' is a file, not a folder\n$/, ['--model', tiny, '--input-npy', x1, '--out', join(tiny, 'sub')], join(tiny, 'sub'));
    // an input folder name taken by a file
    const out = join(work, 'out-taken');
    mkdirSync(out);
    writeFileSync(join(out, 'x1'), 'taken');
    await fails(1, /cannot create output folder '.*out-taken\/x1': it is a file, not a folder/, ['--model', tiny, '--input-npy', x1, '--out', out], join(out, 'x1', 'logits.npy'));
    expect(listFiles(out)).toEqual(['x1']);
  });

  it.skipIf(process.getuid?.() === 0)('a read-only output folder: detected first, nothing written (exit 1)', async () => {
    const ro = join(work, 'readonly');
    mkdirSync(ro);
    chmodSync(ro, 0o555);
    await fails(1, /^backlight: cannot write to output folder '.*readonly\/o' \(in '.*readonly'\): permission denied \(EACCES\)\n$/, ['--model', tiny, '--input-npy', x1, '--out', join(ro, 'o')], join(ro, 'o'));
    expect(readdirSync(ro)).toEqual([]);
  });

  it('usage errors of the command line (exit 2)', async () => {
    await fails(2, /^backlight: unknown option '--bogus'\n$/, ['--model', tiny, '--input-npy', x1, '--bogus']);
    await fails(2, /^backlight: unknown option '--jsn' \(Did you mean --json\?\)\n$/, ['--model', tiny, '--input-npy', x1, '--jsn']);
    const r = await cli('explain', '--model', tiny, '--input-npy', x1);
    expect(r.code).toBe(2);
    expectOneLine(r.stderr, /^backlight: required option '-o, --out <dir>' not specified\n$/);
    await fails(2, /^backlight: no input given: add --image FILE or --input-npy FILE\.npy\n$/, ['--model', tiny]);
    await fails(2, /^backlight: --threads 'two' is not a positive integer\n$/, ['--model', tiny, '--input-npy', x1, '--threads', 'two']);
    const other = join(work, 'elsewhere');
    mkdirSync(other, { recursive: true });
    writeFileSync(join(other, 'x1.npy'), readFileSync(x1));
    await fails(2, /^backlight: inputs '.*x1\.npy' and '.*elsewhere\/x1\.npy' would both write to '.*never\/x1'; rename one of them\n$/, ['--model', tiny, '--input-npy', x1, join(other, 'x1.npy')]);
    const u = await cli('explian');
    expect(u.code).toBe(2);
    expectOneLine(u.stderr, /^backlight: unknown command 'explian' \(Did you mean explain\?\)\n$/);
  });

  it('--threads is passed on and the run still succeeds', async () => {
    const r = await cli('explain', '--model', tiny, '--input-npy', x1, '--out', join(work, 'out-threads'), '--threads', '1', '--quiet');
    expect(r.code, r.stderr).toBe(0);
  });
});

describe('output and error plumbing', () => {
  it('a failed atomic write leaves neither the file nor a temporary file', async () => {
    const dir = join(work, 'atomic');
    mkdirSync(join(dir, 'taken'), { recursive: true });
    await expect(writeFileAtomic(join(dir, 'taken'), 'data')).rejects.toThrow(/cannot write '.*taken'/);
    expect(listFiles(dir)).toEqual([]);
    expect(statSync(join(dir, 'taken')).isDirectory()).toBe(true);
    await writeFileAtomic(join(dir, 'a', 'b', 'c.txt'), 'ok');
    expect(readFileSync(join(dir, 'a', 'b', 'c.txt'), 'utf8')).toBe('ok');
    expect(listFiles(dir)).toEqual(['a/b/c.txt']);
    await checkWritableFolder(join(dir, 'new', 'deeper'));
    expect(existsSync(join(dir, 'new'))).toBe(false);
  });

  it('internal errors print the message and a hint, the stack only with --debug', () => {
    let err = '';
    const io: CliIO = { stdout: () => undefined, stderr: (t) => void (err += t), env: {} };
    expect(reportError(new TypeError('boom'), io, false)).toBe(1);
    expect(err).toMatch(/^backlight: internal error: boom\nbacklight: this is a bug; please report it .*--debug.*\n$/);
    expect(err).not.toContain('    at ');
    err = '';
    expect(reportError(new TypeError('boom'), io, true)).toBe(1);
    expect(err).toContain('    at ');
    err = '';
    expect(reportError(new BacklightError('two\nlines', 'usage'), io, false)).toBe(2);
    expect(err).toBe('backlight: two lines\n');
  });
});

describe('the bin entry as a process', () => {
  it('succeeds with --json on stdout and exit code 0', () => {
    const out = join(work, 'spawn-ok');
    const r = spawnCli('explain', '--model', tiny, '--input-npy', x1, '--method', 'guided-backprop', '--out', out, '--json');
    expect(r.stderr).toBe('');
    expect(r.code, r.stderr).toBe(0);
    expect(dataFiles(JSON.parse(r.stdout).inputs[0].files)).toHaveLength(3);
    expect(dataFiles(listFiles(out))).toEqual(['x1/guided-backprop__0.npy', 'x1/logits.npy', 'x1/targets.json']);
  });

  it('fails with one stderr line and exit code 2 or 1', () => {
    const u = spawnCli('explain', '--model', tiny, '--input-npy', x1, '--method', 'magic', '--out', join(work, 'spawn-no'));
    expect(u.code).toBe(2);
    expect(u.stdout).toBe('');
    expect(u.stderr).toBe(`backlight: unknown method 'magic' (available: ${METHODS_LIST})\n`);
    const m = spawnCli('explain', '--model', join(work, 'absent.onnx'), '--input-npy', x1, '--out', join(work, 'spawn-no'));
    expect(m.code).toBe(1);
    expect(m.stderr).toMatch(/^backlight: cannot read model file '.*absent\.onnx': ENOENT\n$/);
    expect(existsSync(join(work, 'spawn-no'))).toBe(false);
  });
});

describe.skipIf(!HAS_SHARED)('explain on the shared reference model (smallvgg)', () => {
  const model = join(SHARED, 'smallvgg.onnx');
  const input = join(SHARED, 'smallvgg', 'in0_input.npy');

  it('writes attributions equal to the API and the reference logits', async () => {
    const out = join(work, 'vgg');
    const r = await cli('explain', '--model', model, '--input-npy', input, '--method', 'gradient,guided-backprop', '--target', '7,max', '--out', out, '--json');
    expect(r.code, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report.inputs[0].perImage).toEqual([[7, 8]]);
    expect(dataFiles(listFiles(out))).toEqual(['in0_input/gradient__7.npy', 'in0_input/gradient__8.npy', 'in0_input/guided-backprop__7.npy', 'in0_input/guided-backprop__8.npy', 'in0_input/logits.npy', 'in0_input/targets.json']);
    const vgg = await Explainer.load(model);
    const x = readNpy(input);
    for (const method of ['gradient', 'guided-backprop'] as const) {
      const ref = await vgg.explain(x, { method, target: [7, 'max'] });
      expect(ref.targets).toEqual([[7, 8]]);
      [7, 8].forEach((c, k) => {
        const a = readNpy(join(out, 'in0_input', `${method}__${c}.npy`));
        expect(a.dims).toEqual([1, 3, 64, 64]);
        expectClose(a.data, slot(ref.attribution, k));
      });
    }
    const logits = readNpy(join(out, 'in0_input', 'logits.npy'));
    expect(logits.dims).toEqual([1, 10]);
    expectClose(logits.data, readNpy(join(SHARED, 'smallvgg', 'in0_logits.npy')).data, 1e-4);
  });

  it('rejects the first 100 bytes of the model and an input of the wrong size', async () => {
    const truncated = join(work, 'smallvgg-100.onnx');
    writeFileSync(truncated, readFileSync(model).subarray(0, 100));
    let r = await cli('explain', '--model', truncated, '--input-npy', input, '--out', join(work, 'vgg-no'));
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /smallvgg-100\.onnx: not (a readable ONNX model .*truncated|an ONNX model)/);
    r = await cli('explain', '--model', model, '--input-npy', x1, '--out', join(work, 'vgg-no'));
    expect(r.code).toBe(1);
    expectOneLine(r.stderr, /expected an array of shape \[N, 3, 64, 64\] \(or \[3, 64, 64\] for one image\) for model input 'input', got \[1, 1, 4, 4\]/);
    expect(existsSync(join(work, 'vgg-no'))).toBe(false);
  });
});
