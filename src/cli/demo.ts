/**
 * The built-in demo: everything it needs ships in the package (assets/), nothing is downloaded.
 *
 * 1. The digit CNN Backlight trained on MNIST (assets/models/digits-cnn.onnx) explains one held-out
 *    digit of each class with every method, for its predicted class and the runner-up.
 * 2. Nie et al.'s core finding, live: a random 3-layer CNN (with and without max-pooling) and a
 *    random fully connected net from the model builder explain the same digits; Guided Backprop
 *    (partly) recovers the image in the CNNs but not in the FCN, and hardly depends on the class.
 *    Recovery is measured as the Pearson correlation of the map with the input.
 */
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { buildModel } from '../builder/index.js';
import { Explainer } from '../index.js';
import { decodeNpy } from '../io/npy.js';
import type { Explanation, TensorLike } from '../core.js';
import { METHODS, METHOD_NAMES, type MethodName } from '../core.js';
import { measureRandomNet, RANDOM_NETS, randomNetSpec, type RandomNetKind } from '../eval/randomNets.js';
import { heatmapRGBA, layoutGrid, type GridContent, type GridLayout, type PixelImage } from '../render/index.js';

export const asset = (p: string): string => fileURLToPath(new URL(`../../assets/${p}`, import.meta.url));

export interface DigitFigure {
  index: number;
  label: number;
  predicted: number;
  runnerUp: number;
  probabilities: [number, number];
  layout: GridLayout;
  content: GridContent;
}

export interface RandomNetRow {
  net: string;
  description: string;
  /** Pearson correlation of each method's map with the input, averaged over the digits. */
  recovery: Record<string, number>;
  /** Mean relative l2 distance between the maps of two classes (class sensitivity). */
  classDistance: Record<string, number>;
}

export interface DemoResult {
  modelInfo: { testAccuracy: number; trainSize: number; testSize: number };
  digits: DigitFigure[];
  overview: { layout: GridLayout; content: GridContent };
  randomNets: { rows: RandomNetRow[]; layout: GridLayout; content: GridContent; methods: MethodName[] };
  timings: { explainMs: number };
}

const TILE = 112;

function gray(data: Float32Array, width: number, height: number): PixelImage {
  return { data: Uint8Array.from(data, (v) => Math.round(255 * Math.min(1, Math.max(0, v)))), width, height };
}

function heat(map: Float32Array, width: number, height: number, signed = false): PixelImage {
  return heatmapRGBA(map, width, height, { signed });
}

/** A method's map as it is drawn: signed channel sum (relevance) or max |·| magnitude. */
function drawn(r: Explanation, method: MethodName, n: number, k: number, width: number, height: number): PixelImage {
  const signed = METHODS[method].display === 'signed';
  return heat(r.mapAt(signed ? 'sum' : 'maxabs', n, k), width, height, signed);
}

const softmax = (row: ArrayLike<number>): number[] => {
  const m = Math.max(...Array.from(row));
  const e = Array.from(row, (v) => Math.exp(v - m));
  const z = e.reduce((a, b) => a + b, 0);
  return e.map((v) => v / z);
};

