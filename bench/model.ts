/**
 * Benchmarks one model in its own process (so peak RSS is the model's own):
 *   tsx bench/model.ts <vgg16|mobilenetv2|resnet20> [runs] [--methods a,b]
 * Prints one JSON line. Times are medians of `runs` runs after warm-up, onnxruntime with 2 threads.
 */
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../src/builder/index.js';
import { Explainer, METHOD_NAMES, type MethodName, type Target } from '../src/index.js';

const THREADS = 2;
const here = path.dirname(fileURLToPath(import.meta.url));
const sharedModel = (f: string) => path.resolve(here, '..', '..', 'shared', 'models', f);

const name = process.argv[2] ?? 'vgg16';
const runs = Number(process.argv[3] ?? 5);
const methodsArg = process.argv.indexOf('--methods');
const methods = (methodsArg > 0 ? process.argv[methodsArg + 1]!.split(',') : [...METHOD_NAMES]) as MethodName[];

function load(): { bytes: Uint8Array; dims: number[] } | undefined {
  if (name === 'vgg16') return { bytes: buildModel({ model: 'vgg16', seed: 0 }), dims: [1, 3, 224, 224] };
  const file = { mobilenetv2: 'mobilenetv2-imagenet.onnx', resnet20: 'resnet20-cifar10.onnx' }[name];
  if (!file) throw new Error(`unknown model ${name}`);
  const p = sharedModel(file);
  if (!existsSync(p)) return undefined;
  return { bytes: readFileSync(p), dims: name === 'resnet20' ? [1, 3, 32, 32] : [1, 3, 224, 224] };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

async function timeIt(f: () => Promise<unknown>, warmup = 2): Promise<number> {
  for (let i = 0; i < warmup; i++) await f();
  const ts: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t0 = performance.now();
    await f();
    ts.push(performance.now() - t0);
  }
  return median(ts);
}

const model = load();
if (!model) {
  console.log(JSON.stringify({ model: name, skipped: 'model file not found (../shared absent)' }));
  process.exit(0);
}
const n = model.dims.reduce((a, b) => a * b, 1);
const data = new Float32Array(n).map((_, i) => Math.sin(i * 0.013) + 0.5 * Math.cos(i * 0.0007));
const x = { data, dims: model.dims };

// The same session options as the Explainer's (src/runtime/runtime.ts), spinning off included.
const fwd = await ort.InferenceSession.create(model.bytes, {
  intraOpNumThreads: THREADS, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
  extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
});
const feeds = { [fwd.inputNames[0]!]: new ort.Tensor('float32', data, model.dims) };
const forwardMs = await timeIt(() => fwd.run(feeds));

const ex = await Explainer.load(model.bytes, { threads: THREADS });
const explain = (method: MethodName, target: Target) => ex.explain(x, { method, target, reductions: [] });
const rows: Record<string, { ms: number; ratio: number }> = {};
for (const m of methods) {
  const ms = await timeIt(() => explain(m, 'max'));
  rows[m] = { ms, ratio: ms / forwardMs };
  await ex.release(); // peak RSS then reflects one compiled method at a time
}
const eight = [0, 1, 2, 3, 4, 5, 6, 7];
const oneRunMs = await timeIt(() => explain('gradient', eight));
const separateMs = await timeIt(async () => {
  for (const t of eight) await explain('gradient', t);
}, 1);
console.log(JSON.stringify({
  model: name,
  dims: model.dims,
  threads: THREADS,
  runs,
  forwardMs,
  methods: rows,
  eightTargets: { oneRunMs, separateMs, ratio: oneRunMs / separateMs },
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
}));
