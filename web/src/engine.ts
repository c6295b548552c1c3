/**
 * The page's side of the explanation worker: typed calls with progress, and cancellation by
 * ending the worker (onnxruntime cannot stop a session.run half-way; a fresh worker can take over
 * at once). After `restart` the model must be loaded again.
 */
import type { BackendChoice, BackendInfo, CallMessage, CallName, Calls, ErrorInfo, Progress, WorkerMessage } from './protocol.js';

/** A call abandoned by `restart` (the user pressed Cancel). */
export class CancelledError extends Error {
  override readonly name = 'CancelledError';
  constructor() {
    super('cancelled');
  }
}

/** An error thrown in the worker, with its original name ('BacklightError' for a user's mistake). */
export class WorkerError extends Error {
  constructor(readonly info: ErrorInfo) {
    super(info.message);
    this.name = info.name;
  }
}

interface Pending {
  resolve(value: unknown): void;
  reject(error: Error): void;
  progress?: (p: Progress) => void;
}

export class Engine {
  private worker!: Worker;
  private nextId = 1;
  private readonly pending = new Map<number, Pending>();
  /** The backend of the current worker. */
  ready!: Promise<BackendInfo>;

  constructor(private readonly options: { wasmPaths?: string; backend: BackendChoice }) {
    this.start();
  }

  call<K extends CallName>(call: K, args: Calls[K]['args'], progress?: (p: Progress) => void, transfer: Transferable[] = []): Promise<Calls[K]['result']> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve: resolve as (v: unknown) => void, reject, progress });
      const message: CallMessage<K> = { id, call, args };
      this.worker.postMessage(message, transfer);
    });
  }

  /** Ends the worker and every call in flight (they reject with CancelledError), then starts a fresh one. */
  restart(backend: BackendChoice = this.options.backend): void {
    this.worker.terminate();
    for (const p of this.pending.values()) p.reject(new CancelledError());
    this.pending.clear();
    this.options.backend = backend;
    this.start();
  }

  private start(): void {
    this.worker = new Worker(new URL('./worker.ts', import.meta.url), { type: 'module', name: 'backlight' });
    this.worker.onmessage = (event: MessageEvent<WorkerMessage>) => {
      const m = event.data;
      const p = this.pending.get(m.id);
      if (!p) return;
      if (m.kind === 'progress') p.progress?.(m.progress);
      else {
        this.pending.delete(m.id);
        if (m.kind === 'result') p.resolve(m.result);
        else p.reject(new WorkerError(m.error));
      }
    };
    this.worker.onerror = (event) => {
      // The worker script itself failed (e.g. the runtime could not load): every call fails.
      const error = new Error(`the explanation worker failed: ${event.message || 'unknown error'}`);
      for (const p of this.pending.values()) p.reject(error);
      this.pending.clear();
    };
    this.ready = this.call('init', { ...(this.options.wasmPaths ? { wasmPaths: this.options.wasmPaths } : {}), backend: this.options.backend });
  }
}
