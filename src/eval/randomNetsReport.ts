/**
 * The report of `eval random-nets`:
 * - `results.json` (every network × seed × method, per-image values), `summary.json`,
 *   `summary.csv` (`net,width,method,metric,mean,sem,n`);
 * - `recovery.png`, `recovery-ssim.png`: recovery vs N (CNN filters) and N_h (FCN hidden units),
 *   one panel per method, one line per network (vega-lite);
 * - `maps-<i>.png`: the input, then each network's maps at the grid widths (Nie et al.'s Figures 4
 *   and 6); `sweep-cnn-<i>.png`, `sweep-fcn-<i>.png`: Guided Backprop over the widths (Figure 5);
 *   attributions drawn as Nie et al. draw them, min-max scaled per image, in colour;
 * - `index.html`.
 */
import { join } from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import { writeFilesAtomic, type FileToWrite } from '../io/files.js';
import { nonFiniteAsNull } from './report.js';
import { gridPng } from '../io/png.js';
import { describePreprocess, type Preprocess } from '../io/preprocess.js';
import { METHODS, type MethodName } from '../methods/methods.js';
import { layoutGrid, type PixelImage } from '../render/index.js';
import { minMaxPicture } from '../render/maps.js';
import type { Figure } from './plots.js';
import { netKey, netLabel, RANDOM_NETS, type FigureMaps, type RandomNetKind, type RandomNetRun, type RandomNetsRow, type RandomNetsSettings } from './randomNets.js';
import { esc } from './html.js';

export interface RandomNetsConfig {
  evaluation: 'random-nets';
  images: {
    /** 'built-in digits' or the data folder. */
    source: string;
    files: string[];
    channels: number;
    size: number;
    /** How the files became tensors (null for the built-in digits: pixels / 255). */
    preprocess: Preprocess | null;
  };
  settings: RandomNetsSettings;
}

const fmt = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : '–');
/** Column headers of the grids (the tiles are narrow). */
const short: Partial<Record<MethodName, string>> = { 'guided-backprop': 'GBP', 'gradient-x-input': 'grad × input' };
const methodName = (m: MethodName): string => METHODS[m].label;

export function randomNetsCsv(rows: readonly RandomNetsRow[]): string {
  const lines = ['net,width,method,metric,mean,sem,n'];
  const cell = (v: number): string => (Number.isFinite(v) ? String(v) : '');
  for (const r of rows) {
    for (const k of ['pearson', 'ssim', 'classDistance'] as const) lines.push([r.net, r.width ?? '', r.method, k, cell(r[k].mean), cell(r[k].sem), r[k].n].join(','));
  }
  return `${lines.join('\n')}\n`;
}

/** Recovery vs width, one panel per method, one line per swept network. */
export function recoveryFigures(rows: readonly RandomNetsRow[], methods: readonly MethodName[], title: string): Figure[] {
  const nets: RandomNetKind[] = ['cnn', 'cnn-maxpool', 'fcn'];
  const spec = (metric: 'pearson' | 'ssim', yTitle: string): TopLevelSpec => {
    const values = rows
      .filter((r) => r.width !== null && nets.includes(r.net) && Number.isFinite(r[metric].mean))
      .map((r) => {
        const sem = Number.isFinite(r[metric].sem) ? r[metric].sem : 0;
        return { net: RANDOM_NETS[r.net].label, width: r.width, method: methodName(r.method), mean: r[metric].mean, lo: r[metric].mean - sem, hi: r[metric].mean + sem };
      });
    const color = { field: 'net', type: 'nominal', title: 'network', sort: nets.map((n) => RANDOM_NETS[n].label) } as const;
    const widths = [...new Set(values.map((v) => v.width!))].sort((a, b) => a - b);
    const x = { field: 'width', type: 'quantitative', title: 'width: N (CNN) or N_h (FCN)', scale: { type: 'log', base: 2 }, axis: { values: widths, format: 'd', labelAngle: -45, labelOverlap: false } } as const;
    return {
      $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
      title,
      data: { values },
      facet: { column: { field: 'method', type: 'nominal', title: null, sort: methods.map(methodName) } },
      spec: {
        width: 260,
        height: 220,
        layer: [
          { mark: { type: 'rule' }, encoding: { x, y: { field: 'lo', type: 'quantitative' }, y2: { field: 'hi' }, color } },
          { mark: { type: 'line', point: true }, encoding: { x, y: { field: 'mean', type: 'quantitative', title: yTitle }, color } },
        ],
      },
    } as TopLevelSpec;
  };
  return [
    {
      file: 'recovery.png',
      caption: 'Recovery of the input (Pearson r between the signed attribution and the input, all channels) vs the width of the random network, mean over images and seeds (bars: ± 1 standard error). Nie et al.: Guided Backprop recovers the image in a CNN as N grows but not in an FCN; DeconvNet only with max-pooling; the gradient never.',
      spec: spec('pearson', 'recovery (Pearson r with the input)'),
    },
    {
      file: 'recovery-ssim.png',
      caption: 'The same with the SSIM between the attribution and the input (per channel, each min-max normalized, mean over channels).',
      spec: spec('ssim', 'recovery (SSIM with the input)'),
    },
  ];
}

