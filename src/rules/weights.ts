/** Weight tensors computed once per compile and stored as initializers (modified, split or transposed). */
import { asFloat32, type Tensor } from '../ir/tensor.js';

/** Modified weights (VGG-16 has 138M of them: a plain loop, not Float32Array.from with a callback). */
export function mapWeights(t: Tensor, f: (v: number) => number): Tensor {
  const src = asFloat32(t);
  const out = new Float32Array(src.length);
  for (let i = 0; i < src.length; i++) out[i] = f(src[i]!);
  return { dtype: 'float32', dims: [...t.dims], data: out };
}

/** The positive and negative parts of a weight, computed once per tensor and compile. */
const parts = new WeakMap<Tensor, { pos: Tensor; neg: Tensor }>();
export function signParts(t: Tensor): { pos: Tensor; neg: Tensor } {
  let p = parts.get(t);
  if (!p) {
    const src = asFloat32(t);
    const pos = new Float32Array(src.length);
    const neg = new Float32Array(src.length);
    for (let i = 0; i < src.length; i++) {
      const v = src[i]!;
      if (v > 0) pos[i] = v;
      else neg[i] = v;
    }
    p = { pos: { dtype: 'float32', dims: [...t.dims], data: pos }, neg: { dtype: 'float32', dims: [...t.dims], data: neg } };
    parts.set(t, p);
  }
  return p;
}

/** Bᵀ [n, k] of a 2-D weight B [k, n]: the backward of a MatMul by B is a MatMul by Bᵀ. */
export function transposeMatrix(b: Tensor): Tensor {
  const [k, n] = b.dims as [number, number];
  const src = asFloat32(b);
  const t = new Float32Array(src.length);
  for (let i = 0; i < k; i++) for (let j = 0; j < n; j++) t[j * k + i] = src[i * n + j]!;
  return { dtype: 'float32', dims: [n, k], data: t };
}
