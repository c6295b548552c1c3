/** src/io: image decoding (sharp) and preprocessing, presets, PNG output and grids. */
import { existsSync, readdirSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BacklightError } from '../src/errors.js';
import { decodeImage, decodeRGBA, loadImage, loadImages } from '../src/io/image.js';
import { drawGrid, writePng } from '../src/io/png.js';
import { IMAGENET_MEAN, IMAGENET_STD, describePreprocess, inputDims, luma, pixelBounds, resolvePreprocess, tensorToImage } from '../src/io/preprocess.js';
import { heatmapRGBA, layoutGrid } from '../src/render/index.js';
import { HAS_SHARED, shared } from './helpers/paths.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'backlight-image-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A 4×2 RGB test image, row-major. */
const PIXELS: Array<[number, number, number]> = [
  [255, 0, 0], [0, 255, 0], [0, 0, 255], [10, 20, 30],
  [0, 0, 0], [255, 255, 255], [128, 64, 32], [200, 100, 50],
];

async function writeSynthetic(name: string, format: 'png' | 'jpeg' | 'webp' = 'png'): Promise<string> {
  const file = path.join(dir, name);
  const raw = Buffer.from(PIXELS.flat());
  const img = sharp(raw, { raw: { width: 4, height: 2, channels: 3 } });
  // Without chroma subsampling (JPEG) or lossless (WebP): a 4×2 image of saturated colours
  // would otherwise lose its colours.
  if (format === 'jpeg') await img.jpeg({ quality: 100, chromaSubsampling: '4:4:4' }).toFile(file);
  else if (format === 'webp') await img.webp({ lossless: true }).toFile(file);
  else await img.png().toFile(file);
  return file;
}

async function expectError(p: Promise<unknown>, pattern: RegExp): Promise<BacklightError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(BacklightError);
  expect((e as Error).message).toMatch(pattern);
  return e as BacklightError;
}

