/**
 * Messages between the page and the explanation worker (worker.ts). The page sends a call with an
 * id; the worker answers with progress messages and then one result or one error for that id.
 */
import type { ExplainMethodName, LayerInfo, MethodParams, TensorLike } from '../../src/core.js';

/** `auto`: WebGPU when the browser offers an adapter, else wasm. */
export type BackendChoice = 'auto' | 'wasm';

/** What runs the graphs, as shown in the page. */
export interface BackendInfo {
  /** The execution providers asked for, in order of preference. */
  providers: string[];
  /** Whether the browser offers a WebGPU adapter. */
  webgpu: boolean;
  /** wasm threads (1 unless the page is cross-origin isolated). */
  threads: number;
  simd: boolean;
  crossOriginIsolated: boolean;
  /** Why WebGPU was given up for this model (the runs went to wasm), if it was. */
  fallback?: string;
}

export interface ModelInfo {
  name: string;
  inputName: string;
  /** Symbolic dimensions are names. */
  inputShape: (number | string)[];
}

export interface ExplainJob {
  method: ExplainMethodName;
  params: MethodParams;
  /** Layer-map methods: the layer (default: the method's own default). */
  layer?: string;
}

/** One method's result for one image: the raw attribution [1, K, …] for the K targets. */
export interface MethodResult {
  method: ExplainMethodName;
  targets: number[];
  attribution: TensorLike;
  timings: { compileMs: number; runMs: number };
}

export interface Calls {
  init: { args: { wasmPaths: string; backend: BackendChoice }; result: BackendInfo };
  load: { args: { bytes: ArrayBuffer; name: string }; result: ModelInfo };
  layers: { args: { dims: number[] }; result: { layers: LayerInfo[]; defaultLayer: string | null } };
  predict: { args: { input: TensorLike }; result: { logits: TensorLike; backend: BackendInfo } };
  /** Results come one method at a time, in progress messages; the call returns how many. */
  explain: { args: { input: TensorLike; targets: number[]; jobs: ExplainJob[] }; result: { count: number; backend: BackendInfo } };
}
export type CallName = keyof Calls;

export interface Progress {
  done: number;
  total: number;
  label: string;
  /** A result that is ready before the call ends (explain: one per method). */
  result?: MethodResult;
}

export interface CallMessage<K extends CallName = CallName> {
  id: number;
  call: K;
  args: Calls[K]['args'];
}

/** An error as the page shows it: BacklightError messages as they are, anything else as a bug. */
export interface ErrorInfo {
  name: string;
  message: string;
}

export type WorkerMessage =
  | { id: number; kind: 'progress'; progress: Progress }
  | { id: number; kind: 'result'; result: unknown }
  | { id: number; kind: 'error'; error: ErrorInfo };
