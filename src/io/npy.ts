/** NumPy .npy files (format 1.0/2.0/3.0), float32/float64/int64 little-endian, C order. */
import { BacklightError } from '../errors.js';

export interface NpyArray {
  data: Float32Array;
  dims: number[];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export function encodeNpy(data: Float32Array, dims: readonly number[]): Uint8Array {
  const shape = dims.length === 1 ? `(${dims[0]},)` : `(${dims.join(', ')})`;
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': ${shape}, }`;
  // Magic (6) + version (2) + header length (2) + header + '\n' must be a multiple of 64.
  const total = Math.ceil((10 + header.length + 1) / 64) * 64;
  header = header.padEnd(total - 10 - 1, ' ') + '\n';
  const out = new Uint8Array(total + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1;
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  out.set(new TextEncoder().encode(header), 10);
  out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), total);
  return out;
}

/** Reads a .npy file into float32 (float64 and integer arrays are converted). */
export function decodeNpy(bytes: Uint8Array, source = '.npy file'): NpyArray {
  if (bytes.length < 10 || MAGIC.some((m, i) => bytes[i] !== m)) throw new BacklightError(`${source}: not a NumPy .npy file`);
  const major = bytes[6]!;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  const start = major === 1 ? 10 : 12;
  const header = new TextDecoder().decode(bytes.subarray(start, start + headerLen));
  const descr = /'descr':\s*'([^']+)'/.exec(header)?.[1];
  const fortran = /'fortran_order':\s*(True|False)/.exec(header)?.[1];
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1];
  if (!descr || !fortran || shapeText === undefined) throw new BacklightError(`${source}: unreadable .npy header`);
  if (fortran === 'True') throw new BacklightError(`${source}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const dims = shapeText.split(',').map((s) => s.trim()).filter((s) => s.length > 0).map(Number);
  const n = dims.reduce((a, b) => a * b, 1);
  const offset = start + headerLen;
  // An aligned copy (Buffer.slice would return a view into a pooled buffer).
  const body = Uint8Array.prototype.slice.call(bytes, offset);
  const need = (size: number): void => {
    if (body.byteLength < n * size) throw new BacklightError(`${source}: truncated (shape [${dims}] needs ${n * size} bytes of data, found ${body.byteLength})`);
  };
  switch (descr) {
    case '<f4': need(4); return { data: new Float32Array(body.buffer, 0, n), dims };
    case '<f8': need(8); return { data: Float32Array.from(new Float64Array(body.buffer, 0, n)), dims };
    case '<i8': need(8); return { data: Float32Array.from(new BigInt64Array(body.buffer, 0, n), Number), dims };
    case '<i4': need(4); return { data: Float32Array.from(new Int32Array(body.buffer, 0, n)), dims };
    case '|u1': need(1); return { data: Float32Array.from(new Uint8Array(body.buffer, 0, n)), dims };
    default: throw new BacklightError(`${source}: dtype '${descr}' is not supported (float32, float64, int64, int32, uint8)`);
  }
}
