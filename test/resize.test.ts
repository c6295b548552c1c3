/**
 * src/io/resize.ts against Pillow (`Image.resize(size, BILINEAR)`) and torchvision
 * (`Resize(S)` + `CenterCrop`): bit for bit.
 * - Always (with ../shared): the five shared photos and twenty 227×227 ImageNet images, decoded and
 *   resized by Backlight's Node path, against the sha256 of Pillow's results in
 *   test/fixtures/pil-resize.json (written by test/resize/pil_reference.py from Pillow's own decoding).
 * - With Debian's python3-pil and torchvision (/usr/bin/python3): seeded random images of odd sizes,
 *   1/3/4 channels, shrinking and enlarging, plain resize and resize + centre crop, computed by
 *   Pillow in the same run.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRGBA } from '../src/io/image.js';
import { flattenOnWhite } from '../src/io/preprocessImage.js';
import { resizeBilinear, resizeCropPlan, roundHalfEven } from '../src/io/resize.js';
import { HAS_SHARED, REPO, shared } from './helpers/paths.js';

const PYTHON = '/usr/bin/python3';
const HAS_PIL = existsSync(PYTHON) && spawnSync(PYTHON, ['-c', 'import PIL, numpy, torchvision'], { stdio: 'ignore' }).status === 0;
const FIXTURE = JSON.parse(readFileSync(path.join(REPO, 'test', 'fixtures', 'pil-resize.json'), 'utf8')) as {
  photos: Record<string, { resize224: string; resize32: string; resize256crop224: string }>;
  imagenet227to224: Record<string, string>;
};

const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');

/** A seeded image: smooth gradients plus noise plus hard edges, so every weight matters. */
function randomImage(width: number, height: number, channels: number, seed: number): Uint8Array {
  let s = seed >>> 0;
  const rnd = (): number => (s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32;
  const out = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      for (let c = 0; c < channels; c++) {
        const smooth = 127 + 100 * Math.sin((x * (c + 1)) / 7 + y / 5);
        const edge = (x + y * 3) % 11 < 3 ? 255 : 0;
        out[(y * width + x) * channels + c] = Math.round(rnd() < 0.5 ? smooth : rnd() < 0.5 ? edge : rnd() * 255);
      }
    }
  }
  return out;
}

describe('resizeBilinear: properties', () => {
  it('keeps a constant image constant, copies at the same size, and computes only the window', () => {
    const flat = new Uint8Array(37 * 23 * 3).fill(77);
    expect(resizeBilinear({ data: flat, width: 37, height: 23, channels: 3 }, 5, 9).every((v) => v === 77)).toBe(true);
    expect(resizeBilinear({ data: flat, width: 37, height: 23, channels: 3 }, 80, 61).every((v) => v === 77)).toBe(true);
    const img = { data: randomImage(31, 17, 3, 1), width: 31, height: 17, channels: 3 };
    expect(resizeBilinear(img, 31, 17)).toEqual(img.data);
    const full = resizeBilinear(img, 20, 12);
    const win = resizeBilinear(img, 20, 12, { left: 3, top: 2, width: 10, height: 7 });
    for (let y = 0; y < 7; y++) expect(win.subarray(y * 30, (y + 1) * 30)).toEqual(full.subarray(((y + 2) * 20 + 3) * 3, ((y + 2) * 20 + 13) * 3));
  });

  it('a 4 → 2 ramp by hand: support 2, weights 3/7, 3/7, 1/7 in 22-bit fixed point', () => {
    // Output 0 is centred at 1.0: source pixels 0, 1, 2 with triangle weights 0.75, 0.75, 0.25 (sum 1.75).
    const out = resizeBilinear({ data: Uint8Array.from([0, 70, 140, 210]), width: 4, height: 1, channels: 1 }, 2, 1);
    const w = [0.75, 0.75, 0.25].map((v) => Math.trunc(0.5 + (v / 1.75) * 2 ** 22));
    expect(out[0]).toBe(Math.floor((2 ** 21 + 70 * w[1]! + 140 * w[2]!) / 2 ** 22));
    // (3·0 + 3·70 + 1·140) / 7 = 50; output 1 mirrors it on pixels 1…3: (70 + 3·140 + 3·210) / 7 = 160.
    expect([...out]).toEqual([50, 160]);
  });

  it('refuses sizes that do not fit', () => {
    const img = { data: new Uint8Array(12), width: 2, height: 2, channels: 3 };
    expect(() => resizeBilinear(img, 0, 3)).toThrow(/sizes must be positive integers/);
    expect(() => resizeBilinear({ ...img, data: new Uint8Array(11) }, 3, 3)).toThrow(/has 12 bytes, got 11/);
    expect(() => resizeBilinear(img, 3, 3, { left: 2, top: 0, width: 2, height: 3 })).toThrow(/window 2×3 at \(2, 0\) is not inside 3×3/);
  });

  it("torchvision's Resize + CenterCrop plan: truncated long side, Python's rounding", () => {
    expect(resizeCropPlan(451, 300, 256, 224, 224)).toEqual({ width: 384, height: 256, left: 80, top: 16 }); // 384.85 → 384
    expect(resizeCropPlan(300, 451, 256, 224, 224)).toEqual({ width: 256, height: 384, left: 16, top: 80 });
    expect(resizeCropPlan(227, 227, 227, 224, 224)).toEqual({ width: 227, height: 227, left: 2, top: 2 }); // round(1.5) = 2
    expect(resizeCropPlan(225, 300, 225, 224, 224).left).toBe(0); // round(0.5) = 0
    expect([0.5, 1.5, 2.5, 3.5, 2.4, 2.6].map(roundHalfEven)).toEqual([0, 2, 2, 4, 2, 3]);
  });

  it('flattenOnWhite: alpha over white, opaque pixels unchanged', () => {
    expect([...flattenOnWhite(Uint8Array.from([10, 20, 30, 255, 10, 20, 30, 0, 200, 100, 0, 128]), 3, 1)]).toEqual([10, 20, 30, 255, 255, 255, 227, 177, 127]);
  });
});

