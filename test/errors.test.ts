/** Bad input gets one clear, specific error: which file, node, op or value, and what was expected. */
import { describe, expect, it } from 'vitest';
import { buildGraph, buildModel } from '../src/builder/index.js';
import { BacklightError, Explainer, UnsupportedOpError } from '../src/index.js';
import { encodeModel } from '../src/onnx/encode.js';

const spec = { model: 'cnn3', filters: 4, inputSize: 16, kernel: 3, classes: 5, seed: 1 } as const;
const bytes = buildModel(spec);
const x = { data: new Float32Array(3 * 16 * 16).fill(0.5), dims: [1, 3, 16, 16] };

describe('model files', () => {
  it('a truncated model', async () => {
    await expect(Explainer.load(bytes.subarray(0, 100), { source: 'cut.onnx' })).rejects.toThrow(/^cut\.onnx: not (a readable ONNX model|an ONNX model)/);
  });
  it('a file of another format', async () => {
    const png = new Uint8Array([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 73, 72, 68, 82]);
    await expect(Explainer.load(png, { source: 'photo.png' })).rejects.toThrow(BacklightError);
    await expect(Explainer.load(new TextEncoder().encode('hello world, not a model'), { source: 'notes.txt' })).rejects.toThrow(/notes\.txt: not/);
  });
  it('a missing file', async () => {
    await expect(Explainer.load('/nonexistent/model.onnx')).rejects.toThrow(/cannot read model file '\/nonexistent\/model\.onnx': ENOENT/);
  });
  it('an op without a backward rule names the node and the op, in one short line', async () => {
    const g = buildGraph(spec);
    const relu = g.nodes.find((n) => n.op === 'Relu')!;
    relu.op = 'Hardmax';
    const err = await Explainer.load(encodeModel(g), { source: 'sin.onnx' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedOpError);
    expect((err as Error).message).toBe(`node '${relu.name}' (Hardmax): no backward rule for op 'Hardmax' in sin.onnx`);
  });
  it('a model needing several unsupported ops names every op type, its count and first node, in one line', async () => {
    const g = buildGraph(spec);
    const relus = g.nodes.filter((n) => n.op === 'Relu');
    relus.forEach((n) => (n.op = 'Hardmax'));
    const pool = g.nodes.find((n) => n.op === 'Gemm' || n.op === 'Conv')!;
    pool.op = 'LpPool';
    // LpPool has none of Conv's or Gemm's attributes (the import refuses those, as onnxruntime does).
    pool.attrs = {};
    const err = await Explainer.load(encodeModel(g), { source: 'two.onnx' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnsupportedOpError);
    const message = (err as Error).message;
    expect(message.split('\n')).toHaveLength(1);
    const first = g.nodes.find((n) => n.op === 'Hardmax' || n.op === 'LpPool')!;
    expect(message).toContain(`node '${first.name}' (${first.op}): no backward rule for 2 op types in two.onnx: `);
    expect(message).toContain(`Hardmax (${relus.length === 1 ? `node '${relus[0]!.name}'` : `${relus.length} nodes, first '${relus[0]!.name}'`})`);
    expect(message).toContain(`LpPool (node '${pool.name}')`);
  });
  it('a model with two inputs', async () => {
    const g = buildGraph(spec);
    g.inputs.push({ name: 'extra', dtype: 'float32', shape: [1] });
    await expect(Explainer.load(encodeModel(g))).rejects.toThrow(/has 2 inputs \(input, extra\).*exactly one image input/);
  });
});

describe('inputs and targets', async () => {
  const ex = await Explainer.load(bytes);
  it('wrong input shape', async () => {
    await expect(ex.explain({ data: new Float32Array(3 * 8 * 8), dims: [1, 3, 8, 8] }, { method: 'gradient' })).rejects.toThrow(/shape \[1,3,8,8\] does not match the model's \[batch,3,16,16\]/);
    await expect(ex.explain({ data: new Float32Array(16 * 16), dims: [1, 16, 16] }, { method: 'gradient' })).rejects.toThrow(/does not match/);
  });
  it('wrong data type or size', async () => {
    const f64 = { data: new Float64Array(3 * 16 * 16) as unknown as Float32Array, dims: [1, 3, 16, 16] };
    await expect(ex.explain(f64, { method: 'gradient' })).rejects.toThrow(/expected float32 data/);
    await expect(ex.explain({ data: new Float32Array(10), dims: [1, 3, 16, 16] }, { method: 'gradient' })).rejects.toThrow(/needs 768 values, got 10/);
  });
  it('targets out of range or malformed', async () => {
    await expect(ex.explain(x, { method: 'gradient', target: 5 })).rejects.toThrow(/target 5 is out of range for a model with 5 classes \(0–4\)/);
    await expect(ex.explain(x, { method: 'gradient', target: -1 })).rejects.toThrow(/target -1 is out of range/);
    await expect(ex.explain(x, { method: 'gradient', target: 'top6' })).rejects.toThrow(/'top6' is not a class index, 'max' or 'topK' with 1 ≤ K ≤ 5/);
    await expect(ex.explain(x, { method: 'gradient', target: [] })).rejects.toThrow(/empty/);
    await expect(ex.explain(x, { method: 'gradient', target: [[1], [2]] })).rejects.toThrow(/targets for 2 images, but the batch has 1/);
  });
  it('unknown method', async () => {
    const err = await ex.explain(x, { method: 'lrp-magic' as 'gradient' }).catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(/^unknown method 'lrp-magic' \(available: gradient, gradient-x-input, deconvnet, guided-backprop, lrp-epsilon, .*gradcam.*\)$/);
  });
  it('usage errors are marked as such', async () => {
    const err = await ex.explain(x, { method: 'gradient', target: 9 }).catch((e: unknown) => e);
    expect((err as BacklightError).kind).toBe('usage');
  });
});
