/** Summary statistics of per-image metric values. */

export interface Summary {
  /** Values counted (finite ones). */
  n: number;
  /** Values skipped because they were NaN or infinite (e.g. a correlation with a constant map). */
  skipped: number;
  mean: number;
  /** Sample standard deviation (n − 1 in the denominator); NaN for n < 2. */
  std: number;
  /** Standard error of the mean, std / √n; NaN for n < 2. */
  sem: number;
  median: number;
  min: number;
  max: number;
}

/** Mean, spread and range of the finite values; NaN fields when there are none. */
export function summarize(values: ArrayLike<number>): Summary {
  const kept: number[] = [];
  for (let i = 0; i < values.length; i++) {
    const v = values[i]!;
    if (Number.isFinite(v)) kept.push(v);
  }
  const n = kept.length;
  const skipped = values.length - n;
  if (n === 0) return { n, skipped, mean: NaN, std: NaN, sem: NaN, median: NaN, min: NaN, max: NaN };
  let sum = 0;
  for (const v of kept) sum += v;
  const mean = sum / n;
  let ss = 0;
  for (const v of kept) ss += (v - mean) ** 2;
  const std = n > 1 ? Math.sqrt(ss / (n - 1)) : NaN;
  kept.sort((a, b) => a - b);
  const median = n % 2 === 1 ? kept[(n - 1) / 2]! : (kept[n / 2 - 1]! + kept[n / 2]!) / 2;
  return { n, skipped, mean, std, sem: n > 1 ? std / Math.sqrt(n) : NaN, median, min: kept[0]!, max: kept[n - 1]! };
}