describe.skipIf(!HAS_SHARED)('Node decoding + resize = Pillow on the shared photos (sha256 of Pillow 9.4 results)', () => {
  const decode = async (file: string): Promise<{ data: Uint8Array; width: number; height: number; channels: number }> => {
    const d = await decodeRGBA(readFileSync(file), file);
    return { data: flattenOnWhite(d.rgba, d.width, d.height), width: d.width, height: d.height, channels: 3 };
  };

  it.each(Object.keys(FIXTURE.photos))('%s: resize 224, resize 32, Resize(256) + CenterCrop(224)', async (name) => {
    const img = await decode(shared('images', name));
    const ref = FIXTURE.photos[name]!;
    expect(sha(resizeBilinear(img, 224, 224))).toBe(ref.resize224);
    expect(sha(resizeBilinear(img, 32, 32))).toBe(ref.resize32);
    const p = resizeCropPlan(img.width, img.height, 256, 224, 224);
    expect(sha(resizeBilinear(img, p.width, p.height, { left: p.left, top: p.top, width: 224, height: 224 }))).toBe(ref.resize256crop224);
  });

  it('twenty 227×227 ImageNet validation images resized to 224', async () => {
    for (const [name, ref] of Object.entries(FIXTURE.imagenet227to224)) {
      const img = await decode(shared('data', 'imagenet-val-1300', name));
      expect(sha(resizeBilinear(img, 224, 224)), name).toBe(ref);
    }
  });
});

describe.skipIf(!HAS_PIL)('resizeBilinear = Pillow / torchvision on random images (python3-pil in this run)', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'backlight-resize-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('every case bit for bit', () => {
    type Case = { id: string; file: string; width: number; height: number; channels: number; size?: [number, number]; shorter?: number; crop?: [number, number] };
    const cases: Case[] = [];
    const shapes: Array<[number, number, number]> = [[97, 61, 3], [13, 200, 1], [640, 427, 3], [50, 50, 4], [1, 9, 3], [255, 3, 1]];
    const targets = (w: number, h: number): Array<Pick<Case, 'size' | 'shorter' | 'crop'>> => [
      { size: [224, 224] }, { size: [32, 32] }, { size: [Math.max(1, Math.round(w / 3)), h + 7] }, { size: [w * 2 + 1, Math.max(1, h - 1)] }, { size: [1, 1] },
      ...(Math.min(w, h) >= 2 ? [{ shorter: 256, crop: [224, 224] as [number, number] }, { shorter: 40, crop: [32, 24] as [number, number] }] : []),
    ];
    shapes.forEach(([w, h, c], i) => {
      const file = `in${i}.raw`;
      writeFileSync(path.join(dir, file), randomImage(w, h, c, 1000 + i));
      targets(w, h).forEach((t, j) => cases.push({ id: `c${i}_${j}`, file, width: w, height: h, channels: c, ...t }));
    });
    writeFileSync(path.join(dir, 'cases.json'), JSON.stringify(cases));
    const run = spawnSync(PYTHON, [path.join(REPO, 'test', 'resize', 'pil_reference.py'), 'cases', dir], { encoding: 'utf8', timeout: 120_000 });
    expect(run.status, run.stderr).toBe(0);

    let worst = 0;
    for (const k of cases) {
      const img = { data: new Uint8Array(readFileSync(path.join(dir, k.file))), width: k.width, height: k.height, channels: k.channels };
      let ours: Uint8Array;
      if (k.size) ours = resizeBilinear(img, k.size[0], k.size[1]);
      else {
        const p = resizeCropPlan(k.width, k.height, k.shorter!, k.crop![0], k.crop![1]);
        ours = resizeBilinear(img, p.width, p.height, { left: p.left, top: p.top, width: k.crop![0], height: k.crop![1] });
      }
      const ref = new Uint8Array(readFileSync(path.join(dir, `${k.id}.out`)));
      expect(ours.length, k.id).toBe(ref.length);
      for (let i = 0; i < ref.length; i++) worst = Math.max(worst, Math.abs(ours[i]! - ref[i]!));
    }
    expect(worst).toBe(0);
    expect(cases.length).toBeGreaterThan(35);
  });
});
