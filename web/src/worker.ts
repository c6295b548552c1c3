/**
 * The explanation worker: holds the model (Backlight's Explainer on onnxruntime-web) and runs
 * compile + session.run off the page's thread, so the page stays responsive and a run can be
 * cancelled by ending the worker (engine.ts). Calls are handled one at a time, in order.
 */
import { Explainer, isFrameworkMethod, ortEnv, type TensorLike } from '../../src/web.js';
import { oneLine } from '../../src/errors.js';
import type { BackendInfo, CallMessage, CallName, Calls, ErrorInfo, MethodResult, Progress, WorkerMessage } from './protocol.js';

interface WorkerScope {
  postMessage(message: WorkerMessage): void;
  onmessage: ((event: MessageEvent<CallMessage>) => void) | null;
  crossOriginIsolated: boolean;
}
const scope = self as unknown as WorkerScope;

type Model = Awaited<ReturnType<typeof Explainer.load>>;
let model: Model | null = null;
/** The model file, kept to load it again on wasm when WebGPU cannot run its graphs. */
let file: { bytes: Uint8Array; name: string } | null = null;
let backend: BackendInfo = { providers: ['wasm'], webgpu: false, threads: 1, simd: false, crossOriginIsolated: false };

/** A module with one function returning a v128 constant: valid only where wasm SIMD is. */
const SIMD_PROBE = new Uint8Array([0, 97, 115, 109, 1, 0, 0, 0, 1, 5, 1, 96, 0, 1, 123, 3, 2, 1, 0, 10, 10, 1, 8, 0, 65, 0, 253, 15, 253, 98, 11]);

interface GpuNavigator {
  gpu?: { requestAdapter(): Promise<unknown> };
}

function need(): Model {
  if (!model) throw new Error('no model loaded');
  return model;
}

/**
 * Runs `f` on the model; when it fails on WebGPU with anything but a user error, the model goes to
 * wasm and `f` runs again. (onnxruntime's WebGPU MaxPool, for one, has no Indices output: on
 * WebGPU the compiler finds the switches of pools that tile their input with ArgMax, and other
 * pools still need the Indices output.)
 */
async function onModel<T>(f: (m: Model) => Promise<T>): Promise<T> {
  try {
    return await f(need());
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e));
    if (!backend.providers.includes('webgpu') || err.name === 'BacklightError' || !file) throw e;
    backend = { ...backend, providers: ['wasm'], fallback: `WebGPU could not run this model's graphs: ${oneLine(err.message)}` };
    const old = model;
    model = null;
    await old?.release();
    model = await Explainer.load(file.bytes, { source: file.name, executionProviders: backend.providers });
    return f(model);
  }
}

/** A copy that owns its buffer (onnxruntime's outputs may be views). */
const own = (t: TensorLike): TensorLike => ({ data: t.data.slice(), dims: [...t.dims] });

type Handler<K extends CallName> = (args: Calls[K]['args'], progress: (p: Progress) => void) => Promise<Calls[K]['result']>;

const handlers: { [K in CallName]: Handler<K> } = {
  async init({ wasmPaths, backend: choice }) {
    ortEnv.wasm.wasmPaths = wasmPaths;
    const isolated = scope.crossOriginIsolated === true;
    // Threads need SharedArrayBuffer, which only a cross-origin isolated page has.
    const threads = isolated ? Math.max(1, Math.min(4, navigator.hardwareConcurrency || 1)) : 1;
    ortEnv.wasm.numThreads = threads;
    let webgpu = false;
    try {
      const gpu = (navigator as Navigator & GpuNavigator).gpu;
      webgpu = !!(gpu && (await gpu.requestAdapter()));
    } catch {
      webgpu = false;
    }
    backend = {
      providers: choice === 'auto' && webgpu ? ['webgpu', 'wasm'] : ['wasm'],
      webgpu,
      threads,
      simd: WebAssembly.validate(SIMD_PROBE),
      crossOriginIsolated: isolated,
    };
    return backend;
  },

  async load({ bytes, name }) {
    const old = model;
    model = null;
    file = null;
    await old?.release();
    // Each model gets WebGPU again (when chosen), whatever the previous one could not run.
    if (backend.fallback) backend = { ...backend, providers: ['webgpu', 'wasm'], fallback: undefined };
    const m = await Explainer.load(new Uint8Array(bytes), { source: name, executionProviders: backend.providers });
    model = m;
    file = { bytes: new Uint8Array(bytes), name };
    return { name, inputName: m.inputName, inputShape: m.inputShape };
  },

  async layers({ dims }) {
    const m = need();
    const layers = m.layers(dims);
    let defaultLayer: string | null = null;
    try {
      defaultLayer = m.defaultLayer(dims);
    } catch {
      defaultLayer = null; // no spatial layer: the layer methods cannot run on this model
    }
    return { layers, defaultLayer };
  },

  async predict({ input }) {
    const logits = await onModel((m) => m.predict(input));
    return { logits: own(logits), backend };
  },

  async explain({ input, targets, jobs }, progress) {
    const results: MethodResult[] = [];
    for (const [i, job] of jobs.entries()) {
      const label = `${job.method} (${i + 1}/${jobs.length})`;
      progress({ done: i, total: jobs.length, label });
      const layer = job.layer && isFrameworkMethod(job.method) ? { layer: job.layer } : {};
      const r = await onModel((m) => m.explain(input, { method: job.method, target: targets, params: job.params, reductions: [], ...layer }));
      const result: MethodResult = { method: job.method, targets: r.targets[0]!, attribution: own(r.attribution), timings: r.timings };
      results.push(result);
      progress({ done: i + 1, total: jobs.length, label, result });
    }
    return { count: results.length, backend };
  },
};

function errorInfo(e: unknown): ErrorInfo {
  const err = e instanceof Error ? e : new Error(String(e));
  return { name: err.name, message: err.message };
}

let queue: Promise<void> = Promise.resolve();

scope.onmessage = (event) => {
  const { id, call, args } = event.data;
  queue = queue.then(async () => {
    try {
      const handler = handlers[call] as Handler<CallName>;
      const result = await handler(args, (progress) => scope.postMessage({ id, kind: 'progress', progress }));
      scope.postMessage({ id, kind: 'result', result });
    } catch (e) {
      scope.postMessage({ id, kind: 'error', error: errorInfo(e) });
    }
  });
};
