/** The ONNX protobuf schema (from the onnx-proto package) and conversions of its tensors. */
import pkg from 'onnx-proto';
import type { onnx as OnnxNs } from 'onnx-proto';
import { BacklightError } from '../errors.js';
import { sizeOf, type DType, type Tensor, type TensorData } from '../ir/tensor.js';

export const onnx: typeof OnnxNs = (pkg as unknown as { onnx: typeof OnnxNs }).onnx;
export type { OnnxNs };

interface LongLike {
  toNumber(): number;
}

/** protobufjs gives int64 fields as Long objects or numbers depending on the value. */
export function num(v: number | LongLike | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === 'number' ? v : v.toNumber();
}

const DTYPE_BY_CODE: Record<number, DType> = {
  1: 'float32',
  2: 'uint8',
  3: 'int8',
  5: 'int16',
  6: 'int32',
  7: 'int64',
  9: 'bool',
  10: 'float16',
  11: 'float64',
};

export function dtypeFromCode(code: number, where: string): DType {
  const d = DTYPE_BY_CODE[code];
  if (!d) throw new BacklightError(`${where}: tensor data type ${code} is not supported (supported: float32, float64, float16, int64, int32, int16, int8, uint8, bool)`);
  return d;
}

export function dtypeCode(d: DType): number {
  for (const [k, v] of Object.entries(DTYPE_BY_CODE)) if (v === d) return Number(k);
  throw new Error(`no ONNX code for ${d}`);
}

const BYTES: Record<DType, number> = {
  float32: 4, float64: 8, float16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

function viewRaw(dtype: DType, raw: Uint8Array, n: number): TensorData {
  // Copy into an aligned buffer: raw_data slices of the model file are not aligned to the element size.
  const bytes = new Uint8Array(n * BYTES[dtype]);
  bytes.set(raw.subarray(0, bytes.length));
  const buf = bytes.buffer;
  switch (dtype) {
    case 'float32': return new Float32Array(buf);
    case 'float64': return new Float64Array(buf);
    case 'float16': return new Uint16Array(buf);
    case 'int64': return new BigInt64Array(buf);
    case 'int32': return new Int32Array(buf);
    case 'int16': return new Int16Array(buf);
    case 'int8': return new Int8Array(buf);
    case 'uint8': case 'bool': return new Uint8Array(buf);
  }
}

/** Tensor dimensions: integers ≥ 0 (a hostile file may hold −1 or 2⁶³). */
export function checkDims(dims: readonly number[], what: string, source: string): void {
  const bad = dims.findIndex((d) => !Number.isSafeInteger(d) || d < 0);
  if (bad >= 0) throw new BacklightError(`${source}: ${what} has dimension ${bad} = ${dims[bad]} in [${dims.join(', ')}]; dimensions must be integers ≥ 0`);
}

export function tensorFromProto(t: OnnxNs.ITensorProto, where: string): Tensor {
  const name = t.name ?? '';
  if (t.dataLocation === 1 || (t.externalData && t.externalData.length > 0)) {
    throw new BacklightError(`${where}: tensor '${name}' keeps its data in an external file; save the model with all tensors inline (onnx.save_model(m, path, save_as_external_data=False))`);
  }
  const dtype = dtypeFromCode(t.dataType ?? 0, `${where}: tensor '${name}'`);
  const dims = (t.dims ?? []).map(num);
  checkDims(dims, `tensor '${name}'`, where);
  const n = sizeOf(dims);
  let data: TensorData;
  if (t.rawData && t.rawData.length > 0) {
    // Exactly: onnxruntime refuses raw data of another size, and trailing bytes mean a damaged file.
    if (t.rawData.length !== n * BYTES[dtype]) {
      throw new BacklightError(`${where}: tensor '${name}' of shape [${dims}] holds ${t.rawData.length} bytes, expected ${n * BYTES[dtype]}`);
    }
    data = viewRaw(dtype, t.rawData, n);
  } else {
    const src: ArrayLike<number | LongLike> =
      dtype === 'float32' ? (t.floatData ?? []) :
      dtype === 'float64' ? (t.doubleData ?? []) :
      dtype === 'int64' ? (t.int64Data ?? []) :
      (t.int32Data ?? []);
    if (src.length !== n) {
      throw new BacklightError(`${where}: tensor '${name}' of shape [${dims}] holds ${src.length} values, expected ${n}`);
    }
    switch (dtype) {
      case 'float32': data = Float32Array.from(src as number[]); break;
      case 'float64': data = Float64Array.from(src as number[]); break;
      case 'int64': data = BigInt64Array.from(Array.from(src, (v) => BigInt(num(v)))); break;
      case 'int32': data = Int32Array.from(src as number[]); break;
      case 'int16': data = Int16Array.from(src as number[]); break;
      case 'int8': data = Int8Array.from(src as number[]); break;
      case 'uint8': case 'bool': data = Uint8Array.from(src as number[]); break;
      case 'float16': data = Uint16Array.from(src as number[]); break;
    }
  }
  return { dtype, dims, data };
}

export function tensorToProto(name: string, t: Tensor): OnnxNs.ITensorProto {
  const d = t.data;
  return {
    name,
    dataType: dtypeCode(t.dtype),
    dims: t.dims,
    rawData: new Uint8Array(d.buffer, d.byteOffset, d.byteLength),
  };
}