export async function runDemo(options: { threads?: number; onProgress?: (step: string) => void } = {}): Promise<DemoResult> {
  const progress = options.onProgress ?? (() => undefined);
  const meta = JSON.parse(await readFile(asset('models/digits-cnn.json'), 'utf8')) as {
    data: { train_size: number; test_size: number };
    accuracy: { test: number };
  };
  const digitsJson = JSON.parse(await readFile(asset('demo/digits.json'), 'utf8')) as { labels: number[] };
  const all = decodeNpy(await readFile(asset('demo/digits.npy')), 'digits.npy');
  const [total, c, h, w] = all.dims as [number, number, number, number];
  const per = c * h * w;
  // One digit of each class: the first of each pair.
  const picks = Array.from({ length: total / 2 }, (_, i) => 2 * i);
  const data = new Float32Array(picks.length * per);
  picks.forEach((p, i) => data.set(all.data.subarray(p * per, (p + 1) * per), i * per));
  const x: TensorLike = { data, dims: [picks.length, c, h, w] };

  const t0 = performance.now();
  progress('explaining the digit CNN');
  const model = await Explainer.load(await readFile(asset('models/digits-cnn.onnx')), { threads: options.threads, source: 'digits-cnn.onnx' });
  const runs = new Map<MethodName, Explanation>();
  // Pixels are in [0, 1] (no normalization): the zB rule's box.
  const params = { box: { low: [0], high: [1] } };
  for (const method of METHOD_NAMES) runs.set(method, await model.explain(x, { method, target: 'top2', reductions: ['maxabs', 'sum'], params }));
  const first = runs.get('gradient')!;

  const digits: DigitFigure[] = picks.map((p, i) => {
    const probs = softmax(first.logits.data.subarray(i * 10, (i + 1) * 10));
    const [predicted, runnerUp] = first.targets[i] as [number, number];
    const layout = layoutGrid({
      rows: METHOD_NAMES.map((m) => METHODS[m].label),
      columns: [[`predicted: ${predicted}`, `p = ${probs[predicted]!.toFixed(3)}`], [`runner-up: ${runnerUp}`, `p = ${probs[runnerUp]!.toFixed(3)}`]],
      tile: TILE,
      title: `digit ${digitsJson.labels[p]} (held-out test image)`,
    });
    const cells = METHOD_NAMES.map((m) => [0, 1].map((k) => drawn(runs.get(m)!, m, i, k, w, h)));
    return { index: p, label: digitsJson.labels[p]!, predicted, runnerUp, probabilities: [probs[predicted]!, probs[runnerUp]!], layout, content: { input: gray(data.subarray(i * per, (i + 1) * per), w, h), cells } };
  });

  // Overview: rows = digits, columns = methods (predicted class), input in every row.
  const overview = {
    layout: layoutGrid({ rows: digits.map((d) => `${d.label} → ${d.predicted}`), columns: METHOD_NAMES.map((m) => METHODS[m].label.split(' ')), tile: 84, input: 'each-row', title: 'predicted class' }),
    content: {
      input: digits.map((_, i) => gray(data.subarray(i * per, (i + 1) * per), w, h)),
      cells: digits.map((_, i) => METHOD_NAMES.map((m) => drawn(runs.get(m)!, m, i, 0, w, h))),
    },
  };

  progress('random networks (Nie et al.)');
  const nets: { kind: RandomNetKind; width: number }[] = [
    { kind: 'cnn', width: 256 },
    { kind: 'cnn-maxpool', width: 256 },
    { kind: 'fcn', width: 1024 },
  ];
  const randomMethods: MethodName[] = ['gradient', 'deconvnet', 'guided-backprop'];
  const shown = [0, 3, 7].filter((i) => i < picks.length); // digits 0, 3 and 7
  const rows: RandomNetRow[] = [];
  const cells: PixelImage[][] = [];
  for (const n of nets) {
    const ex = await Explainer.load(buildModel(randomNetSpec(n.kind, { size: h, channels: c, width: n.width, seed: 1 })), { threads: options.threads, source: n.kind });
    // Classes 0 and 1: the first is drawn and scored for recovery, both give the class distance.
    const measures = await measureRandomNet(ex, x, randomMethods, [0, 1]);
    await ex.release();
    const mean = (v: number[]): number => v.reduce((a, b) => a + b, 0) / v.length;
    rows.push({
      net: RANDOM_NETS[n.kind].label,
      description: RANDOM_NETS[n.kind].describe(n.width),
      recovery: Object.fromEntries(measures.map((m) => [m.method, mean(m.recovery.map((r) => r.pearson))])),
      classDistance: Object.fromEntries(measures.map((m) => [m.method, mean(m.classDistance)])),
    });
    // For each shown digit, the methods side by side.
    cells.push(shown.flatMap((i) => measures.map((m) => heat(m.maxabs.subarray(i * h * w, (i + 1) * h * w), w, h))));
  }
  const short: Partial<Record<MethodName, string>> = { 'guided-backprop': 'GBP' };
  const columns = shown.flatMap((i) => randomMethods.map((m) => [`digit ${digitsJson.labels[picks[i]!]}`, short[m] ?? METHODS[m].label]));
  const randomLayout = layoutGrid({ rows: rows.map((r) => r.net), columns, tile: 84, input: 'none', title: 'random networks (Nie et al. 2018): maps of class 0' });
  await model.release();

  return {
    modelInfo: {
      testAccuracy: meta.accuracy.test,
      trainSize: meta.data.train_size,
      testSize: meta.data.test_size,
    },
    digits,
    overview,
    randomNets: { rows, layout: randomLayout, content: { cells }, methods: randomMethods },
    timings: { explainMs: performance.now() - t0 },
  };
}
