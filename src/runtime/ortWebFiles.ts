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
 * The runtime files' URLs when a bundler rewrote them, else undefined. Left alone, the URLs
 * resolve next to this module, `…/onnxruntime-web/ort-wasm-…` where nothing is: unbundled (the
 * package's files served as they are, or Node), or moved into a Vite dev server's pre-bundled
 * dependencies, whose optimizer keeps the specifier relative (measured: a fetch of
 * `…/backlight/dist/runtime/onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs` failed). There
 * onnxruntime-web's own default (next to its script) is right. A resolved URL is an emitted asset
 * (`assets/ort-wasm-simd-threaded.jsep-<hash>.mjs`, `<hash>.mjs`) or the file in
 * onnxruntime-web's `dist/`.
 */
export function bundledOrtWebFiles(): OrtWebFiles | undefined {
  const mjs = new URL('onnxruntime-web/ort-wasm-simd-threaded.jsep.mjs', import.meta.url);
  const wasm = new URL('onnxruntime-web/ort-wasm-simd-threaded.jsep.wasm', import.meta.url);
  const unresolved = (u: URL): boolean => /\/onnxruntime-web\/ort-wasm-simd-threaded\.jsep\.(mjs|wasm)$/.test(u.pathname);
  if (unresolved(mjs) || unresolved(wasm)) return undefined;
  return { mjs: mjs.href, wasm: wasm.href };
}