/** The picture of image i's attribution ([F, C, H, W] of the figure images). */
function picture(data: Float32Array, i: number, c: number, h: number, w: number): PixelImage {
  return minMaxPicture(data.subarray(i * c * h * w, (i + 1) * c * h * w), { layout: 'nchw', channels: c, height: h, width: w });
}

/** The figure grids of image i. */
export async function randomNetGrids(
  figures: FigureMaps,
  settings: RandomNetsSettings,
  display: PixelImage,
  i: number,
  name: string,
  dims: { c: number; h: number; w: number },
): Promise<{ file: string; caption: string; png: Uint8Array }[]> {
  const { c, h, w } = dims;
  const tile = Math.max(96, Math.min(160, 2 * Math.max(h, w)));
  const resample = tile >= Math.max(h, w) ? 'nearest' : 'bilinear';
  const out: { file: string; caption: string; png: Uint8Array }[] = [];
  const grid: { net: RandomNetKind; width: number | null }[] = [
    { net: 'cnn', width: settings.gridFilters },
    { net: 'cnn-maxpool', width: settings.gridFilters },
    { net: 'fcn', width: settings.gridHidden },
    { net: 'vgg16', width: null },
  ];
  const main = grid.filter((r) => figures.has(netKey(r.net, r.width)));
  if (main.length > 0) {
    const layout = layoutGrid({ rows: main.map((r) => netLabel(r.net, r.width)), columns: settings.methods.map((m) => short[m] ?? methodName(m)), tile, fontSize: 12, title: `random networks: ${name}` });
    const cells = main.map((r) => settings.methods.map((m) => {
      const a = figures.get(netKey(r.net, r.width))?.get(m);
      return a ? picture(a, i, c, h, w) : null;
    }));
    out.push({
      file: `maps-${i}.png`,
      caption: `${name}: the maps of the top class in random networks (Nie et al. Figures 4 and 6), attributions min-max scaled per image and drawn as images; first seed.`,
      png: await gridPng(layout, { input: display, cells }, { resample }),
    });
  }
  const sweepMethod = settings.methods.includes('guided-backprop') ? 'guided-backprop' : settings.methods[0]!;
  for (const [file, nets, widths, symbol] of [
    ['sweep-cnn', ['cnn', 'cnn-maxpool'], settings.filters, 'N'],
    ['sweep-fcn', ['fcn'], settings.hidden, 'N_h'],
  ] as const) {
    if (widths.length === 0) continue;
    const layout = layoutGrid({ rows: nets.map((n) => RANDOM_NETS[n].label), columns: widths.map((x) => `${symbol} = ${x}`), tile, fontSize: 12, title: `${short[sweepMethod] ?? methodName(sweepMethod)} in random ${nets.map((n) => RANDOM_NETS[n].label).join(' / ')}: ${name}` });
    const cells = nets.map((n) => widths.map((x) => {
      const a = figures.get(netKey(n, x))?.get(sweepMethod);
      return a ? picture(a, i, c, h, w) : null;
    }));
    out.push({
      file: `${file}-${i}.png`,
      caption: `${name}: ${methodName(sweepMethod)} as the ${symbol === 'N' ? 'number of filters N of the CNN' : 'number of hidden units N_h of the FCN'} grows (Nie et al. Figure 5); first seed.`,
      png: await gridPng(layout, { input: display, cells }, { resample }),
    });
  }
  return out;
}

function table(head: string[], body: string[][]): string {
  return `<table><thead><tr>${head.map((x) => `<th>${x}</th>`).join('')}</tr></thead><tbody>${body.map((r) => `<tr>${r.map((c, i) => (i === 0 ? `<th>${c}</th>` : `<td>${c}</td>`)).join('')}</tr>`).join('')}</tbody></table>`;
}

/** The rows at the grid widths (and VGG-16), in the grid's order. */
export function mainRows(rows: readonly RandomNetsRow[], s: RandomNetsSettings): { net: RandomNetKind; width: number | null; rows: RandomNetsRow[] }[] {
  const pick = (net: RandomNetKind, width: number | null) => ({ net, width, rows: rows.filter((r) => r.net === net && r.width === width) });
  return [pick('cnn', s.gridFilters), pick('cnn-maxpool', s.gridFilters), pick('fcn', s.gridHidden), ...(s.vgg ? [pick('vgg16', null)] : [])].filter((g) => g.rows.length > 0);
}

