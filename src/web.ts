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
 * In an app built by a bundler (Vite, webpack), the runtime's wasm files are found by the bundler
 * and loaded from where it put them, so wasm threads work with no configuration
 * (src/runtime/ortWebFiles.ts); `ortEnv.wasm.wasmPaths` set by the app takes precedence.
 * `ortEnv.wasm.numThreads` sets the threads (they need a cross-origin isolated page: COOP/COEP).
 */
import * as ort from 'onnxruntime-web';
import { Explainer as CoreExplainer, type ExplainerOptions } from './methods/explainer.js';
import { bundledOrtWebFiles } from './runtime/ortWebFiles.js';
import type { OrtModule } from './runtime/runtime.js';

// Set on import, before any session: onnxruntime-web reads it when it first starts the runtime.
const ortFiles = bundledOrtWebFiles();
if (ortFiles && ort.env.wasm.wasmPaths === undefined) ort.env.wasm.wasmPaths = ortFiles;

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
