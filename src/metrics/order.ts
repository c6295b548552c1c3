/**
 * Pixel orderings shared by the energy pointing game and the deletion / insertion curves.
 *
 * `descendingOrder(values)`: the indices sorted by value, largest first; equal values in increasing
 * index order (row-major for a map), so every result is deterministic. Values are compared as
 * float32 (a map's precision); −0 equals +0; NaN is refused.
 *
 * Speed: each float32 value becomes a 32-bit key that sorts like the value; key and index are packed
 * into one exactly representable float64 (key · 2²¹ + index), which the engine's native numeric
 * typed-array sort orders without a comparator callback. Maps above 2²¹ pixels (1448²) fall back to
 * a comparator sort.
 */

const INDEX_BITS = 21;
const INDEX_SPAN = 2 ** INDEX_BITS;

/** Indices of `values` by decreasing value, ties by increasing index. */
export function descendingOrder(values: ArrayLike<number>): Uint32Array {
  const n = values.length;
  const f = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) throw new RangeError(`descendingOrder: NaN at index ${i}`);
    f[i] = v === 0 ? 0 : v; // −0 → +0
  }
  const order = new Uint32Array(n);
  if (n > INDEX_SPAN) {
    for (let i = 0; i < n; i++) order[i] = i;
    order.sort((a, b) => f[b]! - f[a]! || a - b);
    return order;
  }
  const bits = new Uint32Array(f.buffer);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const u = bits[i]!;
    // Monotone map of float32 bits to uint32: negatives flip all bits, non-negatives set the sign bit.
    const mono = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
    // Descending value: complement the key; ascending index breaks ties. ≤ 2⁵³ − 1: exact.
    keys[i] = (0xffffffff - mono) * INDEX_SPAN + i;
  }
  keys.sort();
  for (let i = 0; i < n; i++) order[i] = keys[i]! % INDEX_SPAN;
  return order;
}
