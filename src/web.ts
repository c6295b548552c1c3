/**
 * Backlight for browsers: the core library bound to onnxruntime-web (wasm, or WebGPU when asked
 * for with `executionProviders: ['webgpu', 'wasm']`). The same compiled graphs as in Node.
 *
 * ```ts
 * import { Explainer } from 'backlight/web';
 * const ex = await Explainer.load(new Uint8Array(await file.arrayBuffer()), { source: file.name });
 * const r = await ex.explain({ data, dims: [1, 3, 224, 224] }, { method: 'guided-backprop', target: 'max' });
 *
 * // From a photo: the browser decodes, the command line's TypeScript preprocesses (same tensor).
 * const { tensor, plan } = preprocess(await loadImage(file), 'imagenet');
 * topK((await ex.explain(tensor, { method: 'gradient' })).logits, 5, presets.imagenet.classes);
 * ```
 *
 * onnxruntime-web loads its wasm files from `ort.env.wasm.wasmPaths` (default: next to its own
 * script); apps that bundle it set that, and `ort.env.wasm.numThreads`, through `ortEnv`.
 */
import * as ort from 'onnxruntime-web';
import { BacklightError, escapeControl } from './errors.js';
import { Explainer as CoreExplainer, type ExplainerOptions } from './methods/explainer.js';
import type { OrtModule } from './runtime/runtime.js';
import { modelFromFiles, type FileData } from './tfjs/import.js';

/** A model as dropped files: an ONNX file, or a TF.js model.json with its weight shards (by file name). */
export type ModelFiles = readonly File[] | ReadonlyMap<string, FileData>;

export class Explainer extends CoreExplainer {
  /**
   * Loads a model, running on onnxruntime-web: ONNX bytes; a URL (an ONNX file or a TF.js
   * model.json, whose shards are fetched beside it); or dropped files (`File[]` or a name → bytes
   * `Map`): one .onnx file, or one model.json and its weight shards.
   *
   * ```ts
   * const ex = await Explainer.load([...input.files]); // model.json + group1-shard1of1.bin …
   * ```
   */
  static async load(model: Uint8Array | ArrayBuffer | string | ModelFiles, options: ExplainerOptions = {}): Promise<CoreExplainer> {
    const create = (bytes: Uint8Array, o: ExplainerOptions): Promise<CoreExplainer> => CoreExplainer.create(bytes, ort as unknown as OrtModule, o);
    if (model instanceof Uint8Array || model instanceof ArrayBuffer) return create(model instanceof Uint8Array ? model : new Uint8Array(model), { ...options, source: options.source ?? 'model' });
    if (typeof model === 'string') {
      const get = async (url: string, what: string): Promise<Uint8Array> => {
        const r = await fetch(url).catch((e: Error) => {
          throw new BacklightError(`cannot fetch ${what} '${escapeControl(url)}': ${escapeControl(e.message)}`);
        });
        if (!r.ok) throw new BacklightError(`cannot fetch ${what} '${escapeControl(url)}': HTTP ${r.status}`);
        return new Uint8Array(await r.arrayBuffer());
      };
      const base = new URL(model, globalThis.location?.href);
      return create(await get(base.href, 'model'), { shards: (name) => get(new URL(name, base).href, 'weight shard'), ...options, source: options.source ?? model });
    }
    const files = model instanceof Map ? [...(model as ReadonlyMap<string, FileData>)] : (model as readonly File[]).map((f) => [f.name, f] as const);
    const m = await modelFromFiles(files);
    return create(m.bytes, { ...(m.shards ? { shards: m.shards } : {}), ...options, source: options.source ?? m.name });
  }
}

/** onnxruntime-web's settings (wasm file location, threads, SIMD, WebGPU). */
export const ortEnv = ort.env;

export * from './core.js';
export { loadImage, decodeBlob, type WebImageInput } from './io/loadImageWeb.js';
