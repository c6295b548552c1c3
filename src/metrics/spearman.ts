/**
 * Spearman's rank correlation: the Pearson correlation of the ranks, with tied values given the
 * average of the ranks they span (so that it is exact with ties, e.g. the many zeros of a
 * rectified map).
 */

/**
 * Ranks 1…n of `values`, ties sharing the average of their ranks (float64); −0 and 0 are equal.
 * Saliency maps are float32 with 50,176 pixels at 224×224 and are ranked several times per image,
 * so the order comes from the typed array's native numeric sort, not from sorting indices with a
 * comparator (about 5× slower): float32 values (up to 2²¹ of them) are sorted as one float64 key
 * each that holds the value's order in its high bits and the index in its low 21 bits; other
 * values are sorted alone and each one's run of equal values is found by binary search.
 */
export function averageRanks(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  let float32 = n <= INDEX_SPAN;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (Number.isNaN(v)) throw new RangeError(`averageRanks: NaN at index ${i}`);
    if (float32 && Math.fround(v) !== v) float32 = false;
  }
  return float32 ? ranksOfFloat32(values) : ranksBySearch(values);
}

const INDEX_SPAN = 2 ** 21;

function ranksOfFloat32(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const f32 = new Float32Array(1);
  const u32 = new Uint32Array(f32.buffer);
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    f32[0] = values[i]! === 0 ? 0 : values[i]!; // −0 as 0
    const u = u32[0]!;
    // IEEE order as unsigned order: negatives reversed (all bits flipped), positives above them.
    const order = u & 0x80000000 ? ~u >>> 0 : (u | 0x80000000) >>> 0;
    keys[i] = order * INDEX_SPAN + i; // < 2⁵³: exact
  }
  keys.sort();
  const ranks = new Float64Array(n);
  let i = 0;
  while (i < n) {
    const order = Math.floor(keys[i]! / INDEX_SPAN);
    let j = i + 1;
    while (j < n && Math.floor(keys[j]! / INDEX_SPAN) === order) j++;
    // Positions i … j − 1 (ranks i + 1 … j) hold equal values: each gets their mean.
    const rank = (i + 1 + j) / 2;
    for (let k = i; k < j; k++) ranks[keys[k]! - order * INDEX_SPAN] = rank;
    i = j;
  }
  return ranks;
}

function ranksBySearch(values: ArrayLike<number>): Float64Array {
  const n = values.length;
  const sorted = Float64Array.from(values);
  sorted.sort();
  const ranks = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    // Positions lo … hi − 1 (ranks lo + 1 … hi) hold values equal to v: their mean.
    let lo = 0;
    let hi = n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (sorted[mid]! < v) lo = mid + 1;
      else hi = mid;
    }
    let end = n;
    hi = lo;
    while (hi < end) {
      const mid = (hi + end) >>> 1;
      if (sorted[mid]! <= v) hi = mid + 1;
      else end = mid;
    }
    ranks[i] = (lo + 1 + hi) / 2;
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