describe('resolvePreprocess', () => {
  it('gives the documented presets', () => {
    expect(resolvePreprocess('imagenet')).toEqual({ preset: 'imagenet', width: 224, height: 224, crop: null, channels: 'rgb', layout: 'nchw', mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect(resolvePreprocess('cifar10')).toMatchObject({ width: 32, height: 32, channels: 'rgb', mean: IMAGENET_MEAN, std: IMAGENET_STD });
    expect(resolvePreprocess('mnist')).toMatchObject({ width: 28, height: 28, channels: 'gray', mean: [0], std: [1] });
    expect(resolvePreprocess('none', {}, [1, 1, 28, 28])).toMatchObject({ width: 28, height: 28, channels: 'gray', mean: [0], std: [1] });
    expect(resolvePreprocess('none', {}, ['batch', 3, 32, 48])).toMatchObject({ width: 48, height: 32, channels: 'rgb', layout: 'nchw', mean: [0, 0, 0] });
    expect(inputDims(resolvePreprocess('imagenet'), 5)).toEqual([5, 3, 224, 224]);
  });

  it('applies overrides', () => {
    expect(resolvePreprocess('imagenet', { crop: true }).crop).toBe(256);
    expect(resolvePreprocess('imagenet', { crop: 300, size: [200, 100] })).toMatchObject({ crop: 300, width: 200, height: 100 });
    expect(resolvePreprocess('imagenet', { size: 299 })).toMatchObject({ width: 299, height: 299 });
    // Preset means are RGB: reordered for a BGR tensor.
    expect(resolvePreprocess('imagenet', { channels: 'bgr' })).toMatchObject({ mean: [0.406, 0.456, 0.485], std: [0.225, 0.224, 0.229] });
    expect(resolvePreprocess('mnist', { mean: [0.1307], std: [0.3081] })).toMatchObject({ mean: [0.1307], std: [0.3081] });
    expect(resolvePreprocess('imagenet', { mean: [0.5], std: [0.5] })).toMatchObject({ mean: [0.5, 0.5, 0.5], std: [0.5, 0.5, 0.5] });
    // NHWC models are recognized from their shape (e.g. the TF.js MobileNet).
    expect(resolvePreprocess('imagenet', {}, ['batch', 224, 224, 3])).toMatchObject({ layout: 'nhwc' });
    expect(describePreprocess(resolvePreprocess('imagenet'))).toBe('224×224 resize, RGB, NCHW, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]');
  });

  it('refuses what does not fit, with usage errors', () => {
    const bad = (fn: () => unknown, pattern: RegExp): void => {
      let err: unknown;
      try {
        fn();
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(BacklightError);
      expect((err as BacklightError).kind).toBe('usage');
      expect((err as Error).message).toMatch(pattern);
    };
    bad(() => resolvePreprocess('imagenet21k'), /unknown preprocessing preset 'imagenet21k': use one of imagenet, imagenet-tf, cifar10, mnist, none/);
    bad(() => resolvePreprocess('mnist', { mean: [0.1, 0.2, 0.3] }), /mean has 3 values, but a gray input has 1 channel/);
    bad(() => resolvePreprocess('imagenet', { std: [1, 2] }), /std has 2 values, but a RGB input has 3 channels/);
    bad(() => resolvePreprocess('imagenet', { channels: 'gray' }), /'imagenet' preset has 3 mean values .* gray input has 1 channel: give mean and std/);
    bad(() => resolvePreprocess('imagenet', { std: [0.2, 0, 0.2] }), /std values must be positive/);
    bad(() => resolvePreprocess('imagenet', { size: 0 }), /size must be/);
    bad(() => resolvePreprocess('imagenet', { size: [2.5, 3] }), /size must be/);
    bad(() => resolvePreprocess('imagenet', { crop: 100 }), /crop must be .* ≥ 224/);
    bad(() => resolvePreprocess('none'), /takes its size from the model/);
    bad(() => resolvePreprocess('none', {}, [1, 3, 'h', 'w']), /whose height and width are not fixed/);
    bad(() => resolvePreprocess('imagenet', {}, [1, 3, 32, 32]), /model input is \[1, 3, 32, 32\] but the 'imagenet' preprocessing makes \[1, 3, 224, 224\]/);
    bad(() => resolvePreprocess('imagenet', {}, [1, 1, 224, 224]), /makes \[1, 3, 224, 224\]/);
    bad(() => resolvePreprocess('cifar10', {}, [1, 10]), /not an image batch/);
  });

  it('pixelBounds are the normalized values of black and white', () => {
    const b = pixelBounds(resolvePreprocess('imagenet'));
    expect(b.low.map((v) => +v.toFixed(6))).toEqual([-2.117904, -2.035714, -1.804444]);
    expect(b.high.map((v) => +v.toFixed(6))).toEqual([2.248908, 2.428571, 2.64]);
    expect(pixelBounds(resolvePreprocess('mnist'))).toEqual({ low: [0], high: [1] });
  });
});

describe('loadImage on synthetic images', () => {
  const pre = (o: Parameters<typeof resolvePreprocess>[1]) => resolvePreprocess('none', { size: [4, 2], ...o });

  it('RGB, NCHW: x/255 per channel plane', async () => {
    const file = await writeSynthetic('rgb.png');
    const r = await loadImage(file, pre({}));
    expect(r.tensor.dims).toEqual([1, 3, 2, 4]);
    for (let i = 0; i < 8; i++) for (let c = 0; c < 3; c++) expect(r.tensor.data[c * 8 + i]).toBeCloseTo(PIXELS[i]![c]! / 255, 6);
    expect([...r.display.data]).toEqual(PIXELS.flat());
    expect(r.original).toEqual({ width: 4, height: 2, format: 'png' });
    expect(r.source).toBe(file);
  });

  it('BGR, gray and NHWC layouts, mean and std', async () => {
    const file = await writeSynthetic('layouts.png');
    const bgr = await loadImage(file, pre({ channels: 'bgr' }));
    for (let i = 0; i < 8; i++) for (let c = 0; c < 3; c++) expect(bgr.tensor.data[c * 8 + i]).toBeCloseTo(PIXELS[i]![2 - c]! / 255, 6);
    expect([...bgr.display.data]).toEqual(PIXELS.flat());

    const gray = await loadImage(file, pre({ channels: 'gray' }));
    expect(gray.tensor.dims).toEqual([1, 1, 2, 4]);
    const lumas = PIXELS.map(([r, g, b]) => luma(r, g, b));
    expect(lumas.slice(0, 4)).toEqual([76, 150, 29, 18]);
    expect([...gray.tensor.data].map((v) => Math.round(v * 255))).toEqual(lumas);
    expect([...gray.display.data]).toEqual(lumas.flatMap((l) => [l, l, l]));

    const nhwc = await loadImage(file, pre({ layout: 'nhwc' }));
    expect(nhwc.tensor.dims).toEqual([1, 2, 4, 3]);
    expect([...nhwc.tensor.data].map((v) => Math.round(v * 255))).toEqual(PIXELS.flat());

    const norm = await loadImage(file, pre({ mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2], layout: 'nhwc' }));
    for (let i = 0; i < 8; i++) {
      const [r, g, b] = PIXELS[i]!;
      expect(norm.tensor.data[i * 3]).toBeCloseTo((r / 255 - 0.5) / 0.5, 5);
      expect(norm.tensor.data[i * 3 + 1]).toBeCloseTo((g / 255 - 0.25) / 0.25, 5);
      expect(norm.tensor.data[i * 3 + 2]).toBeCloseTo(b / 255 / 2, 5);
    }
    // tensorToImage inverts the preprocessing.
    const pairs = [
      [bgr, pre({ channels: 'bgr' })],
      [gray, pre({ channels: 'gray' })],
      [nhwc, pre({ layout: 'nhwc' })],
      [norm, pre({ mean: [0.5, 0.25, 0], std: [0.5, 0.25, 2], layout: 'nhwc' })],
    ] as const;
    for (const [t, p] of pairs) expect([...tensorToImage(t.tensor, p).data]).toEqual([...t.display.data]);
  });

  it('resizes, crops and stacks batches', async () => {
    const file = await writeSynthetic('resize.png');
    const big = await loadImage(file, resolvePreprocess('none', { size: 8 }));
    expect(big.tensor.dims).toEqual([1, 3, 8, 8]);
    expect(big.display.width * big.display.height * 3).toBe(big.display.data.length);
    expect(big.tensor.data.every((v) => v >= 0 && v <= 1)).toBe(true);
    // An 8×4 image whose red channel is 30·x: shorter side 4 (no scaling), centre 2×2 from x = 3.
    const ramp = path.join(dir, 'ramp.png');
    const raw = Buffer.alloc(8 * 4 * 3);
    for (let y = 0; y < 4; y++) for (let x = 0; x < 8; x++) raw[(y * 8 + x) * 3] = 30 * x;
    await sharp(raw, { raw: { width: 8, height: 4, channels: 3 } }).png().toFile(ramp);
    const crop = await loadImage(ramp, resolvePreprocess('none', { size: 2, crop: 4 }));
    expect([...crop.display.data]).toEqual([90, 0, 0, 120, 0, 0, 90, 0, 0, 120, 0, 0]);
    const batch = await loadImages([file, ramp], resolvePreprocess('none', { size: 2 }));
    expect(batch.tensor.dims).toEqual([2, 3, 2, 2]);
    expect(batch.images.map((i) => i.source)).toEqual([file, ramp]);
    expect([...batch.tensor.data.subarray(12)]).toEqual([...batch.images[1]!.tensor.data]);
  });

  it('decodes JPEG, WebP, gray, 16-bit and transparent images to RGB', async () => {
    for (const f of ['jpeg', 'webp'] as const) {
      const r = await loadImage(await writeSynthetic(`x.${f}`, f), pre({}));
      expect(r.original.format).toBe(f);
      expect(r.tensor.dims).toEqual([1, 3, 2, 4]);
      // JPEG is lossy even at quality 100: close to the pixels, not equal.
      const err = Math.max(...[...r.display.data].map((v, i) => Math.abs(v - PIXELS.flat()[i]!)));
      expect(err).toBeLessThan(f === 'jpeg' ? 40 : 1);
    }
    const grayFile = path.join(dir, 'gray.png');
    await sharp(Buffer.from([0, 50, 100, 150, 200, 250, 255, 1]), { raw: { width: 4, height: 2, channels: 1 } }).png().toFile(grayFile);
    const g = await loadImage(grayFile, pre({}));
    expect([...g.display.data]).toEqual([0, 50, 100, 150, 200, 250, 255, 1].flatMap((v) => [v, v, v]));

    const deep = path.join(dir, 'deep.png');
    await sharp(Buffer.from(PIXELS.flat()), { raw: { width: 4, height: 2, channels: 3 } }).toColourspace('rgb16').png().toFile(deep);
    expect((await sharp(deep).metadata()).depth).toBe('ushort');
    expect([...(await loadImage(deep, pre({}))).display.data]).toEqual(PIXELS.flat());

    // Transparency is flattened onto white.
    const alpha = path.join(dir, 'alpha.png');
    await sharp(Buffer.from([0, 0, 0, 0, 255, 0, 0, 255]), { raw: { width: 2, height: 1, channels: 4 } }).png().toFile(alpha);
    const a = await loadImage(alpha, resolvePreprocess('none', { size: [2, 1] }));
    expect([...a.display.data]).toEqual([255, 255, 255, 255, 0, 0]);
  });

  it('mnist: 28×28 gray in [0, 1]', async () => {
    const file = path.join(dir, 'digit.png');
    const raw = Buffer.alloc(56 * 56);
    for (let y = 10; y < 46; y++) raw.fill(255, y * 56 + 24, y * 56 + 32);
    await sharp(raw, { raw: { width: 56, height: 56, channels: 1 } }).png().toFile(file);
    const r = await loadImage(file, resolvePreprocess('mnist'));
    expect(r.tensor.dims).toEqual([1, 1, 28, 28]);
    expect(Math.min(...r.tensor.data)).toBe(0);
    expect(Math.max(...r.tensor.data)).toBe(1);
  });
});

describe('image errors', () => {
  const p = resolvePreprocess('imagenet');

  it('a missing file or a folder names the path', async () => {
    const missing = path.join(dir, 'nope.png');
    const e = await expectError(loadImage(missing, p), /cannot read image '.*nope\.png': no such file or folder \(ENOENT\)/);
    expect(e.kind).toBe('input');
    expect(e.message).toContain(missing);
    await expectError(loadImage(dir, p), /cannot read image '.*': it is a folder \(EISDIR\)/);
  });

  it('random bytes, an empty file and a truncated PNG are refused with the file name', async () => {
    const bytes = new Uint8Array(4096);
    let s = 12345;
    for (let i = 0; i < bytes.length; i++) bytes[i] = (s = (s * 1103515245 + 12345) >>> 0) >>> 24;
    const junk = path.join(dir, 'junk.png');
    await writeFile(junk, bytes);
    const e = await expectError(loadImage(junk, p), /^cannot decode image '.*junk\.png': not an image in a supported format/);
    expect(e.kind).toBe('input');
    expect(e.message).not.toContain('\n');

    const empty = path.join(dir, 'empty.jpg');
    await writeFile(empty, '');
    await expectError(loadImage(empty, p), /cannot decode image '.*empty\.jpg': the file is empty/);

    const whole = await sharp({ create: { width: 64, height: 64, channels: 3, background: 'black', noise: { type: 'gaussian', mean: 128, sigma: 40 } } }).png().toBuffer();
    const cut = path.join(dir, 'cut.png');
    await writeFile(cut, whole.subarray(0, whole.length >> 1));
    const t = await expectError(loadImage(cut, p), /cannot decode image '.*cut\.png': the file is damaged or truncated \(/);
    expect(t.message).not.toContain('\n');
    await expectError(decodeImage(bytes, p, 'upload #3'), /cannot decode image 'upload #3'/);
  });
});

describe.skipIf(!HAS_SHARED)('shared images', () => {
  const chelsea = shared('images', 'chelsea.png');

  it('chelsea with the imagenet preset: [1, 3, 224, 224] within the normalized pixel range', async () => {
    const p = resolvePreprocess('imagenet');
    const r = await loadImage(chelsea, p);
    expect(r.tensor.dims).toEqual([1, 3, 224, 224]);
    expect(r.original).toEqual({ width: 451, height: 300, format: 'png' });
    expect([r.display.width, r.display.height, r.display.data.length]).toEqual([224, 224, 224 * 224 * 3]);
    const { low, high } = pixelBounds(p);
    const n = 224 * 224;
    for (let c = 0; c < 3; c++) {
      const plane = r.tensor.data.subarray(c * n, (c + 1) * n);
      let min = Infinity;
      let max = -Infinity;
      let sum = 0;
      for (const v of plane) {
        min = Math.min(min, v);
        max = Math.max(max, v);
        sum += v;
      }
      expect(min).toBeGreaterThanOrEqual(low[c]! - 1e-5);
      expect(max).toBeLessThanOrEqual(high[c]! + 1e-5);
      // A natural photo uses much of the range and is roughly centred by the ImageNet statistics.
      expect(max - min).toBeGreaterThan(2);
      expect(Math.abs(sum / n)).toBeLessThan(1);
    }
    const back = tensorToImage(r.tensor, p);
    expect(back.data.every((v, i) => Math.abs(v - r.display.data[i]!) <= 1)).toBe(true);
    const cropped = await loadImage(chelsea, resolvePreprocess('imagenet', { crop: true }));
    expect(cropped.tensor.dims).toEqual([1, 3, 224, 224]);
    expect(cropped.display.data).not.toEqual(r.display.data);
  });

  it.skipIf(!existsSync(shared('models', 'mobilenetv2-imagenet.onnx')))('MobileNetV2 sees an Egyptian cat (p ≈ 0.79, as measured with PIL in ../shared/README.md)', async () => {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(shared('models', 'mobilenetv2-imagenet.onnx'));
    const { tensor } = await loadImage(chelsea, resolvePreprocess('imagenet', {}, [1, 3, 224, 224]));
    const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', tensor.data, tensor.dims) });
    const logits = out[session.outputNames[0]!]!.data as Float32Array;
    const m = Math.max(...logits);
    const e = logits.map((v) => Math.exp(v - m));
    const total = e.reduce((a, b) => a + b, 0);
    const best = e.indexOf(Math.max(...e));
    expect(best).toBe(285);
    expect(e[285]! / total).toBeCloseTo(0.79, 1);
    await session.release();
  });

  it("keeps the stored pixel values: rocket.jpg's Adobe RGB profile is not applied (PIL's values)", async () => {
    const r = await decodeRGBA(await readFile(shared('images', 'rocket.jpg')), 'rocket.jpg');
    // PIL: numpy.asarray(Image.open('rocket.jpg').convert('RGBA'))[0, :2]; sharp's default sRGB conversion gives 0, 27, 56.
    expect([...r.rgba.subarray(0, 8)]).toEqual([17, 33, 58, 255, 17, 33, 58, 255]);
    expect([r.width, r.height, r.format]).toEqual([640, 427, 'jpeg']);
  });

  it('a CIFAR-10 image with the cifar10 preset is normalized without resizing', async () => {
    const folder = shared('data', 'cifar10-test-1000');
    const file = path.join(folder, readdirSync(folder).find((f) => f.endsWith('.png'))!);
    const r = await loadImage(file, resolvePreprocess('cifar10'));
    expect(r.tensor.dims).toEqual([1, 3, 32, 32]);
    const { data } = await sharp(file).removeAlpha().raw().toBuffer({ resolveWithObject: true });
    expect([...r.display.data]).toEqual([...data]);
    expect(r.tensor.data[0]).toBeCloseTo((data[0]! / 255 - 0.485) / 0.229, 5);
  });
});

describe('PNG output', () => {
  it('writePng writes atomically and round-trips gray, RGB and RGBA pixels', async () => {
    const out = path.join(dir, 'png', 'sub');
    const rgba = Uint8ClampedArray.from([255, 0, 0, 255, 0, 255, 0, 128]);
    await writePng(path.join(out, 'rgba.png'), rgba, 2, 1);
    await writePng(path.join(out, 'rgb.png'), Uint8Array.from([1, 2, 3, 4, 5, 6]), 1, 2);
    await writePng(path.join(out, 'gray.png'), Uint8Array.from([7, 8]), 2, 1);
    expect(readdirSync(out).sort()).toEqual(['gray.png', 'rgb.png', 'rgba.png']);
    const read = async (f: string) => sharp(path.join(out, f)).raw().toBuffer({ resolveWithObject: true });
    const a = await read('rgba.png');
    expect([a.info.channels, ...a.data]).toEqual([4, ...rgba]);
    const b = await read('rgb.png');
    expect([b.info.width, b.info.height, ...b.data]).toEqual([1, 2, 1, 2, 3, 4, 5, 6]);
    expect((await sharp(path.join(out, 'gray.png')).metadata()).channels).toBe(1);
    const c = await read('gray.png'); // sharp reads gray as sRGB
    expect([...c.data]).toEqual([7, 7, 7, 8, 8, 8]);
    await expect(writePng(path.join(out, 'bad.png'), Uint8Array.from([1, 2]), 2, 2)).rejects.toThrow(/not 1, 3 or 4 channels/);
    // A file where a folder should be: a BacklightError, and no temporary file left behind.
    await writeFile(path.join(dir, 'blocker'), '');
    await expectError(writePng(path.join(dir, 'blocker', 'x.png'), rgba, 2, 1), /cannot (create output folder|write)/);
    expect(readdirSync(out).some((f) => f.includes('.tmp-'))).toBe(false);
  });

  it('drawGrid draws tiles and readable labels', async () => {
    const layout = layoutGrid({ rows: ['gradient', 'guided-backprop'], columns: ['285 Egyptian cat', 'max'], tile: 32, title: 'test grid' });
    const map = new Float32Array(32 * 32).map((_, i) => Math.sin(i / 50));
    const heat = heatmapRGBA(map, 32, 32, { signed: true });
    const input = { data: new Uint8Array(16 * 16 * 3).fill(90), width: 16, height: 16 };
    const file = path.join(dir, 'grid', 'grid.png');
    await mkdir(path.dirname(file), { recursive: true });
    await drawGrid(file, layout, { input, cells: [[heat, heat], [heat, null]] });
    const { data, info } = await sharp(file).raw().toBuffer({ resolveWithObject: true });
    expect([info.width, info.height, info.channels]).toEqual([layout.width, layout.height, 3]);
    const px = (x: number, y: number): number[] => [...data.subarray((y * info.width + x) * 3, (y * info.width + x) * 3 + 3)];
    const input0 = layout.tiles[0]!;
    expect(px(input0.x + 31, input0.y + 31)).toEqual([90, 90, 90]); // upscaled to the tile
    const empty = layout.tiles.at(-1)!;
    expect(px(empty.x + 5, empty.y + 5)).toEqual([255, 255, 255]);
    // Text: dark pixels in the header band and in the row-label column (needs a system font;
    // Debian's fonts-dejavu-core provides one).
    const dark = (x0: number, y0: number, x1: number, y1: number): number => {
      let n = 0;
      for (let y = y0; y < y1; y++) for (let x = x0; x < x1; x++) if (px(x, y)[0]! < 100) n++;
      return n;
    };
    const tileTop = layout.tiles[0]!.y;
    const hasFonts = existsSync('/usr/share/fonts') && readdirSync('/usr/share/fonts').length > 0;
    if (hasFonts) {
      expect(dark(0, 0, info.width, tileTop)).toBeGreaterThan(50);
      expect(dark(0, tileTop, layout.tiles[0]!.x, info.height)).toBeGreaterThan(50);
    }
    expect(await readFile(file)).toBeTruthy();
  });
});
