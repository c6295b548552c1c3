/**
 * The public image API (`loadImage`, `preprocess`, `presets`, `softmax`, `topK`) and the one
 * preprocessing shared by the page and the command line:
 * - `preprocess` gives the command line's tensor, and a plan whose geometry and zB box are right;
 * - MobileNetV2 through the public API predicts the shared photos as ../shared/README.md measured
 *   them with PIL (class and probability to two decimals);
 * - in Chromium (playwright-core, Debian's /usr/bin/chromium; skipped without), the page's
 *   decoding (web/src/image.ts) gives the same RGBA as sharp and the same tensor bytes as the
 *   command line on the five shared photos, for the imagenet (resize and crop), cifar10 and mnist
 *   presets, and the same tensor for a PNG with every alpha value;
 * - examples/preprocess.ts runs;
 * - with BACKLIGHT_IMAGENET=1 (slow): MobileNetV2's top-1 on all of imagenet-val-1300 is ../shared's 79.38 %.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BacklightError, Explainer, loadImage, preprocess, presets, softmax, topK, type DecodedImage, type PreprocessOverrides } from '../src/index.js';
import { decodeImage } from '../src/io/image.js';
import { pixelBounds, resolvePreprocess } from '../src/io/preprocess.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';

const PHOTOS = ['astronaut.png', 'chelsea.png', 'coffee.png', 'grace_hopper.jpg', 'rocket.jpg'];

let dir: string;
let ramp: string;
beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'backlight-preprocess-'));
  // 90×60: red is a ramp along x, green along y, blue 50, half transparent in the right third.
  const px = Buffer.alloc(90 * 60 * 4);
  for (let y = 0; y < 60; y++) for (let x = 0; x < 90; x++) px.set([x * 2, y * 4, 50, x >= 60 ? 128 : 255], (y * 90 + x) * 4);
  ramp = path.join(dir, 'ramp.png');
  await sharp(px, { raw: { width: 90, height: 60, channels: 4 } }).png().toFile(ramp);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function rejection(p: Promise<unknown>): Promise<BacklightError> {
  const e = await p.then(() => undefined, (err: unknown) => err);
  expect(e).toBeInstanceOf(BacklightError);
  expect((e as Error).message).not.toContain('\n');
  return e as BacklightError;
}

describe('loadImage (Node)', () => {
  it('reads a path, bytes, a file: URL and an http URL to the same RGBA at the original size', async () => {
    const a = await loadImage(ramp);
    expect([a.width, a.height, a.rgba.length, a.source]).toEqual([90, 60, 90 * 60 * 4, ramp]);
    expect([...a.rgba.subarray(4 * 61, 4 * 62)]).toEqual([122, 0, 50, 128]); // straight alpha, not flattened yet
    const bytes = readFileSync(ramp);
    expect((await loadImage(new Uint8Array(bytes), 'upload')).rgba).toEqual(a.rgba);
    expect((await loadImage(pathToFileURL(ramp))).rgba).toEqual(a.rgba);

    const server: Server = createServer((req, res) => {
      if (req.url === '/ramp.png') res.writeHead(200, { 'content-type': 'image/png' }).end(bytes);
      else res.writeHead(404).end();
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const web = await loadImage(`${base}/ramp.png`);
      expect(web.rgba).toEqual(a.rgba);
      expect(web.source).toBe(`${base}/ramp.png`);
      const e = await rejection(loadImage(new URL(`${base}/nope.png`)));
      expect(e.message).toBe(`cannot fetch image '${base}/nope.png': HTTP 404 Not Found`);
    } finally {
      server.close();
    }
  });

  it('refuses what is not an image in one line', async () => {
    expect((await rejection(loadImage(path.join(dir, 'missing.png')))).message).toMatch(/^cannot read image '.*missing\.png': no such file/);
    expect((await rejection(loadImage(new Uint8Array(100).fill(7), 'junk'))).message).toMatch(/^cannot decode image 'junk': not an image/);
    expect((await rejection(loadImage(new URL('ftp://example.com/a.png')))).message).toBe("cannot load image 'ftp://example.com/a.png': only file:, http: and https: URLs are read");
    expect((await rejection(loadImage(42 as unknown as string))).kind).toBe('usage');
  });
});

describe('preprocess', () => {
  let image: DecodedImage;
  beforeAll(async () => {
    image = await loadImage(ramp);
  });

  it("gives the command line's tensor for every preset", async () => {
    const bytes = new Uint8Array(readFileSync(ramp));
    for (const [preset, overrides] of [['imagenet', {}], ['imagenet', { crop: true }], ['cifar10', {}], ['mnist', {}], ['none', { size: [17, 13], layout: 'nhwc', channels: 'bgr' }]] as const) {
      const cli = await decodeImage(bytes, resolvePreprocess(preset, overrides as PreprocessOverrides), ramp);
      const api = preprocess(image, { preset, ...(overrides as PreprocessOverrides) });
      expect(api.tensor.dims).toEqual(cli.tensor.dims);
      expect(Buffer.from(api.tensor.data.buffer).equals(Buffer.from(cli.tensor.data.buffer))).toBe(true);
      expect(api.display).toEqual(cli.display);
    }
    expect(preprocess(image, presets.cifar10).tensor.data).toEqual(preprocess(image, 'cifar10').tensor.data);
  });

  it('flattens transparency onto white before resizing', () => {
    const { display } = preprocess(image, { size: [90, 60] }); // no resize: the pixels themselves
    // x = 61 (alpha 128): c·128/255 + 127, so 122 → 188.2 → 188, 0 → 127, 50 → 152.1 → 152.
    expect([...display.data.subarray(3 * 61, 3 * 62)]).toEqual([188, 127, 152]);
    expect([...display.data.subarray(3 * 59, 3 * 60)]).toEqual([118, 0, 50]);
  });

  it('returns the plan: resize/crop geometry, the region of the original, the zB box and the class names', () => {
    // 90×60 → shorter side 40: 60×40, the centre 32×32 at (14, 4), i.e. x 21…69, y 6…54 of the original.
    const { plan, tensor } = preprocess(image, { preset: 'imagenet', size: 32, crop: 40 });
    expect(tensor.dims).toEqual([1, 3, 32, 32]);
    expect(plan.source).toEqual({ width: 90, height: 60 });
    expect(plan.resized).toEqual({ width: 60, height: 40 });
    expect(plan.crop).toEqual({ left: 14, top: 4, width: 32, height: 32 });
    expect(plan.region).toEqual({ x: 21, y: 6, width: 48, height: 48 });
    expect(plan.box.low.map((v) => +v.toFixed(6))).toEqual([-2.117904, -2.035714, -1.804444]); // (0 − mean) / std
    expect(plan.box.high.map((v) => +v.toFixed(6))).toEqual([2.248908, 2.428571, 2.64]); // (1 − mean) / std
    expect(plan.box).toEqual(pixelBounds(plan.preprocess));
    expect(plan.classes).toBe(presets.imagenet.classes);
    // torchvision's default pair: Resize(256) + CenterCrop(224).
    const tv = preprocess(image, { preset: 'imagenet', crop: true }).plan;
    expect([tv.resized, tv.crop]).toEqual([{ width: 384, height: 256 }, { left: 80, top: 16, width: 224, height: 224 }]);
    expect(preprocess(image, 'mnist').plan.box).toEqual({ low: [0], high: [1] });
  });

  it('presets carry their class names', () => {
    expect(presets.imagenet.classes).toHaveLength(1000);
    expect(presets.imagenet.classes![285]).toBe('Egyptian cat');
    expect(presets.cifar10.classes).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    expect(presets.mnist.classes![7]).toBe('7');
    expect(presets.none.classes).toBeNull();
    const cifar = shared('data', 'cifar10-test-1000', 'classes.json');
    if (existsSync(cifar)) expect(presets.cifar10.classes).toEqual(JSON.parse(readFileSync(cifar, 'utf8')));
  });

  it('refuses options that do not fit, in one line', () => {
    const usage = (fn: () => unknown, pattern: RegExp): void => {
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
    usage(() => preprocess(image, 'imagenet21k' as 'imagenet'), /^unknown preprocessing preset 'imagenet21k': use one of imagenet, imagenet-tf, cifar10, mnist, none$/);
    usage(() => preprocess(image, { preset: 'imagenet', modelShape: [1, 3, 32, 32] }), /model input is \[1, 3, 32, 32\] but the 'imagenet' preprocessing makes \[1, 3, 224, 224\]/);
    usage(() => preprocess(image, {}), /'none' preset takes its size from the model/);
    usage(() => preprocess(image, { ...presets.imagenet, mean: [0.5, 0.5, 0.5] }), /a preset must be one of `presets` as it is; to change one, pass options: \{ preset: 'imagenet', mean, std, size, … \}/);
    expect(() => preprocess({ ...image, rgba: image.rgba.subarray(1) }, 'imagenet')).toThrow(/image '.*ramp\.png': expected 21600 RGBA bytes for 90×60 pixels, got 21599/);
  });
});

describe('softmax and topK', () => {
  const logits = { data: Float32Array.from([1, 3, 2, 3, 0, 0, 5, 0]), dims: [2, 4] };

  it('match hand-computed probabilities, with names, best first (ties: lower index)', () => {
    const e = [Math.E ** -2, 1, Math.E ** -1, 1];
    const sum = e.reduce((a, b) => a + b);
    expect([...softmax(logits)].map((v) => +v.toFixed(12))).toEqual(e.map((v) => +(v / sum).toFixed(12)));
    expect(topK(logits, 3, ['a', 'b', 'c', 'd'])).toEqual([
      { index: 1, name: 'b', logit: 3, probability: 1 / sum },
      { index: 3, name: 'd', logit: 3, probability: 1 / sum },
      { index: 2, name: 'c', logit: 2, probability: Math.E ** -1 / sum },
    ]);
    expect(topK(logits, 1, null, 1)[0]).toMatchObject({ index: 2, name: null, logit: 5 });
    expect(topK([0, 1000, 999], 1)[0]!.probability).toBeCloseTo(1 / (1 + Math.E ** -1), 12); // no overflow
  });

  it('refuse non-finite logits, bad k and shapes', () => {
    expect(() => topK([1, NaN], 1)).toThrow(/^topK: logit 1 is NaN, not a finite number$/);
    expect(() => topK(logits, 0)).toThrow(/k must be a positive integer/);
    expect(() => softmax(logits, 2)).toThrow(/image 2 is not in a batch of 2/);
    expect(() => softmax({ data: new Float32Array(8), dims: [2, 2, 2] })).toThrow(/shape \[N, classes\] or \[classes\], got \[2, 2, 2\]/);
  });
});

const MOBILENET = shared('models', 'mobilenetv2-imagenet.onnx');
describe.skipIf(!HAS_SHARED || !existsSync(MOBILENET))('MobileNetV2 on the shared photos through the public API = ../shared/README.md (PIL)', () => {
  // Top-1 class and probability as measured there with PIL (the whole photo resized to 224×224).
  const EXPECTED: Record<string, [string, number]> = {
    'chelsea.png': ['Egyptian cat', 0.79],
    'coffee.png': ['espresso', 0.99],
    'astronaut.png': ['bobsled', 0.34],
    'rocket.jpg': ['obelisk', 0.46],
    'grace_hopper.jpg': ['military uniform', 0.36],
  };
  it('top-1 class and probability to two decimals', async () => {
    const ex = await Explainer.load(MOBILENET);
    for (const [photo, [name, p]] of Object.entries(EXPECTED)) {
      const { tensor } = preprocess(await loadImage(shared('images', photo)), { preset: 'imagenet', modelShape: ex.inputShape });
      const r = await ex.explain(tensor, { method: 'gradient', target: 'max', reductions: [] });
      const [best] = topK(r.logits, 1, presets.imagenet.classes);
      expect([photo, best!.name], photo).toEqual([photo, name]);
      expect(best!.probability, photo).toBeCloseTo(p, 2);
    }
  }, 120_000);

  // Slow (about 2.5 min on 2 cores): BACKLIGHT_IMAGENET=1. Every one of the 1,300 images preprocessed as PIL did gives ../shared's accuracy exactly.
  it.skipIf(!process.env.BACKLIGHT_IMAGENET)('top-1 on imagenet-val-1300 is 79.38 % (1,032 images), as measured with PIL', async () => {
    const ort = await import('onnxruntime-node');
    const session = await ort.InferenceSession.create(MOBILENET, { intraOpNumThreads: 2 });
    const folder = shared('data', 'imagenet-val-1300');
    const entries = JSON.parse(readFileSync(path.join(folder, 'annotations.json'), 'utf8')) as { file: string; label: number }[];
    let right = 0;
    for (const e of entries) {
      const { tensor } = preprocess(await loadImage(path.join(folder, e.file)), 'imagenet');
      const out = await session.run({ [session.inputNames[0]!]: new ort.Tensor('float32', tensor.data as Float32Array, tensor.dims) });
      if (topK(out[session.outputNames[0]!]!.data as Float32Array, 1)[0]!.index === e.label) right++;
    }
    await session.release();
    expect([right, entries.length]).toEqual([1032, 1300]);
  }, 900_000);

  it('examples/preprocess.ts runs', () => {
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'examples/preprocess.ts'], { cwd: REPO, encoding: 'utf8', timeout: 120_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/^image 451×300 → resized 384×256, crop at \(80, 16\)\n285 Egyptian cat p=0\.\d{3}\n(\d+ [^\n]+ p=0\.\d{3}\n){2}lrp map \[1,1,224,224\]\n$/);
  }, 120_000);
});

const CHROMIUM = process.env.BACKLIGHT_CHROMIUM ?? '/usr/bin/chromium';
describe.skipIf(!HAS_SHARED || !existsSync(CHROMIUM))('the page decodes and preprocesses the shared photos as the command line (Chromium)', () => {
  /** Which preprocessings to compare: [key, preset, overrides]. */
  const CASES: Array<[string, string, PreprocessOverrides]> = [
    ['imagenet', 'imagenet', {}],
    ['imagenet-crop', 'imagenet', { crop: true }],
    ['cifar10', 'cifar10', {}],
    ['mnist', 'mnist', {}],
  ];
  type PageResult = { width: number; height: number; rgba: string; variants: number[]; tensors: Record<string, string>; sameRgbaTensors: Record<string, string> };
  const results = new Map<string, PageResult>();
  let work: string;
  /** Every alpha value over many colours: a canvas keeps premultiplied pixels, so the RGBA differs, but not after flattening on white. */
  const ALPHA = 'alpha-gradient.png';
  let alphaFile: string;

  beforeAll(async () => {
    work = mkdtempSync(path.join(tmpdir(), 'backlight-page-decode-'));
    const px = Buffer.alloc(256 * 256 * 4);
    for (let y = 0; y < 256; y++) for (let x = 0; x < 256; x++) px.set([x, (x * 7 + y * 3) & 255, 255 - x, y], (y * 256 + x) * 4);
    alphaFile = path.join(work, ALPHA);
    await sharp(px, { raw: { width: 256, height: 256, channels: 4 } }).png().toFile(alphaFile);
    const { build } = await import('vite');
    const { chromium } = await import('playwright-core');
    // The page's own modules, bundled as one script.
    const entry = path.join(work, 'entry.ts');
    writeFileSync(
      entry,
      [
        `import { decodeImage, prepareImage } from ${JSON.stringify(path.join(REPO, 'web/src/image.ts'))};`,
        `import { decodeBlob, loadImage } from ${JSON.stringify(path.join(REPO, 'src/io/loadImageWeb.ts'))};`,
        `import { resolvePreprocess } from ${JSON.stringify(path.join(REPO, 'src/io/preprocess.ts'))};`,
        `(globalThis as any).backlightPage = { decodeImage, prepareImage, decodeBlob, loadImage, resolvePreprocess };`,
      ].join('\n'),
    );
    await build({
      configFile: false,
      logLevel: 'silent',
      root: work,
      build: { outDir: path.join(work, 'dist'), emptyOutDir: true, minify: false, lib: { entry, formats: ['iife'], name: 'backlightPageBundle', fileName: () => 'page.js' } },
    });
    const script = readFileSync(path.join(work, 'dist', 'page.js'), 'utf8');

    const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
    try {
      const page = await browser.newPage();
      await page.addScriptTag({ content: script });
      for (const photo of [...PHOTOS, ALPHA]) {
        const file = photo === ALPHA ? alphaFile : shared('images', photo);
        const bytes = readFileSync(file).toString('base64');
        const node = await loadImage(file);
        const result = await page.evaluate(
          async ({ name, b64, cases, nodeRgba, w, h }) => {
            const g = globalThis as unknown as { backlightPage: Record<string, (...a: unknown[]) => Promise<unknown> | unknown> };
            const api = g.backlightPage;
            const fromB64 = (s: string): Uint8Array => Uint8Array.from(atob(s), (c) => c.charCodeAt(0));
            const toB64 = (u: Uint8Array): string => {
              let s = '';
              for (let i = 0; i < u.length; i += 0x8000) s += String.fromCharCode(...u.subarray(i, i + 0x8000));
              return btoa(s);
            };
            const blob = new Blob([fromB64(b64) as BlobPart]);
            const decoded = (await api.decodeBlob!(blob, name)) as { rgba: Uint8Array; width: number; height: number };
            // loadImage's other inputs: a URL, an ImageBitmap, an <img> (largest difference to the Blob's pixels).
            const url = URL.createObjectURL(blob);
            const img = new Image();
            img.src = url;
            const others = [await api.loadImage!(url), await api.loadImage!(await createImageBitmap(blob, { colorSpaceConversion: 'none' })), await api.loadImage!(img)] as Array<{ rgba: Uint8Array }>;
            const variants = others.map((o) => o.rgba.reduce((m, v, i) => Math.max(m, Math.abs(v - decoded.rgba[i]!)), o.rgba.length === decoded.rgba.length ? 0 : 999));
            URL.revokeObjectURL(url);
            const out = { width: decoded.width, height: decoded.height, rgba: toB64(decoded.rgba), variants, tensors: {} as Record<string, string>, sameRgbaTensors: {} as Record<string, string> };
            const same = { rgba: fromB64(nodeRgba), width: w, height: h, source: name };
            for (const [key, preset, overrides] of cases) {
              const p = api.resolvePreprocess!(preset, overrides);
              // The page's file path (decodeImage) for the first preset; the same decoded pixels for the others.
              const r = (key === cases[0]![0] ? await api.decodeImage!(blob, name, p) : api.prepareImage!(decoded, p)) as { tensor: { data: Float32Array } };
              out.tensors[key] = toB64(new Uint8Array(r.tensor.data.buffer));
              const s = api.prepareImage!(same, p) as { tensor: { data: Float32Array } };
              out.sameRgbaTensors[key] = toB64(new Uint8Array(s.tensor.data.buffer));
            }
            return out;
          },
          { name: photo, b64: bytes, cases: CASES, nodeRgba: Buffer.from(node.rgba).toString('base64'), w: node.width, h: node.height },
        );
        results.set(photo, result);
      }
    } finally {
      await browser.close();
    }
  }, 180_000);
  afterAll(() => {
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it.each([...PHOTOS, ALPHA])('%s: same RGBA as sharp (opaque photos), same tensor bytes as the command line', async (photo) => {
    const r = results.get(photo)!;
    const file = photo === ALPHA ? alphaFile : shared('images', photo);
    const node = await loadImage(file);
    expect([r.width, r.height]).toEqual([node.width, node.height]);
    const rgba = Buffer.from(r.rgba, 'base64');
    let worst = 0;
    for (let i = 0; i < rgba.length; i++) worst = Math.max(worst, Math.abs(rgba[i]! - node.rgba[i]!));
    // Measured on the gradient: 97,920 of 262,144 RGBA values differ (fully transparent pixels lose their colour).
    if (photo !== ALPHA) {
      expect(worst, `largest difference between Chromium's and sharp's decoding of ${photo}`).toBe(0);
      expect(r.variants, 'loadImage of a URL, an ImageBitmap and an <img>').toEqual([0, 0, 0]);
    }
    const bytes = new Uint8Array(readFileSync(file));
    for (const [key, preset, overrides] of CASES) {
      const cli = await decodeImage(bytes, resolvePreprocess(preset, overrides), photo);
      const cliBytes = Buffer.from(cli.tensor.data.buffer, cli.tensor.data.byteOffset, cli.tensor.data.byteLength);
      expect(Buffer.from(r.sameRgbaTensors[key]!, 'base64').equals(cliBytes), `${photo} ${key}: same RGBA in`).toBe(true);
      expect(Buffer.from(r.tensors[key]!, 'base64').equals(cliBytes), `${photo} ${key}: page decoding`).toBe(true);
    }
  });
});
