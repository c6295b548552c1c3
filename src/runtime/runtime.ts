/**
 * The runtime layer: creates onnxruntime sessions for compiled graphs and runs forward-only
 * graphs. It takes the onnxruntime module as a value (onnxruntime-node or onnxruntime-web share
 * onnxruntime-common's API), so the core never imports a platform package. Every session is
 * created with `sessionOptions`, the one thread policy (history: docs/design/session-threads.md).
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';
import { BacklightError } from '../errors.js';
import type { Graph } from '../ir/graph.js';
import { encodeModel } from '../onnx/encode.js';

export interface OrtModule {
  InferenceSession: { create(model: Uint8Array, options?: InferenceSession.SessionOptions): Promise<InferenceSession> };
  Tensor: typeof Tensor;
}

export interface RuntimeOptions {
  /** Threads per session (onnxruntime's intra-op threads); default: onnxruntime's choice. */
  threads?: number;
  /** Execution providers in order of preference, e.g. ['cuda', 'cpu'] or ['webgpu', 'wasm']. */
  executionProviders?: string[];
  /** Write onnxruntime's per-node profile (a JSON trace) for each session. */
  profile?: boolean;
}

export type Feeds = Record<string, Tensor>;

/**
 * Above this many nodes a session plans no memory pattern: onnxruntime's planning of one is
 * super-linear in the number of tensors alive at once, and a deep explanation graph keeps every
 * forward tensor alive for its backward pass (a 40,000-node graph: first run 3.5 s with the
 * pattern, 0.16 s without; docs/design/compile-time.md). Smaller graphs keep onnxruntime's default.
 */
export const MEMORY_PATTERN_MAX_NODES = 20_000;

/** What the runtime knows of a graph it creates a session for. */
export interface GraphFacts {
  /** Number of nodes. */
  nodes?: number;
}

/** The most threads a session may ask for: onnxruntime allocates per thread, and 10^9 aborts it (std::bad_alloc). */
export const MAX_THREADS = 1024;

/** The session options of every session Backlight creates. */
export function sessionOptions(o: RuntimeOptions, graph: GraphFacts = {}): InferenceSession.SessionOptions {
  if (o.threads !== undefined && !(Number.isSafeInteger(o.threads) && o.threads >= 1 && o.threads <= MAX_THREADS)) {
    throw new BacklightError(`threads must be an integer from 1 to ${MAX_THREADS} (got ${o.threads})`, 'usage');
  }
  return {
    graphOptimizationLevel: 'all',
    ...((graph.nodes ?? 0) > MEMORY_PATTERN_MAX_NODES ? { enableMemPattern: false } : {}),
    logSeverityLevel: 3,
    ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
    ...(o.executionProviders ? { executionProviders: o.executionProviders } : {}),
    ...(o.profile ? { enableProfiling: true } : {}),
    // Workers spin during a run (a backward pass has hundreds of small ops) and stop when it ends,
    // so an idle session's threads do not steal the cores of the one running.
    extra: { session: { force_spinning_stop: '1' } },
  };
}

export class Runtime {
  /** Sessions of forward-only graphs, by graph. */
  private readonly forwardSessions = new Map<Graph, Promise<InferenceSession>>();

  constructor(
    readonly ort: OrtModule,
    readonly options: RuntimeOptions = {},
  ) {}

  createSession(model: Uint8Array, graph: GraphFacts = {}): Promise<InferenceSession> {
    return this.ort.InferenceSession.create(model, sessionOptions(this.options, graph));
  }

  tensor(type: 'float32', data: Float32Array, dims: readonly number[]): Tensor {
    return new this.ort.Tensor(type, data, dims);
  }

  /**
   * Runs a one-input, one-output float32 graph (a canonical forward graph) on `input` and returns
   * its output (both dense row-major tensors, as TensorLike); the session is created on the first
   * call for that graph object and kept.
   */
  async forward(graph: Graph, input: { data: Float32Array; dims: readonly number[] }): Promise<{ data: Float32Array; dims: number[] }> {
    let session = this.forwardSessions.get(graph);
    if (!session) {
      session = this.createSession(encodeModel(graph), { nodes: graph.nodes.length });
      this.forwardSessions.set(graph, session);
      session.catch(() => this.forwardSessions.delete(graph));
    }
    const s = await session;
    const out = await s.run({ [graph.inputs[0]!.name]: this.tensor('float32', input.data, input.dims) });
    const t = out[graph.outputs[0]!.name]!;
    return { data: t.data as Float32Array, dims: [...t.dims] };
  }

  /** Releases the forward sessions (they are recreated on demand). */
  async release(): Promise<void> {
    const sessions = [...this.forwardSessions.values()];
    this.forwardSessions.clear();
    for (const s of sessions) await s.then((x) => x.release()).catch(() => undefined);
  }
}
