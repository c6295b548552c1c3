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

/** A model as dropped files: an ONNX file, or a TF.js model.json with its weight shards (by file name). */
export type ModelFiles = readonly File[] | ReadonlyMap<string, Blob | Uint8Array | ArrayBuffer>;

const bytesOf = async (v: Blob | Uint8Array | ArrayBuffer): Promise<Uint8Array> =>
  v instanceof Uint8Array ? v : v instanceof ArrayBuffer ? new Uint8Array(v) : new Uint8Array(await v.arrayBuffer());

/** Shard names in model.json are paths relative to it; dropped files only have their base names. */
const baseName = (p: string): string => p.slice(p.lastIndexOf('/') + 1);

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
    if (model instanceof Uint8Array || model instanceof ArrayBuffer) return create(await bytesOf(model), { ...options, source: options.source ?? 'model' });
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
    const files = model instanceof Map ? [...(model as ReadonlyMap<string, Blob | Uint8Array | ArrayBuffer>)] : (model as readonly File[]).map((f) => [f.name, f] as const);
    const jsons = files.filter(([name]) => name.toLowerCase().endsWith('.json'));
    const onnx = files.filter(([name]) => name.toLowerCase().endsWith('.onnx'));
    const main = jsons.length === 1 ? jsons[0]! : onnx.length === 1 && jsons.length === 0 ? onnx[0]! : files.length === 1 ? files[0]! : undefined;
    if (!main) {
      throw new BacklightError(`the dropped files hold ${jsons.length} .json and ${onnx.length} .onnx files; give one .onnx model, or one TF.js model.json with its weight shards`);
    }
    const byName = new Map(files.map(([name, v]) => [baseName(name), v]));
    const source = options.source ?? main[0];
    const shards = async (name: string): Promise<Uint8Array> => {
      const f = byName.get(baseName(name));
      if (!f) throw new BacklightError(`${escapeControl(source)}: weight shard '${escapeControl(name)}' is not among the dropped files; drop model.json together with all its shards`);
      return bytesOf(f);
    };
    return create(await bytesOf(main[1]), { shards, ...options, source });
  }
}

/** onnxruntime-web's settings (wasm file location, threads, SIMD, WebGPU). */
export const ortEnv = ort.env;

export * from './core.js';
export { loadImage, decodeBlob, type WebImageInput } from './io/loadImageWeb.js';
