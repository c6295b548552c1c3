/**
 * The README's pictures example, runnable: explains a demo digit with LRP and draws the relevance
 * as a heatmap, an overlay on the (larger) original picture, and a colorbar, as PNG files. The same
 * calls run in a browser (`backlight/web`): they are pure TypeScript.
 *
 *   npx tsx examples/pictures.ts [out-folder]      (default: pictures-example/)
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { colorbar, Explainer, heatmap, mapAt, overlay, toPNG } from '../src/index.js';
import { decodeNpy } from '../src/io/npy.js';

const asset = (p: string): string => fileURLToPath(new URL(`../assets/${p}`, import.meta.url));
const out = process.argv[2] ?? 'pictures-example';
mkdirSync(out, { recursive: true });

const ex = await Explainer.load(asset('models/digits-cnn.onnx'));
const digits = decodeNpy(readFileSync(asset('demo/digits.npy')), 'digits.npy'); // [20, 1, 28, 28], x/255
const x = { data: digits.data.subarray(7 * 784, 8 * 784), dims: [1, 1, 28, 28] }; // a held-out 3
// LRP's zB rule at the input needs the pixel range of the input: x/255 is in [0, 1].
const r = await ex.explain(x, { method: 'lrp', target: 'max', params: { box: { low: [0], high: [1] } } });
const map = mapAt(r.maps.sum!, 0, 0); // image 0, target 0: relevance summed over channels, 28×28

// A signed map: 0 in the middle of a diverging colormap, ±(99.5th percentile of |R|) at its ends.
const heat = heatmap(map, { sign: 'all', colormap: 'coolwarm' });
const bar = colorbar({ colormap: heat.colormap, min: heat.low, max: heat.high, height: 112, label: 'relevance' });

// The original picture: here a 112×112 scan of the digit, which a plain resize made 28×28 for the
// model. The overlay is drawn at the scan's resolution; for a photo that was resized and
// centre-cropped, pass that plan (resized size and crop offset) instead.
const scan = new Uint8Array(112 * 112);
for (let i = 0; i < scan.length; i++) scan[i] = Math.round(255 * x.data[Math.floor(i / 112 / 4) * 28 + Math.floor((i % 112) / 4)]!);
const over = overlay({ data: scan, width: 112, height: 112 }, map, { plan: { width: 28, height: 28, left: 0, top: 0 }, colormap: 'coolwarm', alpha: 0.8 });

writeFileSync(join(out, 'heatmap.png'), toPNG(heat));
writeFileSync(join(out, 'overlay.png'), toPNG(over));
writeFileSync(join(out, 'colorbar.png'), toPNG(bar)); // the strip; its texts are in bar.labels
console.log('class', r.targets[0]![0]); // 3
console.log('heatmap', heat.width, heat.height); // 28 28
console.log('overlay', over.width, over.height); // 112 112
console.log('colorbar', bar.labels.map((l) => l.text).join(' | ')); // relevance | −… | 0 | …
