/**
 * Hostile input files for the demo model (assets/models/digits-cnn.onnx, [N, 1, 28, 28]): images
 * (truncated, zero-size, a huge-dimension header, float32 TIFF, 16-bit PNG, CMYK JPEG, SVG with
 * external references, animated GIF, wrong extension) and .npy files (shape −1, a repeated key,
 * Fortran order, unsupported or pickled dtypes, truncated data, NaN/Inf, huge shapes).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync } from 'node:zlib';
import { encode as encodePng } from 'fast-png';
import sharp from 'sharp';
import { encodeNpy } from '../../src/io/npy.js';
import { DIGITS_MODEL, digitsInput } from './models.js';
import { Rng } from './rng.js';
import type { Category, FuzzCase, Prepared } from './types.js';

const R1: readonly Category[] = ['refused-1'];
const OK: readonly Category[] = ['accepted-equal'];

/** A 28×28 gray digit-like picture: a bright ring on black. */
function digitPixels(w = 28, h = 28, channels = 1): Uint8Array {
  const px = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) {
    const r = Math.hypot((x - w / 2) / w, (y - h / 2) / h);
    const v = Math.abs(r - 0.3) < 0.08 ? 255 : 0;
    for (let c = 0; c < channels; c++) px[(y * w + x) * channels + c] = v;
  }
  return px;
}
const pngBytes = (w = 28, h = 28): Promise<Buffer> => sharp(Buffer.from(digitPixels(w, h)), { raw: { width: w, height: h, channels: 1 } }).png().toBuffer();
const jpegBytes = (): Promise<Buffer> => sharp(Buffer.from(digitPixels(28, 28, 3)), { raw: { width: 28, height: 28, channels: 3 } }).jpeg().toBuffer();

/** CRC-32 of PNG chunks. */
function crc32(bytes: Uint8Array): number {
  let c = ~0;
  for (const b of bytes) {
    c ^= b;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return ~c >>> 0;
}
function chunk(type: string, data: Uint8Array): Uint8Array {
  const out = new Uint8Array(12 + data.length);
  const v = new DataView(out.buffer);
  v.setUint32(0, data.length);
  out.set(new TextEncoder().encode(type), 4);
  out.set(data, 8);
  v.setUint32(8 + data.length, crc32(out.subarray(4, 8 + data.length)));
  return out;
}
/** A valid PNG header claiming w×h pixels, with a tiny IDAT (libvips must refuse before allocating). */
function hugePng(w: number, h: number): Uint8Array {
  const ihdr = new Uint8Array(13);
  const v = new DataView(ihdr.buffer);
  v.setUint32(0, w);
  v.setUint32(4, h);
  ihdr.set([8, 0, 0, 0, 0], 8); // 8-bit gray
  const parts = [Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(new Uint8Array(64))), chunk('IEND', new Uint8Array())];
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) (out.set(p, o), (o += p.length));
  return out;
}

/** A little-endian baseline TIFF of float32 gray samples (SampleFormat 3), one strip. */
export function floatTiff(w: number, h: number, value: (x: number, y: number) => number): Uint8Array {
  const entries: [number, number, number, number][] = [
    // tag, type (3 SHORT, 4 LONG), count, value
    [256, 4, 1, w], [257, 4, 1, h], [258, 3, 1, 32], [259, 3, 1, 1], [262, 3, 1, 1],
    [273, 4, 1, 0], [277, 3, 1, 1], [278, 4, 1, h], [279, 4, 1, w * h * 4], [339, 3, 1, 3],
  ];
  const ifdAt = 8;
  const dataAt = ifdAt + 2 + entries.length * 12 + 4;
  entries[5]![3] = dataAt;
  const out = new Uint8Array(dataAt + w * h * 4);
  const v = new DataView(out.buffer);
  out.set([0x49, 0x49, 42, 0]);
  v.setUint32(4, ifdAt, true);
  v.setUint16(ifdAt, entries.length, true);
  entries.forEach(([tag, type, count, value], i) => {
    const at = ifdAt + 2 + i * 12;
    v.setUint16(at, tag, true);
    v.setUint16(at + 2, type, true);
    v.setUint32(at + 4, count, true);
    if (type === 3) v.setUint16(at + 8, value, true);
    else v.setUint32(at + 8, value, true);
  });
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) v.setFloat32(dataAt + (y * w + x) * 4, value(x, y), true);
  return out;
}

function imageCase(name: string, file: string, bytes: () => Promise<Uint8Array> | Uint8Array, expect?: readonly Category[], extra: string[] = []): FuzzCase {
  return {
    id: `image/${name}`,
    group: 'image',
    expect,
    prepare: async (dir): Promise<Prepared> => {
      const path = join(dir, file);
      writeFileSync(path, await bytes());
      const out = join(dir, 'out');
      return { args: ['explain', '--model', DIGITS_MODEL, '--image', path, '--preset', 'mnist', '--out', out, '-q', ...extra], out };
    },
  };
}

