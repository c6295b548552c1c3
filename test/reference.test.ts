/**
 * Validates the eager Float64 reference (test/reference/eager.ts) that compiled graphs are checked
 * against: its forward pass against onnxruntime, its gradient against finite differences, and its
 * three backprop methods against PyTorch/Captum vectors.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { runOrt } from './helpers/ort.js';
import { describe, expect, it } from 'vitest';
import { canonicalize } from '../src/canonicalize/index.js';
import { floatAttr, intsAttr, type Attr, type Graph } from '../src/ir/graph.js';
import { float32 } from '../src/ir/tensor.js';
import { decodeModel } from '../src/onnx/decode.js';
import { backward, finiteDiffGradient, forward, relativeL2, type RefMethod } from './reference/eager.js';
import { decodeNpy } from '../src/io/npy.js';
import { allTinyModels, randomInput, Rng } from './reference/tinyModels.js';

const readNpy = (file: string) => decodeNpy(readFileSync(file), file);
const shared = (rel: string): string => fileURLToPath(new URL(`../../shared/${rel}`, import.meta.url));


function canonical(bytes: Uint8Array, inputShape: number[]): Graph {
  return canonicalize(decodeModel(bytes).graph, inputShape).graph;
}

/**
 * The canonical graph, or the graph as built for the pool geometries the compiler refuses
 * (a ceil_mode window starting in the end padding): the reference still handles those.
 */
function referenceGraph(m: { bytes: Uint8Array; inputShape: number[]; graph: Graph }): Graph {
  try {
    return canonical(m.bytes, m.inputShape);
  } catch (e) {
    if (/end padding/.test(String(e))) return m.graph;
    throw e;
  }
}

const models = allTinyModels();

describe('eager reference on tiny models', () => {
  it('builds uniquely named models', () => {
    expect(new Set(models.map((m) => m.name)).size).toBe(models.length);
  });

  it.each(models.map((m) => [m.name, m] as const))('%s: forward equals onnxruntime', async (_, m) => {
    const graph = referenceGraph(m);
    const x = randomInput(m.inputShape, 7);
    const ref = await runOrt(m.bytes, x, m.inputShape);
    const logits = forward(graph, x).get(graph.outputs[0]!.name)!;
    expect(logits.dims).toEqual([1, 3]);
    expect(relativeL2(logits.data, ref)).toBeLessThan(1e-5);
    // Canonicalization (BatchNorm and MatMul+Add folding, float32 attributes) keeps the function.
    const raw = forward(m.graph, x).get('logits')!;
    expect(relativeL2(raw.data, logits.data)).toBeLessThan(1e-6);
  });

  it.each(models.map((m) => [m.name, m] as const))('%s: gradient equals finite differences', (_, m) => {
    const graph = referenceGraph(m);
    const x = Float64Array.from(randomInput(m.inputShape, 7));
    const rng = new Rng(5);
    const seed = [rng.normal(), rng.normal(), rng.normal()];
    const g = backward(graph, forward(graph, x), seed, 'gradient');
    const fd = finiteDiffGradient(graph, x, seed);
    expect(fd.some((v) => Math.abs(v) > 1e-6)).toBe(true);
    expect(relativeL2(g, fd)).toBeLessThan(1e-5);
  });
});

// ───────────── rule semantics on one-op graphs, computed by hand ─────────────

function oneOp(op: string, inShape: number[], outShape: number[], attrs: Record<string, Attr> = {}, consts: [string, number[], number[]][] = []): Graph {
  return {
    name: op,
    inputs: [{ name: 'input', dtype: 'float32', shape: inShape }],
    outputs: [{ name: 'logits', dtype: 'float32', shape: outShape }],
    nodes: [{ name: op, op, domain: '', inputs: ['input', ...consts.map((c) => c[0])], outputs: ['logits'], attrs }],
    initializers: new Map(consts.map(([n, d, v]) => [n, float32(d, v)])),
    values: new Map(),
  };
}

function signals(g: Graph, x: number[], seed: number[]): Record<RefMethod, number[]> {
  const f = forward(g, x);
  const run = (m: RefMethod): number[] => Array.from(backward(g, f, seed, m), (v) => v + 0); // + 0 turns -0 into 0
  return { gradient: run('gradient'), deconvnet: run('deconvnet'), 'guided-backprop': run('guided-backprop') };
}

