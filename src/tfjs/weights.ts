/**
 * Weights of a TensorFlow.js model from its shard files: each manifest group's shards are
 * concatenated and its weights read one after the other in manifest order (little-endian, as tfjs
 * writes them), quantized weights dequantized the way tfjs's `decodeWeights` does (uint8/uint16:
 * stored × scale + min, rounded for int32; float16 widened to float32), so the values are tfjs's own.
 */
import { BacklightError, escapeControl } from '../errors.js';
import type { TfDtype, TfWeightSpec, TfWeightsGroup } from './modelJson.js';

export interface TfWeight {
  name: string;
  dtype: TfDtype;
  shape: number[];
  data: Float32Array | Int32Array | Uint8Array;
}

const BYTES: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

/**
 * Reads every weight of `manifest`. `shards` are the files of the manifest's `paths`, flattened in
 * order (group by group). A shard too short or too long for its weights is refused in one line
 * naming the weight (or the group's files), as is a shard count that does not match the manifest.
 */
export function readWeights(manifest: TfWeightsGroup[], shards: Uint8Array[], source = 'model.json'): Map<string, TfWeight> {
  const expected = manifest.reduce((n, g) => n + g.paths.length, 0);
  if (shards.length !== expected) {
    throw new BacklightError(`${source}: the weights manifest lists ${expected} shard files, ${shards.length} were given`);
  }
  const out = new Map<string, TfWeight>();
  let next = 0;
  for (const group of manifest) {
    const files = shards.slice(next, next + group.paths.length);
    next += group.paths.length;
    const bytes = concat(files);
    const shardNames = group.paths.map((p) => escapeControl(p)).join(', ');
    let offset = 0;
    for (const spec of group.weights) {
      const size = spec.shape.reduce((a, b) => a * b, 1);
      const stored = spec.quantization?.dtype ?? spec.dtype;
      const length = size * BYTES[stored]!;
      if (offset + length > bytes.length) {
        throw new BacklightError(
          `${source}: weight '${escapeControl(spec.name)}' [${spec.shape.join(', ')}] ${stored} needs ${length} bytes at offset ${offset}, ` +
            `but the shards ${shardNames} hold ${bytes.length} bytes in all; is a shard truncated or from another model?`,
        );
      }
      // A copy: aligned for the typed array and independent of the shard buffers.
      const view = new DataView(bytes.buffer, bytes.byteOffset + offset, length);
      out.set(spec.name, { name: spec.name, dtype: spec.dtype, shape: [...spec.shape], data: decode(spec, view, size, source) });
      offset += length;
    }
    if (offset !== bytes.length) {
      const last = group.weights.at(-1);
      throw new BacklightError(
        `${source}: the shards ${shardNames} hold ${bytes.length} bytes but their weights${last ? ` (last: '${escapeControl(last.name)}')` : ''} ` +
          `take ${offset}; is a shard from another model?`,
      );
    }
  }
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  if (parts.length === 1) return parts[0]!;
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function decode(spec: TfWeightSpec, view: DataView, size: number, source: string): Float32Array | Int32Array | Uint8Array {
  const q = spec.quantization;
  if (q) {
    if (q.dtype === 'float16') {
      if (spec.dtype !== 'float32') throw new BacklightError(`${source}: weight '${escapeControl(spec.name)}': float16 quantization applies to float32 weights, not ${spec.dtype}`);
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = halfToFloat(view.getUint16(2 * i, true));
      return out;
    }
    const scale = q.scale!;
    const min = q.min!;
    const read = q.dtype === 'uint8' ? (i: number) => view.getUint8(i) : (i: number) => view.getUint16(2 * i, true);
    if (spec.dtype === 'float32') {
      const out = new Float32Array(size);
      for (let i = 0; i < size; i++) out[i] = read(i) * scale + min;
      return out;
    }
    if (spec.dtype === 'int32') {
      const out = new Int32Array(size);
      for (let i = 0; i < size; i++) out[i] = Math.round(read(i) * scale + min);
      return out;
    }
    throw new BacklightError(`${source}: weight '${escapeControl(spec.name)}': ${q.dtype} quantization of ${spec.dtype} weights is not supported`);
  }
  if (spec.dtype === 'float32') {
    const out = new Float32Array(size);
    for (let i = 0; i < size; i++) out[i] = view.getFloat32(4 * i, true);
    return out;
  }
  if (spec.dtype === 'int32') {
    const out = new Int32Array(size);
    for (let i = 0; i < size; i++) out[i] = view.getInt32(4 * i, true);
    return out;
  }
  return new Uint8Array(view.buffer.slice(view.byteOffset, view.byteOffset + size));
}

/** IEEE 754 half → float (exact: every half is a float32). */
export function halfToFloat(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 0x1f) return frac ? NaN : sign * Infinity;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
}
