/**
 * One codebase for Node and the browser: everything the browser entry (src/web.ts) and the
 * explorer page (web/src/) import, followed file by file, uses no Node module, no Node-only
 * package and no Node global. (The page's end-to-end test is test/web.e2e.test.ts.)
 */
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { REPO } from './helpers/paths.js';

/** Packages the browser build may use. */
const BROWSER_PACKAGES = ['onnxruntime-web', 'onnxruntime-common', 'onnx-proto', 'd3-scale-chromatic', 'fast-png'];

/** The module specifiers of static imports and re-exports (`import x from '…'`, `import '…'`) and dynamic imports. */
const importsOf = (text: string): string[] =>
  [...text.matchAll(/^\s*(?:import|export)\s+(?:[\w*\s{},$]*?\s*from\s+)?'([^']+)'/gm), ...text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)].map((m) => m[1]!);

/** Every source file reachable from `entries` by relative imports, with the bare imports it makes. */
function importGraph(entries: string[]): Map<string, string[]> {
  const seen = new Map<string, string[]>();
  const todo = [...entries];
  while (todo.length > 0) {
    const file = todo.pop()!;
    if (seen.has(file)) continue;
    const text = readFileSync(file, 'utf8');
    const bare: string[] = [];
    for (const s of importsOf(text)) {
      if (s.startsWith('.')) {
        const target = path.resolve(path.dirname(file), s.split('?')[0]!.replace(/\.js$/, '.ts'));
        if (target.endsWith('.ts')) todo.push(target);
      } else bare.push(s);
    }
    seen.set(file, bare);
  }
  return seen;
}

