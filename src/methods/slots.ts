/**
 * The slots of a result [N, K, …]: image n, target slot k, sliced by `slotAt` (src/ir/slots.ts);
 * `Explanation`s carry it as accessors (`attributionAt`, `mapAt`, `slotOf`).
 */
import type { Reduction } from '../compile/compile.js';
import { slotAt } from '../ir/slots.js';

export { slotAt };

/** A dense float32 tensor (structurally `TensorLike`). */
type Dense = { data: Float32Array; dims: readonly number[] };

/** Target slot k of every image of a tensor [N, K, …], as [N, …] (a copy). */
export function slotOfAll(t: Dense, k: number): Float32Array {
  const n = t.dims[0]!;
  const first = slotAt(t, 0, k);
  const out = new Float32Array(n * first.length);
  for (let i = 0; i < n; i++) out.set(slotAt(t, i, k), i * first.length);
  return out;
}

/** The accessors every `Explanation` has. */
export interface SlotAccessors {
  /** The attribution of image n, target slot k (a view of `attribution`). */
  attributionAt(n: number, k: number): Float32Array;
  /** The map of image n, target slot k (a view of `maps[reduction]`); throws when it was not computed. */
  mapAt(reduction: Reduction, n: number, k: number): Float32Array;
  /** The attribution of target slot k for every image, [N, …] (a copy). */
  slotOf(k: number): Float32Array;
}

/**
 * Adds the slot accessors to a result, as non-enumerable properties: they do not show in JSON, in
 * equality checks or in messages posted to a worker.
 */
export function withSlots<T extends { attribution: Dense; maps: Partial<Record<Reduction, Dense>> }>(r: T): T & SlotAccessors {
  const accessors: SlotAccessors = {
    attributionAt: (n, k) => slotAt(r.attribution, n, k),
    mapAt: (reduction, n, k) => {
      const t = r.maps[reduction];
      if (!t) throw new Error(`the explanation has no '${reduction}' map (reductions: ${Object.keys(r.maps).join(', ') || 'none'})`);
      return slotAt(t, n, k);
    },
    slotOf: (k) => slotOfAll(r.attribution, k),
  };
  for (const [name, f] of Object.entries(accessors)) Object.defineProperty(r, name, { value: f, enumerable: false });
  return r as T & SlotAccessors;
}
