/** Relative l2 error ‖a − b‖₂ / ‖b‖₂ (0 when both are zero). */
export function relL2(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let d = 0;
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    d += (a[i]! - b[i]!) ** 2;
    n += b[i]! ** 2;
  }
  return n === 0 ? Math.sqrt(d) : Math.sqrt(d / n);
}

export function norm(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) n += a[i]! ** 2;
  return Math.sqrt(n);
}
