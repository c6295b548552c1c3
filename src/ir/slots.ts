/**
 * The one slicer of the result layout [N, K, …] (image n, target slot k): `Explanation`s use it
 * through their accessors (src/methods/slots.ts), and the renderer's `mapAt` for raw map tensors.
 */

/** Image n, target slot k of a tensor [N, K, …] (a view, no copy). */
export function slotAt(t: { data: Float32Array; dims: readonly number[] }, n: number, k: number): Float32Array {
  const kk = t.dims[1]!;
  const per = t.data.length / (t.dims[0]! * kk);
  return t.data.subarray((n * kk + k) * per, (n * kk + k + 1) * per);
}
