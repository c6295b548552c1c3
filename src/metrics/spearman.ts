/**
 * Spearman's rank correlation: the Pearson correlation of the ranks, with tied values given the
 * average of the ranks they span (so that it is exact with ties, e.g. the many zeros of a
 * rectified map).
 */

/** Ranks 1…n of `values`, ties sharing the average of their ranks (float64). */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const order = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < n; i++) if (Number.isNaN(values[i]!)) throw new RangeError(`averageRanks: NaN at index ${i}`);
  order.sort((a, b) => values[a]! - values[b]!);
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    let j = i + 1;
    while (j < n && values[order[j]!] === values[order[i]!]) j++;
    // Positions i … j − 1 (ranks i + 1 … j) hold equal values: each gets their mean.
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) ranks[order[k]!] = rank;
    i = j;
  }
  return ranks;
}

/** Pearson's correlation of two equally long series (NaN when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`pearson: lengths differ (${n} vs ${b.length})`);
  if (n === 0) return NaN;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i]!;
    mb += b[i]!;
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = a[i]! - ma;
    const db = b[i]! - mb;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  return saa === 0 || sbb === 0 ? NaN : sab / Math.sqrt(saa * sbb);
}

/**
 * Spearman's ρ of two equally long series, with average ranks for ties. NaN when either series is
 * constant (its ranks have no variance).
 */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`spearman: lengths differ (${a.length} vs ${b.length})`);
  return pearson(averageRanks(a), averageRanks(b));
}