export function randomNetsHtml(config: RandomNetsConfig, rows: readonly RandomNetsRow[], figures: { file: string; caption: string }[], seconds: number): string {
  const s = config.settings;
  const methods = s.methods;
  const cell = (r: RandomNetsRow | undefined): string => (r ? `${fmt(r.pearson.mean)} / ${fmt(r.ssim.mean)} / ${fmt(r.classDistance.mean)}` : '–');
  const main = mainRows(rows, s).map((g) => [esc(netLabel(g.net, g.width)), ...methods.map((m) => cell(g.rows.find((r) => r.method === m)))]);
  const sweep = rows
    .filter((r) => r.width !== null && r.method === methods[0])
    .map((r0) => [esc(netLabel(r0.net, r0.width)), ...methods.map((m) => {
      const r = rows.find((x) => x.net === r0.net && x.width === r0.width && x.method === m);
      return r ? `${fmt(r.pearson.mean)} ± ${fmt(r.pearson.sem)}` : '–';
    })]);
  const figs = figures.map((f) => `<figure><img src="${esc(f.file)}" alt="${esc(f.caption)}"><figcaption>${esc(f.caption)}</figcaption></figure>`).join('\n');
  const pre = config.images.preprocess ? esc(describePreprocess(config.images.preprocess)) : 'pixels / 255 (the built-in digits, white ink on black)';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Random networks — image recovery</title>
<style>
body{font-family:system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:1em 0;font-size:13px}th,td{border:1px solid #ccc;padding:3px 7px;text-align:right}
thead th{background:#f3f3f3}tbody th{text-align:left;font-weight:normal}
.c{color:#777;font-size:11px;font-weight:normal}figure{margin:1.5em 0}img{max-width:100%}figcaption{color:#555;font-size:14px}
</style></head><body>
<h1>Random networks: image recovery, not explanation</h1>
<p>Nie, Zhang, Patel (2018) §3–4: networks with <em>random</em> weights (truncated normal, std 0.1, biases 0) explain ${config.images.files.length} images (${esc(config.images.source)}, ${config.images.channels}×${config.images.size}×${config.images.size}; ${pre}). A map that looks like the input here cannot explain a decision. <b>Recovery</b>: Pearson's r between the signed attribution of the top class and the input tensor (all channels), and the mean per-channel SSIM of the two (each min-max normalized). <b>Class distance</b>: l2 distance between the l2-normalized max |·| maps of the top two classes (0: the map ignores the class). Means over images and ${s.seeds.length} seed${s.seeds.length > 1 ? 's' : ''} (${s.seeds.join(', ')}). Data: <a href="results.json">results.json</a>, <a href="summary.json">summary.json</a>, <a href="summary.csv">summary.csv</a>.</p>
<h2>At N = ${s.gridFilters}, N_h = ${s.gridHidden}</h2>
${table(['network', ...methods.map((m) => `${esc(methodName(m))}<br><span class="c">r / SSIM / class distance</span>`)], main)}
<h2>Sweep: recovery (Pearson r ± sem) vs width</h2>
${table(['network', ...methods.map((m) => esc(methodName(m)))], sweep)}
${figs}
<p class="c">${sweepSize(config)} networks in ${seconds.toFixed(1)} s.</p>
</body></html>
`;
}

const sweepSize = (c: RandomNetsConfig): number => (2 * c.settings.filters.length + c.settings.hidden.length + (c.settings.vgg ? 1 : 0)) * c.settings.seeds.length;

/** Writes results, summary, CSV, figures and index.html into `out` (all or none). */
export async function writeRandomNetsReport(
  out: string,
  config: RandomNetsConfig,
  runs: readonly RandomNetRun[],
  rows: readonly RandomNetsRow[],
  figureMaps: FigureMaps,
  display: readonly PixelImage[],
  seconds: number,
): Promise<string[]> {
  const { renderPng } = await import('./plots.js');
  const json = (v: unknown): string => `${JSON.stringify(v, nonFiniteAsNull, 2)}\n`;
  const files: FileToWrite[] = [
    { path: join(out, 'results.json'), data: json({ evaluation: 'random-nets', config, runs }) },
    { path: join(out, 'summary.json'), data: json({ evaluation: 'random-nets', config, rows, seconds: Math.round(seconds * 100) / 100 }) },
    { path: join(out, 'summary.csv'), data: randomNetsCsv(rows) },
  ];
  const shown: { file: string; caption: string }[] = [];
  const { channels: c, size } = config.images;
  for (let i = 0; i < Math.min(display.length, config.settings.figureImages); i++) {
    for (const g of await randomNetGrids(figureMaps, config.settings, display[i]!, i, config.images.files[i]!, { c, h: size, w: size })) {
      files.push({ path: join(out, g.file), data: g.png });
      shown.push(g);
    }
  }
  for (const f of recoveryFigures(rows, config.settings.methods, 'Random networks: recovery of the input')) {
    files.push({ path: join(out, f.file), data: await renderPng(f.spec) });
    shown.push(f);
  }
  files.push({ path: join(out, 'index.html'), data: randomNetsHtml(config, rows, shown, seconds) });
  await writeFilesAtomic(files);
  return files.map((f) => f.path);
}