describe('browser build', () => {
  const web = path.join(REPO, 'web', 'src');
  const entries = [path.join(REPO, 'src', 'web.ts'), ...readdirSync(web).filter((f) => f.endsWith('.ts')).map((f) => path.join(web, f))];
  const graph = importGraph(entries);

  it('reaches the core through the browser entry and the page', () => {
    const rel = [...graph.keys()].map((f) => path.relative(REPO, f));
    for (const f of ['src/core.ts', 'src/methods/explainer.ts', 'src/compile/compile.ts', 'src/io/preprocess.ts', 'src/render/heatmap.ts', 'src/methods/display.ts']) expect(rel).toContain(f);
    expect(graph.size).toBeGreaterThan(40);
    for (const f of graph.keys()) expect(existsSync(f), f).toBe(true);
  });

  it('imports no Node module, Node-only package or Node global', () => {
    for (const [file, bare] of graph) {
      const rel = path.relative(REPO, file);
      for (const s of bare) expect(BROWSER_PACKAGES.includes(s), `${rel} imports '${s}'`).toBe(true);
      const code = readFileSync(file, 'utf8').replace(/\/\*[\s\S]*?\*\/|\/\/.*$/gm, '');
      expect(code, rel).not.toMatch(/\b(process|Buffer|require|__dirname)\b[.(]/);
    }
  });

  it('the Node entry binds onnxruntime-node and nothing else differs', () => {
    const node = readFileSync(path.join(REPO, 'src', 'index.ts'), 'utf8');
    const browser = readFileSync(path.join(REPO, 'src', 'web.ts'), 'utf8');
    expect(importsOf(node).filter((s) => !s.startsWith('.'))).toEqual(['node:fs/promises', 'onnxruntime-node']);
    expect(importsOf(browser).filter((s) => !s.startsWith('.'))).toEqual(['onnxruntime-web']);
    // Both re-export the same public API.
    expect(node).toContain("export * from './core.js';");
    expect(browser).toContain("export * from './core.js';");
  });
});

describe('explorer page helpers', async () => {
  const { guessPreset } = await import('../web/src/guessPreset.js');
  const { presetClassNames, parseLabels, checkLabelCount } = await import('../web/src/classNames.js');
  const { photoOverlay, inputWindow } = await import('../web/src/photo.js');
  const { resolvePreprocess } = await import('../src/io/preprocess.js');
  const { OVERLAY_STYLE, drawAttribution } = await import('../src/core.js');
  const { colorize, normalizeMap, overlayRGBA, resizeMap } = await import('../src/render/index.js');

  it('guesses the preset from the model input shape, and only from a shape that fits it', () => {
    const cases: [(number | string)[], string][] = [
      [[1, 3, 224, 224], 'imagenet'],
      [['batch', 3, 224, 224], 'imagenet'],
      [[1, 224, 224, 3], 'imagenet'],
      [[1, 3, 32, 32], 'cifar10'],
      [[1, 1, 28, 28], 'mnist'],
      [['batch', 1, 28, 28], 'mnist'],
      [[1, 1, 32, 32], 'none'],
      [[1, 3, 28, 28], 'none'],
      [[1, 3, 64, 64], 'none'],
      [[1, 3, 'height', 'width'], 'none'],
      [[1, 3, 224, 225], 'none'],
      [[1, 10], 'none'],
    ];
    for (const [shape, preset] of cases) expect(guessPreset(shape).preset, `[${shape}]`).toBe(preset);
  });

  it('each preset brings its class names', () => {
    expect(presetClassNames('imagenet')).toHaveLength(1000);
    expect(presetClassNames('imagenet')![285]).toBe('Egyptian cat');
    expect(presetClassNames('cifar10')).toEqual(['airplane', 'automobile', 'bird', 'cat', 'deer', 'dog', 'frog', 'horse', 'ship', 'truck']);
    expect(presetClassNames('mnist')).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9']);
    expect(presetClassNames('none')).toBeNull();
  });

  it('reads labels files as --labels does, and names the file when they do not fit', () => {
    expect(parseLabels('cat\r\ndog\n', 'a.txt')).toEqual(['cat', 'dog']);
    expect(parseLabels('\uFEFF["cat", "dog"]', 'a.json')).toEqual(['cat', 'dog']);
    expect(() => parseLabels('[1, 2]', 'a.json')).toThrow("labels file 'a.json': a JSON labels file must hold an array of strings");
    expect(() => parseLabels('[oops', 'a.json')).toThrow(/^labels file 'a\.json': not valid JSON/);
    expect(() => parseLabels('', 'empty.txt')).toThrow("labels file 'empty.txt' is empty");
    expect(() => checkLabelCount(['a', 'b'], 'a.txt', 10)).toThrow("labels file 'a.txt' names 2 classes, but the model has 10");
  });

  /** A 32×32 map with structure (a ramp plus a bump), and a photo of the given size. */
  const map = Float32Array.from({ length: 32 * 32 }, (_, i) => (i % 32) / 31 + Math.exp(-(((i % 32) - 20) ** 2 + (Math.floor(i / 32) - 10) ** 2) / 20));
  const photoOf = (w: number, h: number) => ({
    image: { data: Uint8ClampedArray.from({ length: w * h * 4 }, (_, i) => (i % 4 === 3 ? 255 : (i * 37) % 251)), width: w, height: h },
    width: w,
    height: h,
  });
  const how = { signed: false, colormap: 'inferno' as const, clip: 99.5, opacity: 0.6 };

  it('over a photo of the input size, the overlay is the command line\'s', () => {
    const p = resolvePreprocess('cifar10');
    const photo = photoOf(32, 32);
    const geometry = { layout: 'nchw' as const, channels: 1, height: 32, width: 32 };
    const reference = drawAttribution(map, geometry, photo.image, { signed: false, reduce: 'maxabs', colormap: 'inferno' }, { clip: 99.5, opacity: 0.6 }).overlay;
    expect(Array.from(photoOverlay(map, photo, p, how).data)).toEqual(Array.from(reference.data));
  });

  it('a plain resize stretches the map over the whole photo (bilinear, as resizeMap)', () => {
    const p = resolvePreprocess('cifar10');
    const photo = photoOf(64, 96);
    const norm = normalizeMap(map, { signed: false, percentile: 99.5 });
    const t = resizeMap(norm.data, 32, 32, 64, 96, 'bilinear');
    const reference = overlayRGBA(photo.image, colorize({ data: t, signed: false, scale: norm.scale }, 64, 96, 'inferno'), 0.6, OVERLAY_STYLE);
    const got = photoOverlay(map, photo, p, how);
    let worst = 0;
    got.data.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - reference.data[i]!))));
    // Float32 rounding of the sample positions may move a colour by one step of the table.
    expect(worst).toBeLessThanOrEqual(2);
  });

  it('a centre crop puts the map over the crop window only, the rest of the photo dimmed', () => {
    // 64×32 photo, input 32×32 with the shorter side resized to 32: the window is x ∈ [16, 48).
    const p = resolvePreprocess('cifar10', { crop: 32 });
    const photo = photoOf(64, 32);
    expect(inputWindow(photo, p)).toEqual({ sx: 1, sy: 1, ox: 16, oy: 0 });
    const got = photoOverlay(map, photo, p, how);
    // Inside: the colours of the map over the window's own pixels (the normalization depends on the map only).
    const window = { data: new Uint8ClampedArray(32 * 32 * 4), width: 32, height: 32 };
    for (let y = 0; y < 32; y++) window.data.set(photo.image.data.subarray((y * 64 + 16) * 4, (y * 64 + 48) * 4), y * 32 * 4);
    const ref = photoOverlay(map, { image: window, width: 32, height: 32 }, resolvePreprocess('cifar10'), how);
    for (let y = 0; y < 32; y++) {
      for (let x = 0; x < 64; x++) {
        const i = (y * 64 + x) * 4;
        if (x >= 16 && x < 48) expect(Array.from(got.data.subarray(i, i + 4))).toEqual(Array.from(ref.data.subarray((y * 32 + x - 16) * 4, (y * 32 + x - 15) * 4)));
        else {
          // Outside: the photo in gray at the overlay's brightness, halved, no heat.
          const [r, g, b] = photo.image.data.subarray(i, i + 3);
          const gray = (0.299 * r! + 0.587 * g! + 0.114 * b!) * OVERLAY_STYLE.brightness;
          expect(Math.abs(got.data[i]! - gray * 0.5)).toBeLessThanOrEqual(1);
        }
      }
    }
  });
});
