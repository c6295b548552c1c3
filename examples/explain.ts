/**
 * The README's API example, runnable: explains the built-in digit model's prediction and class 3
 * for one of the demo digits, with Guided Backprop.
 *
 *   npx tsx examples/explain.ts [model.onnx] [input.npy]
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Explainer } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';

const asset = (p: string): string => fileURLToPath(new URL(`../assets/${p}`, import.meta.url));
const modelPath = process.argv[2] ?? asset('models/digits-cnn.onnx');
const inputPath = process.argv[3] ?? asset('demo/digits.npy');

const ex = await Explainer.load(modelPath);
const batch = decodeNpy(readFileSync(inputPath), inputPath);
const per = batch.data.length / batch.dims[0]!;
const x = { data: batch.data.subarray(0, per), dims: [1, ...batch.dims.slice(1)] }; // the first image

const r = await ex.explain(x, { method: 'guided-backprop', target: ['max', 3] });
console.log('targets', JSON.stringify(r.targets)); // [[<predicted class>, 3]]
console.log('attribution', JSON.stringify(r.attribution.dims)); // [1, 2, …input dims]
console.log('maxabs map', JSON.stringify(r.maps.maxabs!.dims)); // [1, 2, …spatial dims]