describe('eager reference: backward rules', () => {
  const R = [1, -1, -2, 3, 0.5];

  it('Relu: forward mask, backward mask, both', () => {
    expect(signals(oneOp('Relu', [1, 5], [1, 5]), [-1, 2, -3, 4, 0], R)).toEqual({
      gradient: [0, -1, 0, 3, 0],
      deconvnet: [1, 0, 0, 3, 0.5],
      'guided-backprop': [0, 0, 0, 3, 0],
    });
  });

  it('LeakyRelu and PRelu: the negative slope is the local derivative', () => {
    const leaky = oneOp('LeakyRelu', [1, 5], [1, 5], { alpha: floatAttr(0.25) });
    const expected = { gradient: [0.25, -1, -0.5, 3, 0.125], deconvnet: [1, 0, 0, 3, 0.5], 'guided-backprop': [0.25, 0, 0, 3, 0.125] };
    expect(signals(leaky, [-1, 2, -3, 4, 0], R)).toEqual(expected);
    const prelu = oneOp('PRelu', [1, 5], [1, 5], {}, [['slope', [1], [0.25]]]);
    expect(signals(prelu, [-1, 2, -3, 4, 0], R)).toEqual(expected);
  });

  it('Clip(0, 6) is a rectifier with the strict window 0 < x < 6', () => {
    const relu6 = oneOp('Clip', [1, 5], [1, 5], {}, [['lo', [], [0]], ['hi', [], [6]]]);
    expect(signals(relu6, [-1, 2, 7, 4, 6], R)).toEqual({
      gradient: [0, -1, 0, 3, 0],
      deconvnet: [1, 0, 0, 3, 0.5],
      'guided-backprop': [0, 0, 0, 3, 0],
    });
  });

  it('Clip with min != 0 and Sigmoid use the true derivative in every method', () => {
    const clip = oneOp('Clip', [1, 5], [1, 5], {}, [['lo', [], [-1]], ['hi', [], [1]]]);
    const s = signals(clip, [-2, 0.5, -0.5, 0.2, 3], R);
    expect(s.gradient).toEqual([0, -1, -2, 3, 0]);
    expect(s.deconvnet).toEqual(s.gradient);
    expect(s['guided-backprop']).toEqual(s.gradient);
    const sig = signals(oneOp('Sigmoid', [1, 5], [1, 5]), [-2, 0.5, -0.5, 0.2, 3], R);
    expect(sig.deconvnet).toEqual(sig.gradient);
    expect(sig['guided-backprop']).toEqual(sig.gradient);
    expect(sig.gradient[1]).toBeCloseTo(-1 * (1 / (1 + Math.exp(-0.5))) * (1 - 1 / (1 + Math.exp(-0.5))), 12);
  });

  it('MaxPool routes to the first maximum, overlapping windows add, padding never wins', () => {
    const pool = (pads: number[]): Graph => oneOp('MaxPool', [1, 1, 1, 3], [1, 1, 1, 2 + pads[1]!], { kernel_shape: intsAttr([1, 2]), pads: intsAttr(pads) });
    const overlap = signals(pool([0, 0, 0, 0]), [1, 5, 2], [1, 2]);
    expect(overlap.gradient).toEqual([0, 3, 0]);
    expect(overlap.deconvnet).toEqual([0, 3, 0]);
    expect(signals(pool([0, 0, 0, 0]), [3, 3, 1], [1, 2]).gradient).toEqual([1, 2, 0]);
    const padded = pool([0, 1, 0, 0]);
    expect(Array.from(forward(padded, [-5, -7, -9]).get('logits')!.data)).toEqual([-5, -5, -7]);
    expect(signals(padded, [-5, -7, -9], [1, 1, 1]).gradient).toEqual([2, 1, 0]);
  });

  it('sums the signals of a tensor read twice', () => {
    const g: Graph = {
      ...oneOp('Mul', [1, 3], [1, 3]),
      nodes: [{ name: 'sq', op: 'Mul', domain: '', inputs: ['input', 'input'], outputs: ['logits'], attrs: {} }],
    };
    expect(Array.from(backward(g, forward(g, [1, -2, 3]), [1, 1, 2], 'gradient'))).toEqual([2, -4, 12]);
  });
});

// ───────────── real models ─────────────

const RESNET20 = shared('models/resnet20-cifar10.onnx');

describe.skipIf(!existsSync(RESNET20))('eager reference on resnet20-cifar10', () => {
  it('forward logits equal onnxruntime', async () => {
    const bytes = readFileSync(RESNET20);
    const shape = [1, 3, 32, 32];
    const x = randomInput(shape, 3);
    const logits = forward(canonical(bytes, shape), x).get('logits')!;
    expect(relativeL2(logits.data, await runOrt(bytes, x, shape))).toBeLessThan(1e-4);
  });
});

const SMALLVGG = shared('reference/smallvgg.onnx');
const SMALLVGG_DIR = shared('reference/smallvgg/');

describe.skipIf(!existsSync(SMALLVGG) || !existsSync(SMALLVGG_DIR))('eager reference on smallvgg against PyTorch/Captum', () => {
  const shape = [1, 3, 64, 64];
  const load = () => {
    const manifest = JSON.parse(readFileSync(shared('reference/manifest.json'), 'utf8')) as { files: { file: string }[] };
    const files = new Set(manifest.files.map((f) => f.file));
    const bytes = readFileSync(SMALLVGG);
    const graph = canonical(bytes, shape);
    const input = readNpy(`${SMALLVGG_DIR}in0_input.npy`);
    expect(input.dims).toEqual(shape);
    return { files, bytes, graph, input, fwd: forward(graph, input.data) };
  };
  let ctx: ReturnType<typeof load> | undefined;
  const get = (): ReturnType<typeof load> => (ctx ??= load());

  it('forward logits equal PyTorch and onnxruntime', async () => {
    const { graph, fwd, bytes, input } = get();
    const logits = fwd.get(graph.outputs[0]!.name)!.data;
    expect(relativeL2(logits, readNpy(`${SMALLVGG_DIR}in0_logits.npy`).data)).toBeLessThan(1e-5);
    expect(relativeL2(logits, await runOrt(bytes, input.data, shape))).toBeLessThan(1e-5);
  });

  const cases = [8, 7].flatMap((t) =>
    (
      [
        ['gradient', 'gradient'],
        ['deconvnet', 'deconvnet'],
        ['guided-backprop', 'guided_backprop'],
      ] as const
    ).map(([method, file]) => [t, method, `smallvgg/in0_t${t}_${file}.npy`] as const),
  );
  it.each(cases)('target %i, %s equals the PyTorch/Captum vector', (target, method, file) => {
    const { graph, fwd, files } = get();
    expect(files.has(file)).toBe(true);
    const seed = new Float64Array(10);
    seed[target] = 1;
    const ref = readNpy(shared(`reference/${file}`));
    expect(ref.dims).toEqual(shape);
    const got = backward(graph, fwd, seed, method);
    expect(relativeL2(got, ref.data)).toBeLessThan(1e-4);
  });
});
