/** src/tfjs/modelJson.ts and src/tfjs/weights.ts against tfjs's own `tf.io.decodeWeights`. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { BacklightError } from '../src/errors.js';
import { parseModelJson, shardPaths, type TfWeightSpec, type TfWeightsGroup } from '../src/tfjs/modelJson.js';
import { halfToFloat, readWeights } from '../src/tfjs/weights.js';
import { HAS_SHARED, shared } from './helpers/paths.js';

const MOBILENET = shared('models', 'mobilenet-v1-0.25-imagenet-tfjs');

/** tfjs's decoding of the same bytes: the manifest's weights over all shards concatenated. */
function tfjsDecode(manifest: TfWeightsGroup[], shards: Uint8Array[]): Record<string, tf.Tensor> {
  const buffers = shards.map((s) => s.buffer.slice(s.byteOffset, s.byteOffset + s.byteLength) as ArrayBuffer);
  return tf.io.decodeWeights(buffers, manifest.flatMap((g) => g.weights) as tf.io.WeightsManifestEntry[]);
}

function expectSame(manifest: TfWeightsGroup[], shards: Uint8Array[]): void {
  const ours = readWeights(manifest, shards, 'test');
  const theirs = tfjsDecode(manifest, shards);
  expect([...ours.keys()]).toEqual(Object.keys(theirs));
  for (const [name, w] of ours) {
    const t = theirs[name]!;
    expect(w.shape).toEqual(t.shape);
    expect(w.dtype).toEqual(t.dtype);
    // Bit-exact: the same arithmetic as tfjs (float64 v×scale+min stored as float32).
    expect(Array.from(w.data)).toEqual(Array.from(t.dataSync()));
  }
}

const rng = (seed: number) => () => {
  seed = (seed * 1103515245 + 12345) % 2 ** 31;
  return seed / 2 ** 31;
};

describe.skipIf(!HAS_SHARED)('shared MobileNet v1 0.25 (layers model, 55 shards)', () => {
  it('every weight equals tfjs decodeWeights', () => {
    const model = parseModelJson(readFileSync(path.join(MOBILENET, 'mobilenet_model.json'), 'utf8'), 'mobilenet_model.json');
    const shards = shardPaths(model).map((p) => new Uint8Array(readFileSync(path.join(MOBILENET, p))));
    expect(shards.length).toBe(55);
    expectSame(model.weightsManifest, shards);
  });
});

describe('quantized and mixed weights', () => {
  it('uint8, uint16 (float32 and int32) and float16 weights across two groups and split shards equal tfjs', () => {
    const r = rng(7);
    const specs: TfWeightSpec[] = [
      { name: 'u8', shape: [3, 5], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.0123, min: -1.7 } },
      { name: 'f32', shape: [7], dtype: 'float32' },
      { name: 'u16', shape: [2, 3], dtype: 'float32', quantization: { dtype: 'uint16', scale: 3.1e-5, min: -0.9 } },
      { name: 'i8', shape: [4], dtype: 'int32', quantization: { dtype: 'uint8', scale: 0.5, min: -3 } },
      { name: 'f16', shape: [9], dtype: 'float32', quantization: { dtype: 'float16' } },
      { name: 'i32', shape: [3], dtype: 'int32' },
      { name: 'b', shape: [5], dtype: 'bool' },
      { name: 'empty', shape: [0, 4], dtype: 'float32' },
    ];
    const bytes: number[] = [];
    const dv = new DataView(new ArrayBuffer(4));
    const push = (n: number, set: () => void) => {
      set();
      for (let i = 0; i < n; i++) bytes.push(dv.getUint8(i));
    };
    for (let i = 0; i < 15; i++) bytes.push(Math.floor(r() * 256));
    for (let i = 0; i < 7; i++) push(4, () => dv.setFloat32(0, r() * 4 - 2, true));
    for (let i = 0; i < 6; i++) push(2, () => dv.setUint16(0, Math.floor(r() * 65536), true));
    for (let i = 0; i < 4; i++) bytes.push(Math.floor(r() * 256));
    // float16 halves: normal, subnormal, zero, negative zero, largest.
    for (const h of [0x3c00, 0xbc00, 0x0001, 0x03ff, 0x0000, 0x8000, 0x7bff, 0x3555, 0xc8b0]) push(2, () => dv.setUint16(0, h, true));
    for (const v of [-5, 0, 2 ** 30]) push(4, () => dv.setInt32(0, v, true));
    for (const v of [0, 1, 1, 0, 1]) bytes.push(v);
    const all = new Uint8Array(bytes);
    // Group 1: u8, f32, u16 in two shards split inside a weight; group 2: the rest in one shard.
    const g1 = 15 + 28 + 12;
    const manifest: TfWeightsGroup[] = [
      { paths: ['a1', 'a2'], weights: specs.slice(0, 3) },
      { paths: ['b1'], weights: specs.slice(3) },
    ];
    const shards = [all.slice(0, 20), all.slice(20, g1), all.slice(g1)];
    expectSame(manifest, shards);
    const w = readWeights(manifest, shards);
    expect(Array.from(w.get('f16')!.data).slice(0, 4)).toEqual([1, -1, 2 ** -24, 1023 * 2 ** -24]);
    expect(Array.from(w.get('i32')!.data)).toEqual([-5, 0, 2 ** 30]);
  });

  it('float16 conversion is exact for every half (against tfjs on all 65,536 bit patterns)', () => {
    const halves = new Uint16Array(65536).map((_, i) => i);
    const manifest: TfWeightsGroup[] = [{ paths: ['h'], weights: [{ name: 'h', shape: [65536], dtype: 'float32', quantization: { dtype: 'float16' } }] }];
    const theirs = tfjsDecode(manifest, [new Uint8Array(halves.buffer)])['h']!.dataSync();
    let differ = 0;
    for (let i = 0; i < 65536; i++) {
      const a = halfToFloat(i);
      const b = theirs[i]!;
      if (!(Object.is(a, b) || (Number.isNaN(a) && Number.isNaN(b)))) differ++;
    }
    expect(differ).toBe(0);
  });
});