export function imageCases(seed: number, flips: number): FuzzCase[] {
  const cases: FuzzCase[] = [
    imageCase('control-png', 'digit.png', pngBytes, OK),
    imageCase('control-jpeg', 'digit.jpg', jpegBytes, OK),
    imageCase('truncated-png', 'digit.png', async () => (await pngBytes(64, 64)).subarray(0, 60), R1),
    imageCase('truncated-png-half', 'digit.png', async () => { const b = await pngBytes(64, 64); return b.subarray(0, b.length >> 1); }, R1),
    imageCase('truncated-jpeg', 'digit.jpg', async () => { const b = await jpegBytes(); return b.subarray(0, b.length >> 1); }, R1),
    imageCase('zero-size', 'digit.png', () => new Uint8Array(), R1),
    imageCase('huge-dimensions-header', 'huge.png', () => hugePng(100000, 100000), R1),
    imageCase('huge-dimensions-header-1x2g', 'huge.png', () => hugePng(2 ** 31 - 1, 1), R1),
    imageCase('float32-tiff', 'digit.tif', () => floatTiff(28, 28, (x, y) => (Math.abs(x - 14) < 5 && Math.abs(y - 14) < 8 ? 1 : 0))),
    imageCase('float32-tiff-nan', 'digit.tif', () => floatTiff(28, 28, () => NaN)),
    imageCase('png-16-bit', 'digit.png', () => encodePng({ width: 28, height: 28, channels: 1, depth: 16, data: Uint16Array.from(digitPixels(), (v) => v * 257) }), OK),
    imageCase('cmyk-jpeg', 'digit.jpg', () => sharp(Buffer.from(digitPixels(28, 28, 3)), { raw: { width: 28, height: 28, channels: 3 } }).toColourspace('cmyk').jpeg().toBuffer(), OK),
    imageCase('svg-external-file', 'x.svg', () => new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink" width="28" height="28"><image xlink:href="file:///etc/passwd" width="28" height="28"/></svg>'), R1),
    imageCase('svg-external-http', 'x.svg', () => new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><image href="http://127.0.0.1:9/x.png" width="28" height="28"/></svg>'), R1),
    imageCase('svg-entity', 'x.svg', () => new TextEncoder().encode('<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg xmlns="http://www.w3.org/2000/svg" width="28" height="28"><text>&x;</text></svg>'), R1),
    imageCase('animated-gif', 'anim.gif', async () => {
      const frames = Buffer.concat([Buffer.from(digitPixels(28, 28, 3)), Buffer.from(digitPixels(28, 28, 3).map((v) => 255 - v))]);
      return sharp(frames, { raw: { width: 28, height: 56, channels: 3 } }).gif({ loop: 0 }).toBuffer().then((b) => sharp(b).toBuffer().then(() => b));
    }),
    imageCase('png-named-jpg', 'digit.jpg', pngBytes, OK),
    imageCase('jpeg-named-png', 'digit.png', jpegBytes, OK),
    imageCase('text-named-png', 'digit.png', () => new TextEncoder().encode('hello, not an image\n'), R1),
    imageCase('onnx-named-png', 'digit.png', () => new Uint8Array(Buffer.from('080712046675', 'hex')), R1),
    imageCase('one-pixel', 'dot.png', () => pngBytes(1, 1), OK),
    imageCase('very-wide', 'wide.png', () => pngBytes(20000, 1), OK),
    imageCase('name-control-chars', 'd\x1b[2J\rigit\x07.png', pngBytes, OK),
    imageCase('name-newline', 'a\nb.png', pngBytes, OK),
    imageCase('name-bidi', 'gnp.\u202edigit.png', pngBytes, OK),
    imageCase('missing-file', 'missing.png', () => new Uint8Array(), R1, []),
    imageCase('rgba-png', 'digit.png', () => sharp(Buffer.from(digitPixels(28, 28, 4)), { raw: { width: 28, height: 28, channels: 4 } }).png().toBuffer(), OK),
    imageCase('webp', 'digit.webp', () => sharp(Buffer.from(digitPixels()), { raw: { width: 28, height: 28, channels: 1 } }).webp().toBuffer(), OK),
  ];
  // 'missing-file': the file is written, then the command names another one.
  const missing = cases.find((c) => c.id === 'image/missing-file')!;
  const prep = missing.prepare;
  missing.prepare = async (dir) => {
    const p = await prep(dir);
    return { ...p, args: p.args.map((a) => (a.endsWith('missing.png') ? a.replace('missing.png', 'absent.png') : a)) };
  };
  for (let i = 0; i < flips; i++) {
    const fmt = i % 2 === 0 ? 'png' : 'jpg';
    cases.push(imageCase(`flip-${fmt}#${i}`, `digit.${fmt}`, async () => {
      const rng = new Rng(seed * 7919 + i);
      const b = new Uint8Array(fmt === 'png' ? await pngBytes(40, 40) : await jpegBytes());
      if (rng.next() < 0.3) return b.subarray(0, rng.int(0, b.length));
      for (let k = rng.int(1, 6); k > 0; k--) b[rng.int(0, b.length)] = rng.int(0, 256);
      return b;
    }));
  }
  return cases;
}

/** An .npy file with a hand-written header (format 1.0) and body. */
export function npyWith(header: string, body: Uint8Array, version = 1): Uint8Array {
  const pre = version === 1 ? 10 : 12;
  const total = Math.ceil((pre + header.length + 1) / 64) * 64;
  const h = header.padEnd(total - pre - 1, ' ') + '\n';
  const out = new Uint8Array(total + body.length);
  out.set([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, version, 0]);
  const v = new DataView(out.buffer);
  if (version === 1) v.setUint16(8, h.length, true);
  else v.setUint32(8, h.length, true);
  out.set(new TextEncoder().encode(h), pre);
  out.set(body, total);
  return out;
}

interface NpyCase {
  name: string;
  bytes: () => Uint8Array;
  /** The array numpy reads from the file, when it reads one (checked against onnxruntime if accepted). */
  means?: () => { data: Float32Array; dims: number[] };
  expect?: readonly Category[];
}

const f32bytes = (a: Float32Array): Uint8Array => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);

const NPY: NpyCase[] = (() => {
  const x = digitsInput();
  const one = { data: x.data.slice(0, 784), dims: [1, 1, 28, 28] };
  const body = f32bytes(one.data);
  const hdr = (descr: string, shape: string, fortran = 'False') => `{'descr': '${descr}', 'fortran_order': ${fortran}, 'shape': ${shape}, }`;
  const transposed = (): Float32Array => {
    // Fortran order stores [1,1,28,28] with the last axis slowest: element (i, j) at j*28 + i.
    const t = new Float32Array(784);
    for (let i = 0; i < 28; i++) for (let j = 0; j < 28; j++) t[j * 28 + i] = one.data[i * 28 + j]!;
    return t;
  };
  const f64 = Float64Array.from(one.data);
  const be = new Uint8Array(784 * 4);
  one.data.forEach((v, i) => new DataView(be.buffer).setFloat32(i * 4, v, false));
  const withValue = (v: number) => () => { const d = one.data.slice(); d[100] = v; return encodeNpy(d, one.dims); };
  return [
    { name: 'control', bytes: () => encodeNpy(one.data, one.dims), means: () => one, expect: OK },
    { name: 'control-no-batch-axis', bytes: () => encodeNpy(one.data, [1, 28, 28]), means: () => one, expect: OK },
    { name: 'control-float64', bytes: () => npyWith(hdr('<f8', '(1, 1, 28, 28)'), new Uint8Array(f64.buffer)), means: () => one, expect: OK },
    { name: 'control-version-2', bytes: () => npyWith(hdr('<f4', '(1, 1, 28, 28)'), body, 2), means: () => one, expect: OK },
    { name: 'shape-minus-1', bytes: () => npyWith(hdr('<f4', '(-1, 1, 28, 28)'), body), expect: R1 },
    { name: 'shape-fraction', bytes: () => npyWith(hdr('<f4', '(1.5, 1, 28, 28)'), body), expect: R1 },
    { name: 'shape-huge', bytes: () => npyWith(hdr('<f4', '(100000000, 1, 28, 28)'), body), expect: R1 },
    { name: 'shape-2-63', bytes: () => npyWith(hdr('<f4', '(9223372036854775807, 1, 28, 28)'), body), expect: R1 },
    { name: 'shape-zero-batch', bytes: () => npyWith(hdr('<f4', '(0, 1, 28, 28)'), new Uint8Array()), expect: R1 },
    { name: 'shape-wrong-for-model', bytes: () => encodeNpy(new Float32Array(3 * 28 * 28), [1, 3, 28, 28]), expect: ['refused-1', 'refused-2'] },
    { name: 'shape-scalar', bytes: () => npyWith(hdr('<f4', '()'), body.subarray(0, 4)), expect: R1 },
    { name: 'repeated-key-shape', bytes: () => npyWith(`{'descr': '<f4', 'fortran_order': False, 'shape': (2, 1, 28, 28), 'shape': (1, 1, 28, 28), }`, body), expect: R1 },
    { name: 'repeated-key-descr', bytes: () => npyWith(`{'descr': '<f8', 'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 28, 28), }`, body), expect: R1 },
    { name: 'unknown-key', bytes: () => npyWith(`{'descr': '<f4', 'fortran_order': False, 'shape': (1, 1, 28, 28), 'extra': 1, }`, body), expect: R1 },
    { name: 'missing-key', bytes: () => npyWith(`{'descr': '<f4', 'shape': (1, 1, 28, 28), }`, body), expect: R1 },
    { name: 'header-not-dict', bytes: () => npyWith(`[1, 2, 3]`, body), expect: R1 },
    { name: 'header-code', bytes: () => npyWith(`__import__('os').system('echo pwned')`, body), expect: R1 },
    { name: 'header-length-beyond-file', bytes: () => { const b = encodeNpy(one.data, one.dims).slice(0, 60); new DataView(b.buffer).setUint16(8, 60000, true); return b; }, expect: R1 },
    { name: 'fortran-order', bytes: () => npyWith(hdr('<f4', '(1, 1, 28, 28)', 'True'), f32bytes(transposed())), means: () => one },
    { name: 'big-endian-f4', bytes: () => npyWith(hdr('>f4', '(1, 1, 28, 28)'), be), means: () => one },
    { name: 'dtype-complex', bytes: () => npyWith(hdr('<c8', '(1, 1, 28, 28)'), new Uint8Array(784 * 8)), expect: R1 },
    { name: 'dtype-string', bytes: () => npyWith(hdr('|S4', '(1, 1, 28, 28)'), new Uint8Array(784 * 4)), expect: R1 },
    { name: 'dtype-float16', bytes: () => npyWith(hdr('<f2', '(1, 1, 28, 28)'), new Uint8Array(784 * 2)) },
    { name: 'dtype-bool', bytes: () => npyWith(hdr('|b1', '(1, 1, 28, 28)'), new Uint8Array(784)) },
    { name: 'dtype-structured', bytes: () => npyWith(`{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1, 1, 28, 28), }`, body), expect: R1 },
    { name: 'pickled-object', bytes: () => npyWith(hdr('|O', '(1, 1, 28, 28)'), new TextEncoder().encode("cos\nsystem\n(S'echo pwned'\ntR.")), expect: R1 },
    { name: 'truncated-data', bytes: () => encodeNpy(one.data, one.dims).slice(0, 500), expect: R1 },
    { name: 'truncated-header', bytes: () => encodeNpy(one.data, one.dims).slice(0, 30), expect: R1 },
    { name: 'extra-data', bytes: () => npyWith(hdr('<f4', '(1, 1, 28, 28)'), new Uint8Array([...body, 1, 2, 3, 4])) },
    { name: 'nan-value', bytes: withValue(NaN), expect: R1 },
    { name: 'inf-value', bytes: withValue(Infinity), expect: R1 },
    { name: 'huge-value', bytes: withValue(3e38) },
    { name: 'empty-file', bytes: () => new Uint8Array(), expect: R1 },
    { name: 'bad-magic', bytes: () => { const b = encodeNpy(one.data, one.dims); b[1] = 0x58; return b; }, expect: R1 },
    { name: 'version-9', bytes: () => { const b = encodeNpy(one.data, one.dims); b[6] = 9; return b; }, expect: R1 },
    { name: 'header-control-chars', bytes: () => npyWith(`{'descr': '<f4\x1b[2J', 'fortran_order': False, 'shape': (1, 1, 28, 28), }`, body), expect: R1 },
  ];
})();

export function npyCases(seed: number, flips: number): FuzzCase[] {
  const cases: FuzzCase[] = NPY.map((c) => ({
    id: `npy/${c.name}`,
    group: 'npy',
    expect: c.expect,
    prepare: async (dir): Promise<Prepared> => {
      const x = join(dir, 'x.npy');
      writeFileSync(x, c.bytes());
      const out = join(dir, 'out');
      return { args: ['explain', '--model', DIGITS_MODEL, '--input-npy', x, '--out', out, '-q', '--no-png'], out, check: c.means ? { model: DIGITS_MODEL, input: c.means() } : undefined };
    },
  }));
  for (let i = 0; i < flips; i++) {
    cases.push({
      id: `npy/flip#${i}`,
      group: 'npy',
      prepare: async (dir) => {
        const rng = new Rng(seed * 104729 + i);
        const one = digitsInput();
        const b = encodeNpy(one.data.slice(0, 784), [1, 1, 28, 28]);
        // Flips in the header (the first 128 bytes), where they change meaning rather than values.
        for (let k = rng.int(1, 4); k > 0; k--) b[rng.int(0, 128)] = rng.int(32, 127);
        const x = join(dir, 'x.npy');
        writeFileSync(x, b);
        const out = join(dir, 'out');
        return { args: ['explain', '--model', DIGITS_MODEL, '--input-npy', x, '--out', out, '-q', '--no-png'], out };
      },
    });
  }
  return cases;
}
