/**
 * The runtime layer: creates onnxruntime sessions for compiled graphs. It takes the onnxruntime
 * module as a value (onnxruntime-node or onnxruntime-web share onnxruntime-common's API), so the
 * core never imports a platform package.
 */
import type { InferenceSession, Tensor } from 'onnxruntime-common';

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

export class Runtime {
  constructor(
    readonly ort: OrtModule,
    readonly options: RuntimeOptions = {},
  ) {}

  createSession(model: Uint8Array): Promise<InferenceSession> {
    const o = this.options;
    return this.ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      logSeverityLevel: 3,
      ...(o.threads ? { intraOpNumThreads: o.threads, interOpNumThreads: 1 } : {}),
      ...(o.executionProviders ? { executionProviders: o.executionProviders } : {}),
      ...(o.profile ? { enableProfiling: true } : {}),
      // Worker threads spin-wait for work during a run (a compiled backward pass has hundreds of
      // small ops, and waking a sleeping worker for each is slow), and stop spinning when the run
      // ends, since an Explainer keeps several sessions and an idle one's spinning threads would
      // steal the cores of the one running. Design history: docs/design/session-threads.md
      extra: { session: { force_spinning_stop: '1' } },
    });
  }

  tensor(type: 'float32', data: Float32Array, dims: readonly number[]): Tensor {
    return new this.ort.Tensor(type, data, dims);
  }
}
