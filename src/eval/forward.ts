/**
 * Forward passes for perturbation metrics: the model's canonical graph (the graph the explainer
 * compiles from, with a trailing softmax removed, so its logits are the explained ones) run on its
 * own onnxruntime session, without any backward pass. Inputs are run in chunks of `chunk` images
 * (1 for a model whose batch is fixed to 1); one session per chunk size, kept.
 */
import type { InferenceSession } from 'onnxruntime-common';
import * as ort from 'onnxruntime-node';
import type { Explainer } from '../methods/explainer.js';
import { encodeModel } from '../onnx/encode.js';

export class Forward {
  private readonly sessions = new Map<number, Promise<{ session: InferenceSession; input: string; output: string }>>();
  readonly chunk: number;
  private readonly perImage: number[];

  constructor(
    private readonly explainer: Explainer,
    /** Shape of one image, without the batch axis. */
    imageDims: readonly number[],
    chunk: number,
    private readonly threads?: number,
  ) {
    this.perImage = [...imageDims];
    this.chunk = explainer.inputShape[0] === 1 ? 1 : Math.max(1, chunk);
  }

  private sessionFor(n: number): Promise<{ session: InferenceSession; input: string; output: string }> {
    let s = this.sessions.get(n);
    if (!s) {
      s = (async () => {
        const { graph } = this.explainer.canonical([n, ...this.perImage]);
        const session = await ort.InferenceSession.create(encodeModel(graph), {
          graphOptimizationLevel: 'all',
          logSeverityLevel: 3,
          ...(this.threads ? { intraOpNumThreads: this.threads, interOpNumThreads: 1 } : {}),
          extra: { session: { intra_op: { allow_spinning: '0' }, inter_op: { allow_spinning: '0' } } },
        });
        return { session, input: graph.inputs[0]!.name, output: graph.outputs[0]!.name };
      })();
      this.sessions.set(n, s);
    }
    return s;
  }

  /** Logits of `n` stacked images ([n, classes], row-major). */
  async logits(data: Float32Array, n: number): Promise<{ data: Float32Array; classes: number }> {
    const size = this.perImage.reduce((a, b) => a * b, 1);
    if (data.length !== n * size) throw new Error(`Forward.logits: ${n} images need ${n * size} values, got ${data.length}`);
    const parts: Float32Array[] = [];
    let classes = 0;
    for (let start = 0; start < n; start += this.chunk) {
      const m = Math.min(this.chunk, n - start);
      const { session, input, output } = await this.sessionFor(m);
      const feed = new ort.Tensor('float32', data.subarray(start * size, (start + m) * size), [m, ...this.perImage]);
      const out = await session.run({ [input]: feed });
      const t = out[output]!;
      classes = Number(t.dims[1]);
      parts.push(Float32Array.from(t.data as Float32Array));
    }
    const all = new Float32Array(n * classes);
    let o = 0;
    for (const p of parts) {
      all.set(p, o);
      o += p.length;
    }
    return { data: all, classes };
  }

  async release(): Promise<void> {
    for (const s of this.sessions.values()) await s.then((x) => x.session.release()).catch(() => undefined);
    this.sessions.clear();
  }
}

/** Softmax probability of class `c` in row `i` of [n, classes] logits (numerically stable). */
export function softmaxAt(logits: Float32Array, classes: number, i: number, c: number): number {
  let max = -Infinity;
  for (let j = 0; j < classes; j++) max = Math.max(max, logits[i * classes + j]!);
  let sum = 0;
  for (let j = 0; j < classes; j++) sum += Math.exp(logits[i * classes + j]! - max);
  return Math.exp(logits[i * classes + c]! - max) / sum;
}

/** Index of the largest logit of row i. */
export function argmaxRow(logits: Float32Array, classes: number, i: number): number {
  let best = 0;
  for (let j = 1; j < classes; j++) if (logits[i * classes + j]! > logits[i * classes + best]!) best = j;
  return best;
}
