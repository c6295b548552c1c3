/**
 * Evaluation datasets: the annotation list, --limit, shards, and the box geometry of resizing and
 * centre cropping, checked against the pixels that image loading actually produces.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { boxesToInput, inputGeometry, loadDataset, parseEntries, parseShard, shardEntries } from '../src/eval/datasets.js';
import { loadImage } from '../src/io/image.js';
import { resolvePreprocess } from '../src/io/preprocess.js';
import { resizeBoxes, translateBoxes, type Box } from '../src/metrics/boxes.js';
import { BacklightError } from '../src/errors.js';

let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'backlight-eval-ds-'));
  // 90×60 black image with a white rectangle covering columns 20…49 and rows 10…29 (inclusive).
  const w = 90;
  const h = 60;
  const rgb = Buffer.alloc(w * h * 3);
  for (let y = 10; y <= 29; y++) for (let x = 20; x <= 49; x++) rgb.fill(255, (y * w + x) * 3, (y * w + x) * 3 + 3);
  await sharp(rgb, { raw: { width: w, height: h, channels: 3 } }).png().toFile(join(dir, 'rect.png'));
  writeFileSync(
    join(dir, 'annotations.json'),
    JSON.stringify([
      { file: 'rect.png', label: 3, boxes: [[20, 10, 49, 29]], extra: 'ignored' },
      { file: 'b.png', label: 1 },
      { file: 'c.png', label: 0, boxes: [] },
    ]),
  );
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Mean of the red channel (in 0…1 after x/255) over the input pixels whose centre is in the rectangle. */
function meanIn(data: Float32Array, width: number, height: number, x0: number, y0: number, x1: number, y1: number): number {
  let s = 0;
  let n = 0;
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) if (x >= x0 && x <= x1 && y >= y0 && y <= y1) {
    s += data[y * width + x]!;
    n++;
  }
  return n ? s / n : NaN;
}

describe('annotation lists', () => {
  it('reads {file, label, boxes?}, keeps the order, and applies --limit', async () => {
    const ds = await loadDataset({ data: dir });
    expect(ds.annotations).toBe(join(dir, 'annotations.json'));
    expect(ds.entries.map((e) => [e.index, e.file, e.label])).toEqual([[0, 'rect.png', 3], [1, 'b.png', 1], [2, 'c.png', 0]]);
    expect(ds.entries[0]!.boxes).toEqual([[20, 10, 49, 29]]);
    expect(ds.entries[1]!.boxes).toBeUndefined();
    expect(ds.entries[0]!.path).toBe(join(dir, 'rect.png'));
    const limited = await loadDataset({ data: dir, limit: 2 });
    expect(limited.entries).toHaveLength(2);
    expect(limited.total).toBe(3);
  });

  it('falls back to labels.json (the CIFAR sample format)', async () => {
    const d2 = mkdtempSync(join(tmpdir(), 'backlight-eval-ds2-'));
    try {
      writeFileSync(join(d2, 'labels.json'), JSON.stringify([{ file: 'x.png', label: 2, className: 'bird' }]));
      const ds = await loadDataset({ data: d2 });
      expect(ds.entries).toEqual([{ index: 0, file: 'x.png', path: join(d2, 'x.png'), label: 2 }]);
      rmSync(join(d2, 'labels.json'));
      await expect(loadDataset({ data: d2 })).rejects.toThrow(/no annotations.json or labels.json/);
    } finally {
      rmSync(d2, { recursive: true, force: true });
    }
  });

  it('refuses bad entries with the entry number', () => {
    const bad = (raw: unknown) => () => parseEntries(raw, 'a.json', dir);
    expect(bad({})).toThrow(/must be a JSON array/);
    expect(bad([{ label: 1 }])).toThrow(/entry 0: 'file'/);
    expect(bad([{ file: 'a.png', label: -1 }])).toThrow(/entry 0: 'label'/);
    expect(bad([{ file: 'a.png', label: 1 }, { file: 'a.png', label: 2 }])).toThrow(/entry 1: file 'a.png' is listed twice/);
    expect(bad([{ file: 'a.png', label: 1, boxes: [[3, 0, 1, 1]]}])).toThrow(/entry 0: box 0/);
    expect(bad([{ file: '../a.png', label: 1 }])).toThrow(/inside the data folder/);
    expect(bad([{ file: 'a.png', label: 1.5 }])).toThrow(BacklightError);
  });

  it('shards by index % n', async () => {
    const ds = await loadDataset({ data: dir });
    expect(shardEntries(ds.entries, parseShard('1/2')).map((e) => e.index)).toEqual([1]);
    expect(shardEntries(ds.entries, parseShard('0/2')).map((e) => e.index)).toEqual([0, 2]);
    expect(shardEntries(ds.entries, null)).toHaveLength(3);
    for (const s of ['2/2', '1', 'a/b', '-1/2', '0/0']) expect(() => parseShard(s)).toThrow(/--shard/);
  });
});

