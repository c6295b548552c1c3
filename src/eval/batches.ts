/**
 * Fixed-size batches for explain calls: a compiled explanation graph is specialized to its input
 * shape, so a last, smaller batch would compile every method again. Padding it with copies of its
 * last item keeps one shape (the copies' results are dropped).
 */

/** Batches of `items`; the last one padded with copies of its last item up to `size`. */
export function paddedBatches<T>(items: readonly T[], size: number): { items: T[]; real: number }[] {
  if (!(Number.isInteger(size) && size >= 1)) throw new RangeError(`paddedBatches: size must be a positive integer, got ${size}`);
  const out: { items: T[]; real: number }[] = [];
  for (let i = 0; i < items.length; i += size) {
    const part = items.slice(i, i + size);
    const real = part.length;
    while (part.length < size) part.push(part[real - 1]!);
    out.push({ items: part, real });
  }
  return out;
}

/** The images `parts` (one flat array each) stacked into a batch of `dims` [n, …] (n = parts.length). */
export function stackImages(parts: readonly Float32Array[], dims: readonly number[]): { data: Float32Array; dims: number[] } {
  const per = parts[0]?.length ?? 0;
  const data = new Float32Array(per * parts.length);
  parts.forEach((p, i) => data.set(p, i * per));
  return { data, dims: [parts.length, ...dims.slice(1)] };
}
