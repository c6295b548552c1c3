/**
 * `window.__backlight`: the page's state for tests (test/web.e2e.test.ts reads it; the page never
 * reads it back). Types only, so that Node-side tests can import them.
 */
import type { MethodParams, TensorLike } from '../../src/core.js';
import type { BackendInfo, MethodResult } from './protocol.js';

export type Status = 'starting' | 'loading' | 'ready' | 'running' | 'done' | 'error' | 'cancelled';

export interface PageHook {
  /** 'done' after a run; 'ready' when an input is prepared; 'error' with `error` set. */
  status: Status;
  /** The error shown, as text (null when none). */
  error: string | null;
  backend: BackendInfo | null;
  model: string | null;
  /** The model input of the current image, [1, …]. */
  input: TensorLike | null;
  /** The model's scores for that input (before a softmax the explanations leave out). */
  logits: TensorLike | null;
  /** The classes of the last run, in column order. */
  targets: number[];
  /** The last run's methods, in row order, with the parameters they ran with. */
  results: (MethodResult & { params: MethodParams })[];
}

declare global {
  interface Window {
    __backlight: PageHook;
  }
}
