/**
 * Benchmarks one model in its own process (so peak RSS is the model's own):
 *   tsx bench/model.ts <vgg16|mobilenetv2|resnet20|efficientnet_b0|convnext_tiny|vit_b_16> [runs] [--methods a,b]
 * The torchvision models (published sizes, seeded random weights) are exported once by
 * bench/export_torchvision.py with Debian's python3-torch into bench/results/models/.
 * Prints one JSON line. Times are medians of `runs` runs (at least) after warm-up, onnxruntime with
 * 2 threads; an explanation's ratio to the forward time comes from pairs run in alternation.
 *
 * Rows: the gradient family, then LRP rows with their parameters (ImageNet pixel bounds for the
 * zB rule, as `--preset imagenet` gives; the models here are 224×224 RGB with ImageNet
 * normalization). `--methods` keeps the rows whose label or method name is listed. With both `lrp`
 * (gu2018) and `clrp2` rows, the CLRP check also times `lrp` with two targets: CLRP's dual concept
 * runs as extra rows of the same backward batch, after the one forward pass.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../src/builder/index.js';
import { Explainer, type ExplainMethodName, type Target } from '../src/index.js';
import { pixelBounds, resolvePreprocess } from '../src/io/preprocess.js';
import type { MethodParams } from '../src/methods/methods.js';
import { sessionOptions } from '../src/runtime/runtime.js';

const THREADS = 2;
const here = path.dirname(fileURLToPath(import.meta.url));
const sharedModel = (f: string) => path.resolve(here, '..', '..', 'shared', 'models', f);

const name = process.argv[2] ?? 'vgg16';
const runs = Number(process.argv[3] ?? 5);
const methodsArg = process.argv.indexOf('--methods');
const only = methodsArg > 0 ? process.argv[methodsArg + 1]!.split(',').map((s) => s.trim()) : null;

/** The zB bounds of ImageNet-normalized input (black and white pixels), per channel. */
const IMAGENET_BOX = pixelBounds(resolvePreprocess('imagenet'));

interface BenchRow {
  label: string;
  method: ExplainMethodName;
  params?: MethodParams;
}

const ROWS: BenchRow[] = [
  { label: 'gradient', method: 'gradient' },
  { label: 'gradient-x-input', method: 'gradient-x-input' },
  { label: 'deconvnet', method: 'deconvnet' },
  { label: 'guided-backprop', method: 'guided-backprop' },
  { label: 'lrp-epsilon', method: 'lrp-epsilon', params: { epsilon: 1e-6 } },
  { label: 'lrp-zplus', method: 'lrp-zplus' },
  { label: 'lrp-alphabeta α2β1', method: 'lrp-alphabeta', params: { alpha: 2, beta: 1 } },
  { label: 'lrp gu2018', method: 'lrp', params: { composite: 'gu2018', box: IMAGENET_BOX } },
  { label: 'clrp2 gu2018', method: 'clrp2', params: { composite: 'gu2018', box: IMAGENET_BOX } },
  { label: 'lrp epsilon-plus-flat', method: 'lrp', params: { composite: 'epsilon-plus-flat', epsilon: 1e-6 } },
  { label: 'lrp epsilon-gamma-box', method: 'lrp', params: { composite: 'epsilon-gamma-box', epsilon: 1e-6, box: IMAGENET_BOX } },
  // Layer methods at their default layer (the last spatial one): the backward pass stops there.
  { label: 'gradcam', method: 'gradcam' },
  { label: 'normgrad', method: 'normgrad' },
];
const rowsToRun = only ? ROWS.filter((r) => only.includes(r.label) || only.includes(r.method)) : ROWS;
if (only && rowsToRun.length === 0) throw new Error(`--methods ${only.join(',')}: no row matches (rows: ${ROWS.map((r) => r.label).join(', ')})`);

const TORCHVISION = ['efficientnet_b0', 'convnext_tiny', 'vit_b_16'];

/** A torchvision model's ONNX file, exported on first use; undefined where python3-torch is missing. */
function torchvisionModel(model: string): Uint8Array | undefined {
  const dir = path.join(here, 'results', 'models');
  const file = path.join(dir, `${model}.onnx`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const r = spawnSync('/usr/bin/python3', [path.join(here, 'export_torchvision.py'), model, file], { encoding: 'utf8' });
    if (r.status !== 0) return undefined;
  }
  return readFileSync(file);
}