describe('box geometry', () => {
  it('resize: scales by the input size over the image size (the ImageNet 227 → 224 rule)', () => {
    const boxes: Box[] = [[9.08, 105.93, 50.39, 176.76]];
    const p = resolvePreprocess('imagenet');
    expect(boxesToInput(boxes, 227, 227, p)).toEqual(resizeBoxes(boxes, 227, 224));
    expect(inputGeometry(224, 224, p)).toEqual({ sx: 1, sy: 1, dx: 0, dy: 0 });
  });

  it('centre crop: scales and shifts (227 → crop 227 → 224 is a shift by −2)', () => {
    const boxes: Box[] = [[9.08, 105.93, 50.39, 176.76]];
    const p = resolvePreprocess('imagenet', { crop: 227 });
    expect(inputGeometry(227, 227, p)).toEqual({ sx: 1, sy: 1, dx: -2, dy: -2 });
    expect(boxesToInput(boxes, 227, 227, p)).toEqual(translateBoxes(boxes, -2, -2));
    // torchvision's ratio: 227 → 256, crop 224 at 16.
    const q = resolvePreprocess('imagenet', { crop: true });
    const g = inputGeometry(227, 227, q);
    expect(g.sx).toBeCloseTo(256 / 227, 12);
    expect(g.dx).toBe(-16);
  });

  it('resize: the mapped box covers the rectangle in the loaded input', async () => {
    const p = resolvePreprocess('none', { size: [30, 30] });
    const img = await loadImage(join(dir, 'rect.png'), p);
    const [box] = boxesToInput([[20, 10, 49, 29]], img.original.width, img.original.height, p);
    expect(box![0]).toBeCloseTo(20 / 3, 10);
    expect(box![1]).toBeCloseTo(5, 10);
    expect(box![2]).toBeCloseTo(49 / 3, 10);
    expect(box![3]).toBeCloseTo(14.5, 10);
    const red = img.tensor.data.subarray(0, 30 * 30);
    // Well inside the box: white; well outside: black.
    expect(meanIn(red, 30, 30, box![0] + 1, box![1] + 1, box![2] - 1, box![3] - 1)).toBeGreaterThan(0.95);
    expect(meanIn(red, 30, 30, 0, 20, 29, 29)).toBeLessThan(0.02);
    expect(meanIn(red, 30, 30, 20, 0, 29, 29)).toBeLessThan(0.02);
  });

  it('centre crop: the mapped box covers the rectangle in the loaded input', async () => {
    // 90×60 → shorter side 40 → 60×40, centre 32×32 at (14, 4).
    const p = resolvePreprocess('none', { size: [32, 32], crop: 40 });
    const g = inputGeometry(90, 60, p);
    expect(g).toEqual({ sx: 60 / 90, sy: 40 / 60, dx: -14, dy: -4 });
    const img = await loadImage(join(dir, 'rect.png'), p);
    const [box] = boxesToInput([[20, 10, 49, 29]], 90, 60, p);
    expect(box![0]).toBeCloseTo(20 * (2 / 3) - 14, 10);
    expect(box![1]).toBeCloseTo(10 * (2 / 3) - 4, 10);
    expect(box![2]).toBeCloseTo(49 * (2 / 3) - 14, 10);
    expect(box![3]).toBeCloseTo(29 * (2 / 3) - 4, 10);
    const red = img.tensor.data.subarray(0, 32 * 32);
    expect(meanIn(red, 32, 32, Math.max(0, box![0] + 1), box![1] + 1, box![2] - 1, box![3] - 1)).toBeGreaterThan(0.95);
    expect(meanIn(red, 32, 32, box![2] + 2, 0, 31, 31)).toBeLessThan(0.02);
    expect(meanIn(red, 32, 32, 0, box![3] + 2, 31, 31)).toBeLessThan(0.02);
  });
});
