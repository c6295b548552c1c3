/**
 * Per-op and per-node time of a compiled explanation graph, from onnxruntime's profiler:
 *   npx tsx bench/profile.ts <model.onnx | vgg16> <method> [runs]
 * Use it to find the expensive parts of an emitted backward pass (layout reorders, masks, …).
 */
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import * as ort from 'onnxruntime-node';
import { buildModel } from '../src/builder/index.js';
import { Explainer, type MethodName } from '../src/index.js';

const [model = 'vgg16', method = 'gradient', runsArg = '6'] = process.argv.slice(2);
const runs = Number(runsArg);
const bytes = model === 'vgg16' ? buildModel({ model: 'vgg16', seed: 0 }) : readFileSync(model);
const ex = await Explainer.load(bytes);
const dims = ex.inputShape.map((d) => (typeof d === 'number' ? d : 1));
const dir = mkdtempSync(path.join(tmpdir(), 'backlight-profile-'));
const session = await ort.InferenceSession.create(ex.compileToOnnx(dims, { method: method as MethodName, target: 'max', reductions: [] }), {
  intraOpNumThreads: 2, interOpNumThreads: 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
  enableProfiling: true, profileFilePrefix: path.join(dir, 'profile'),
});
const x = new ort.Tensor('float32', new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i * 0.01)), dims);
for (let i = 0; i < runs; i++) await session.run({ input: x });
await (session as unknown as { endProfiling(): Promise<void> }).endProfiling();
const file = readdirSync(dir).find((f) => f.startsWith('profile'))!;
const events = JSON.parse(readFileSync(path.join(dir, file), 'utf8')) as { cat: string; name: string; dur: number; args: { op_name?: string } }[];
rmSync(dir, { recursive: true });
const byOp = new Map<string, number>();
const byNode = new Map<string, number>();
for (const e of events) {
  if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time')) continue;
  const op = e.args.op_name ?? '?';
  byOp.set(op, (byOp.get(op) ?? 0) + e.dur / 1000 / runs);
  const node = `${e.name.replace(/_kernel_time$/, '')} (${op})`;
  byNode.set(node, (byNode.get(node) ?? 0) + e.dur / 1000 / runs);
}
const show = (m: Map<string, number>, n: number) => [...m].sort((a, b) => b[1] - a[1]).slice(0, n).map(([k, v]) => `  ${v.toFixed(2).padStart(8)} ms  ${k}`).join('\n');
console.log(`${model}, ${method}: ms per run by op type (first run included)\n${show(byOp, 20)}\nslowest nodes\n${show(byNode, 15)}`);
