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
  if (major < 1 || major > 3) throw new BacklightError(`${source}: .npy format version ${major}.${bytes[7]} is not supported (1.0, 2.0 or 3.0)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const start = major === 1 ? 10 : 12;
  if (bytes.length < start) throw new BacklightError(`${source}: truncated .npy header`);
  const headerLen = major === 1 ? view.getUint16(8, true) : view.getUint32(8, true);
  if (start + headerLen > bytes.length) throw new BacklightError(`${source}: truncated .npy header (it says ${headerLen} bytes, the file has ${bytes.length - start} after the preamble)`);
  const { descr, fortran, dims } = parseHeader(new TextDecoder().decode(bytes.subarray(start, start + headerLen)), source);
  if (fortran) throw new BacklightError(`${source}: Fortran-order arrays are not supported (save with np.ascontiguousarray)`);
  const n = dims.reduce((a, b) => a * b, 1);
  if (!Number.isSafeInteger(n)) throw new BacklightError(`${source}: shape [${dims.join(', ')}] is too large`);
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

/**
 * The header, read as numpy reads it: a Python dict literal with exactly the keys 'descr' (a
 * string), 'fortran_order' (True/False) and 'shape' (a tuple of integers ≥ 0). Anything else
 * (a repeated or unknown key, a negative or fractional dimension, code) is refused: numpy would
 * refuse it too, or read it differently from a lenient parser.
 */
function parseHeader(header: string, source: string): { descr: string; fortran: boolean; dims: number[] } {
  const bad = (why: string): never => {
    throw new BacklightError(`${source}: unreadable .npy header (${why}); expected {'descr': '<f4', 'fortran_order': False, 'shape': (…)}`);
  };
  let i = 0;
  const text = header.replace(/\s+$/, '');
  const space = (): void => {
    while (i < text.length && /\s/.test(text[i]!)) i++;
  };
  const expect = (c: string): void => {
    space();
    if (text[i] !== c) bad(`'${c}' expected at character ${i}`);
    i++;
  };
  const str = (): string => {
    space();
    const q = text[i];
    if (q !== "'" && q !== '"') bad(`a quoted string expected at character ${i}`);
    const end = text.indexOf(q!, i + 1);
    if (end < 0) bad('unterminated string');
    const v = text.slice(i + 1, end);
    i = end + 1;
    return v;
  };
  const value = (key: string): string | boolean | number[] => {
    space();
    if (key === 'descr') return str();
    if (key === 'fortran_order') {
      for (const [word, v] of [['True', true], ['False', false]] as const) {
        if (text.startsWith(word, i)) {
          i += word.length;
          return v;
        }
      }
      return bad("'fortran_order' must be True or False");
    }
    expect('(');
    const dims: number[] = [];
    for (;;) {
      space();
      if (text[i] === ')') break;
      const m = /^[0-9]+/.exec(text.slice(i));
      if (!m) return bad(`'shape' must be a tuple of integers ≥ 0 (at '${text.slice(i, i + 12)}')`);
      dims.push(Number(m[0]));
      i += m[0].length;
      space();
      if (text[i] === ',') i++;
      else if (text[i] !== ')') bad("',' or ')' expected in 'shape'");
    }
    i++;
    return dims;
  };
  expect('{');
  const seen = new Map<string, string | boolean | number[]>();
  for (;;) {
    space();
    if (text[i] === '}') break;
    const key = str();
    if (!['descr', 'fortran_order', 'shape'].includes(key)) bad(`unknown key '${key}'`);
    if (seen.has(key)) bad(`key '${key}' given twice`);
    expect(':');
    seen.set(key, value(key));
    space();
    if (text[i] === ',') i++;
    else if (text[i] !== '}') bad(`',' or '}' expected at character ${i}`);
  }
  i++;
  space();
  if (i !== text.length) bad('text after the dict');
  if (seen.size !== 3) bad(`missing key ${['descr', 'fortran_order', 'shape'].filter((k) => !seen.has(k)).map((k) => `'${k}'`).join(', ')}`);
  return { descr: seen.get('descr') as string, fortran: seen.get('fortran_order') as boolean, dims: seen.get('shape') as number[] };
}
