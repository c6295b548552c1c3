/**
 * Compile time against graph size: each phase of an explanation (import, canonicalize, compile,
 * serialize, onnxruntime session creation, one run) for chains of ReLUs and wide DAGs, so that a
 * super-linear step shows as a growing time per 1,000 nodes. See docs/design/compile-time.md.
 *   npx tsx bench/compileScaling.ts [--sizes 2000,20000,100000] [--wide 1000,10000] [--method gradient]
 *       [--ort-max 20000] [--json out.json]
 * `--ort-max`: larger graphs skip session creation and the run (the compile phases still run).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { canonicalize } from '../src/canonicalize/index.js';
import { checkSupported, compile } from '../src/compile/compile.js';
import { methodByName, type MethodName } from '../src/methods/methods.js';
import { extractionOptions } from '../src/methods/framework.js';
import { decodeModel } from '../src/onnx/decode.js';
import { encodeModel } from '../src/onnx/encode.js';
import { sessionOptions } from '../src/runtime/runtime.js';
import { chainModel, wideModel } from './scalingModels.js';

const { values } = parseArgs({
  options: {
    sizes: { type: 'string', default: '2000,4000,20000,100000' },
    wide: { type: 'string', default: '1000,10000,50000' },
    method: { type: 'string', default: 'gradient' },
    'ort-max': { type: 'string', default: '100000' },
    json: { type: 'string' },
  },
});
const list = (s: string): number[] => (s ? s.split(',').map(Number) : []);
const ortMax = Number(values['ort-max']);
const method = values.method as MethodName;

interface Row {
  graph: string;
  /** Nodes of the imported model and of the compiled graph. */
  modelNodes: number;
  compiledNodes: number;
  /** Wall-clock ms per phase, and CPU ms of this process (all threads; less sensitive to other load). */
  ms: Record<string, number>;
  cpuMs: Record<string, number>;
}

async function measure(graph: string, bytes: Uint8Array): Promise<Row> {
  const ms: Record<string, number> = {};
  const cpuMs: Record<string, number> = {};
  let t = performance.now();
  let cpu = process.cpuUsage();
  const lap = (phase: string): void => {
    const now = performance.now();
    const used = process.cpuUsage(cpu);
    ms[phase] = now - t;
    cpuMs[phase] = (used.user + used.system) / 1000;
    t = now;
    cpu = process.cpuUsage();
  };
  const { graph: model } = decodeModel(bytes, graph);
  checkSupported(model, graph);
  lap('import');
  const dims = model.inputs[0]!.shape.map((d) => (typeof d === 'number' ? d : 1));
  const { graph: canonical } = canonicalize(model, dims);
  lap('canonicalize');
  const compiled = compile(canonical, { ...extractionOptions(methodByName(method), undefined), seeds: { top: 1, given: 0 }, reductions: ['maxabs'] });
  lap('compile');
  const onnxBytes = encodeModel(compiled.graph);
  lap('serialize');
  if (model.nodes.length <= ortMax) {
    const session = await ort.InferenceSession.create(onnxBytes, sessionOptions({ threads: 1 }, { nodes: compiled.graph.nodes.length }));
    lap('session');
    const x = new Float32Array(dims.reduce((a, b) => a * b, 1)).map((_, i) => Math.sin(i + 1));
    await session.run({ input: new ort.Tensor('float32', x, dims) });
    lap('run');
    await session.release();
  }
  return { graph, modelNodes: model.nodes.length, compiledNodes: compiled.graph.nodes.length, ms, cpuMs };
}

const rows: Row[] = [];
const print = (r: Row): void => {
  const total = Object.values(r.ms).reduce((a, b) => a + b, 0);
  const phases = Object.entries(r.ms).map(([k, v]) => `${k} ${v.toFixed(0)} (cpu ${r.cpuMs[k]!.toFixed(0)})`).join(', ');
  const ours = (r.ms.import ?? 0) + (r.ms.canonicalize ?? 0) + (r.ms.compile ?? 0) + (r.ms.serialize ?? 0);
  console.log(`${r.graph.padEnd(14)} ${String(r.modelNodes).padStart(7)} → ${String(r.compiledNodes).padStart(7)} nodes | ${phases} ms | ours ${(ours / (r.modelNodes / 1000)).toFixed(1)} ms/1k nodes, total ${(total / 1000).toFixed(2)} s`);
};
for (const n of list(values.sizes)) {
  const r = await measure(`chain ${n}`, encodeModel(chainModel(n)));
  rows.push(r);
  print(r);
}
for (const n of list(values.wide)) {
  for (const join of ['add', 'concat'] as const) {
    const r = await measure(`wide ${join} ${n}`, encodeModel(wideModel(n, join)));
    rows.push(r);
    print(r);
  }
}
if (values.json) writeFileSync(values.json, JSON.stringify({ method, rows }, null, 1));