describe('refusals', () => {
  const manifest: TfWeightsGroup[] = [
    {
      paths: ['s1'],
      weights: [
        { name: 'conv/kernel', shape: [2, 2], dtype: 'float32' },
        { name: 'conv/bias', shape: [2], dtype: 'float32' },
      ],
    },
  ];
  const message = (f: () => unknown): string => {
    try {
      f();
    } catch (e) {
      expect(e).toBeInstanceOf(BacklightError);
      return (e as Error).message;
    }
    throw new Error('did not throw');
  };

  it('a short shard names the weight that does not fit', () => {
    const m = message(() => readWeights(manifest, [new Uint8Array(20)], 'm.json'));
    expect(m).toMatch(/^m\.json: weight 'conv\/bias' \[2\] float32 needs 8 bytes at offset 16, but the shards s1 hold 20 bytes/);
    expect(m).not.toContain('\n');
  });

  it('a long shard and a missing shard are refused', () => {
    expect(message(() => readWeights(manifest, [new Uint8Array(28)], 'm.json'))).toMatch(/s1 hold 28 bytes but their weights \(last: 'conv\/bias'\) take 24/);
    expect(message(() => readWeights(manifest, [], 'm.json'))).toBe('m.json: the weights manifest lists 1 shard files, 0 were given');
  });

  it('model.json problems are one line naming the field', () => {
    expect(message(() => parseModelJson('{', 'x.json'))).toMatch(/^x\.json: not valid JSON/);
    expect(message(() => parseModelJson('{"weightsManifest": []}', 'x.json'))).toMatch(/^x\.json: no 'modelTopology' object/);
    const bad = (w: unknown) => JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['a'], weights: [w] }] });
    expect(message(() => parseModelJson(bad({ name: 'k', shape: [2, -1], dtype: 'float32' }), 'x.json'))).toBe(
      "x.json: weightsManifest[0].weights[0] ('k'): 'shape' must be an array of integers ≥ 0",
    );
    expect(message(() => parseModelJson(bad({ name: 'k', shape: [2], dtype: 'complex64' }), 'x.json'))).toMatch(/dtype 'complex64' is not supported/);
    expect(message(() => parseModelJson(bad({ name: 'k', shape: [2], dtype: 'float32', quantization: { dtype: 'uint8' } }), 'x.json'))).toMatch(
      /uint8 quantization needs finite 'scale' and 'min'/,
    );
    const twice = JSON.stringify({ modelTopology: {}, weightsManifest: [{ paths: ['a'], weights: [{ name: 'k', shape: [], dtype: 'float32' }, { name: 'k', shape: [], dtype: 'float32' }] }] });
    expect(message(() => parseModelJson(twice, 'x.json'))).toBe("x.json: weight 'k' is listed twice in weightsManifest");
  });
});
