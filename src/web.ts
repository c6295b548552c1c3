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
import { Explainer as CoreExplainer, type ExplainerOptions } from './methods/explainer.js';
import type { OrtModule } from './runtime/runtime.js';

export class Explainer extends CoreExplainer {
  /** Loads an ONNX model from its bytes, running on onnxruntime-web. */
  static async load(model: Uint8Array | ArrayBuffer, options: ExplainerOptions = {}): Promise<CoreExplainer> {
    const bytes = model instanceof Uint8Array ? model : new Uint8Array(model);
    return CoreExplainer.create(bytes, ort as unknown as OrtModule, { ...options, source: options.source ?? 'model' });
  }
}

/** onnxruntime-web's settings (wasm file location, threads, SIMD, WebGPU). */
export const ortEnv = ort.env;

export * from './core.js';
export { loadImage, decodeBlob, type WebImageInput } from './io/loadImageWeb.js';
