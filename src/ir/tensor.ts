/** Dense tensors held in memory: initializers, folded constants and attribute tensors. */

export type DType = 'float32' | 'float64' | 'float16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';

export type TensorData = Float32Array | Float64Array | BigInt64Array | Int32Array | Int16Array | Int8Array | Uint8Array | Uint16Array;

export interface Tensor {
  dtype: DType;
  dims: number[];
  data: TensorData;
}

/** A dense float32 tensor in row-major (C) order: the inputs and results of the public API. */
export interface TensorLike {
  data: Float32Array;
  dims: number[];
}

export function sizeOf(dims: readonly number[]): number {
  let n = 1;
  for (const d of dims) n *= d;
  return n;
}

export function isFloat(dtype: DType): boolean {
  return dtype === 'float32' || dtype === 'float64' || dtype === 'float16';
}

/** Element values as plain numbers (int64 beyond 2^53 loses precision, which shape arithmetic never reaches). */
export function toNumbers(t: Tensor): number[] {
  if (t.dtype === 'float16') return Array.from(decodeFloat16(t.data as Uint16Array));
  const out = new Array<number>(t.data.length);
  if (t.data instanceof BigInt64Array) {
    for (let i = 0; i < t.data.length; i++) out[i] = Number(t.data[i]);
  } else {
    for (let i = 0; i < t.data.length; i++) out[i] = t.data[i] as number;
  }
  return out;
}

export function fromNumbers(dtype: DType, dims: number[], values: ArrayLike<number>): Tensor {
  const n = values.length;
  let data: TensorData;
  switch (dtype) {
    case 'float32': data = Float32Array.from(values); break;
    case 'float64': data = Float64Array.from(values); break;
    case 'int64': {
      const a = new BigInt64Array(n);
      for (let i = 0; i < n; i++) a[i] = BigInt(Math.trunc(values[i]!));
      data = a;
      break;
    }
    case 'int32': data = Int32Array.from(values, Math.trunc); break;
    case 'int16': data = Int16Array.from(values, Math.trunc); break;
    case 'int8': data = Int8Array.from(values, Math.trunc); break;
    case 'uint8': data = Uint8Array.from(values, Math.trunc); break;
    case 'bool': data = Uint8Array.from(values, (v) => (v ? 1 : 0)); break;
    case 'float16': throw new Error('float16 tensors cannot be created from numbers');
  }
  if (sizeOf(dims) !== n) throw new Error(`tensor of shape [${dims}] cannot hold ${n} values`);
  return { dtype, dims: [...dims], data };
}

export function float32(dims: number[], values: ArrayLike<number>): Tensor {
  return fromNumbers('float32', dims, values);
}

export function int64(dims: number[], values: ArrayLike<number>): Tensor {
  return fromNumbers('int64', dims, values);
}

/** Float32 view of a float tensor (copies float64; float16 is decoded). */
export function asFloat32(t: Tensor): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.dtype === 'float16') return decodeFloat16(t.data as Uint16Array);
  return Float32Array.from(toNumbers(t));
}

function decodeFloat16(h: Uint16Array): Float32Array {
  const out = new Float32Array(h.length);
  for (let i = 0; i < h.length; i++) {
    const v = h[i]!;
    const sign = v & 0x8000 ? -1 : 1;
    const exp = (v >> 10) & 0x1f;
    const frac = v & 0x3ff;
    if (exp === 0) out[i] = sign * 2 ** -14 * (frac / 1024);
    else if (exp === 31) out[i] = frac ? NaN : sign * Infinity;
    else out[i] = sign * 2 ** (exp - 15) * (1 + frac / 1024);
  }
  return out;
}

export function shapeToString(dims: readonly (number | string)[]): string {
  return `[${dims.join(', ')}]`;
}