function load(): { bytes: Uint8Array; dims: number[] } | undefined {
  if (name === 'vgg16') return { bytes: buildModel({ model: 'vgg16', seed: 0 }), dims: [1, 3, 224, 224] };
  if (TORCHVISION.includes(name)) {
    const bytes = torchvisionModel(name);
    return bytes && { bytes, dims: [1, 3, 224, 224] };
  }
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

/**
 * An explanation's time and its ratio to the forward time, measured in alternation (forward,
 * explain, forward, explain, …) so that both see the same machine: on a shared machine the speed
 * drifts by ±20 % within a minute, and ratios of medians measured minutes apart swung with it.
 * `runs` pairs at least, more for fast models (until about a second of explaining).
 */
async function timePaired(explainOnce: () => Promise<unknown>): Promise<{ ms: number; ratio: number }> {
  await explainOnce();
  const ms: number[] = [];
  const ratios: number[] = [];
  for (let i = 0, spent = 0; i < runs || (spent < 1000 && i < 200); i++) {
    let t0 = performance.now();
    await fwd.run(feeds);
    const f = performance.now() - t0;
    t0 = performance.now();
    await explainOnce();
    const e = performance.now() - t0;
    forwardSamples.push(f);
    ms.push(e);
    ratios.push(e / f);
    spent += e;
  }
  return { ms: median(ms), ratio: median(ratios) };
}

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
  console.log(JSON.stringify({ model: name, skipped: TORCHVISION.includes(name) ? 'python3-torch missing (apt-get install python3-torch python3-torchvision python3-onnx)' : 'model file not found (../shared absent)' }));
  process.exit(0);
}
const n = model.dims.reduce((a, b) => a * b, 1);
const data = new Float32Array(n).map((_, i) => Math.sin(i * 0.013) + 0.5 * Math.cos(i * 0.0007));
const x = { data, dims: model.dims };

// The same session options as the Explainer's.
const fwd = await ort.InferenceSession.create(model.bytes, sessionOptions({ threads: THREADS }));
const feeds = { [fwd.inputNames[0]!]: new ort.Tensor('float32', data, model.dims) };
const forwardSamples: number[] = [];
await timeIt(() => fwd.run(feeds)); // warm-up

const ex = await Explainer.load(model.bytes, { threads: THREADS });
const explain = (method: ExplainMethodName, target: Target, params?: MethodParams) => ex.explain(x, { method, target, reductions: [], params });
type RowResult = { method: ExplainMethodName; ms: number; ratio: number; compileMs: number } | { method: ExplainMethodName; error: string };
const rows: Record<string, RowResult> = {};
let clrp: { lrpMs: number; lrpTwoTargetsMs: number; clrp2Ms: number } | undefined;
for (const row of rowsToRun) {
  let first;
  try {
    first = await explain(row.method, 'max', row.params);
  } catch (e) {
    // A row that cannot run (e.g. a compiled graph over onnxruntime's 2 GB model limit) is reported, not fatal.
    rows[row.label] = { method: row.method, error: (e instanceof Error ? e.message : String(e)).split('\n')[0]! };
    process.stderr.write(`${name} ${row.label}: ${rows[row.label]!.method} failed: ${(rows[row.label] as { error: string }).error}\n`);
    await ex.release();
    continue;
  }
  const { ms, ratio } = await timePaired(() => explain(row.method, 'max', row.params));
  rows[row.label] = { method: row.method, ms, ratio, compileMs: first.timings.compileMs };
  if (row.label === 'lrp gu2018' && rowsToRun.some((r) => r.label === 'clrp2 gu2018')) {
    // The backward batch of CLRP holds the target and its dual: the same size as two LRP targets.
    const lrpTwoTargetsMs = await timeIt(() => explain('lrp', ['max', 1], row.params));
    clrp = { lrpMs: ms, lrpTwoTargetsMs, clrp2Ms: NaN };
  }
  if (row.label === 'clrp2 gu2018' && clrp) clrp.clrp2Ms = ms;
  await ex.release(); // peak RSS then reflects one compiled method at a time
}
const eight = [0, 1, 2, 3, 4, 5, 6, 7];
const oneRunMs = await timeIt(() => explain('gradient', eight));
// Load of the machine at the end (1-minute average; the benchmark itself keeps 2 threads busy).
const loadAvg = (await import('node:os')).loadavg();
const separateMs = await timeIt(async () => {
  for (const t of eight) await explain('gradient', t);
}, 1);
console.log(JSON.stringify({
  model: name,
  dims: model.dims,
  threads: THREADS,
  runs,
  forwardMs: median(forwardSamples.length ? forwardSamples : [await timeIt(() => fwd.run(feeds))]),
  methods: rows,
  clrp,
  eightTargets: { oneRunMs, separateMs, ratio: oneRunMs / separateMs },
  peakRssMiB: process.resourceUsage().maxRSS / 1024,
  loadAvg,
}));
