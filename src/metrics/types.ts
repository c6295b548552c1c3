/**
 * Shared shapes of the metrics library. Everything under `src/metrics/` is pure TypeScript: no Node
 * imports and no onnxruntime, so that the same code runs in a browser.
 */

/**
 * One saliency map: `height` rows of `width` values, row-major (`data[y * width + x]`). One map per
 * image and target. Non-negative unless a function says otherwise. Any array of numbers works
 * (a `Float32Array` in practice).
 */
export interface MetricMap {
  data: ArrayLike<number>;
  width: number;
  height: number;
}

/** One input image as a tensor: `dims` is [C, H, W] or [1, C, H, W] (NCHW, one image). */
export interface ImageTensorLike {
  data: Float32Array;
  dims: readonly number[];
}

/** A uniform random number generator on [0, 1) (e.g. `mulberry32(seed)` or `Math.random`). */
export type Rng = () => number;

/** Throws unless `map.data` holds exactly `width × height` values (positive integer sizes). */
export function checkMap(map: MetricMap, what = 'map'): void {
  const { width, height } = map;
  if (!Number.isInteger(width) || !Number.isInteger(height) || width <= 0 || height <= 0) {
    throw new RangeError(`${what}: width and height must be positive integers (got ${width}×${height})`);
  }
  if (map.data.length !== width * height) {
    throw new RangeError(`${what}: expected ${width}×${height} = ${width * height} values, got ${map.data.length}`);
  }
}

/** Throws unless two maps have the same size. */
export function checkSameSize(a: MetricMap, b: MetricMap, what = 'maps'): void {
  checkMap(a, what);
  checkMap(b, what);
  if (a.width !== b.width || a.height !== b.height) {
    throw new RangeError(`${what}: sizes differ (${a.width}×${a.height} vs ${b.width}×${b.height})`);
  }
}

/** [C, H, W] of one image tensor ([C, H, W] or [1, C, H, W]), checked against its data length. */
export function imageShape(input: ImageTensorLike, what = 'input'): { channels: number; height: number; width: number } {
  const d = input.dims;
  let c: number, h: number, w: number;
  if (d.length === 3) [c, h, w] = d as [number, number, number];
  else if (d.length === 4 && d[0] === 1) [, c, h, w] = d as [number, number, number, number];
  else throw new RangeError(`${what}: dims must be [C, H, W] or [1, C, H, W], got [${d.join(', ')}]`);
  if (input.data.length !== c * h * w) {
    throw new RangeError(`${what}: dims [${d.join(', ')}] need ${c * h * w} values, got ${input.data.length}`);
  }
  return { channels: c, height: h, width: w };
}
