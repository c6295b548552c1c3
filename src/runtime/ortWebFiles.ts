/**
 * Where onnxruntime-web's wasm runtime lies in a bundled app. onnxruntime-web's default build
 * inlines its runtime script into the app's bundle, and its threads start as workers running
 * that script's URL: in a bundle, the app's own chunk, which touches `document` and throws in a
 * worker ("document is not defined"), so a multi-threaded `explain` never returns. Naming the
 * separate runtime files with `new URL('<package>/<file>', import.meta.url)` lets the bundler (Vite,
 * webpack) copy them and rewrite the URLs; with `ort.env.wasm.wasmPaths` set to them, the runtime
 * and its thread workers load from that file instead. Measured in docs/design/packaging.md.
 */

/** The runtime files (wasm + WebGPU) of onnxruntime-web's default entry. */
export interface OrtWebFiles {
  mjs: string;
  wasm: string;
}

/**
 * The runtime files' URLs when a bundler rewrote them, else undefined: unbundled (a page importing
 * the package's files as they are, or Node), the URLs would point next to this file, where nothing
 * is, and onnxruntime-web's own default (next to its script) is right.
 */
export function bundledOrtWebFiles(): OrtWebFiles | undefined {
  const mjs = new URL('onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs', import.meta.url);
  const wasm = new URL('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm', import.meta.url);
  // What the URLs are when left alone, built from strings so that no bundler sees a request in it
  // (webpack turns `new URL(<expression>, import.meta.url)` into a failing module context).
  const here = import.meta.url;
  const unresolved = `${here.slice(0, here.lastIndexOf('/') + 1)}onnxruntime-web/`;
  if (mjs.href.startsWith(unresolved) || wasm.href.startsWith(unresolved)) return undefined;
  return { mjs: mjs.href, wasm: wasm.href };
}
