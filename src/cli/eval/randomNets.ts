/**
 * `backlight eval random-nets`: Nie et al.'s random-network experiments (src/eval/randomNets.ts)
 * on the built-in digits (default, offline) or on a folder of images.
 *
 * ```sh
 * npx backlight eval random-nets --out eval/random-nets
 * npx backlight eval random-nets --data imagenet-val-1300 --size 64 --limit 16 --vgg --out eval/random-nets-imagenet
 * ```
 * No model is needed: the networks come from the model builder. A run takes minutes at most and
 * is deterministic (seeded), so it is not resumable: the outputs are written, all together, at the
 * end.
 */
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import type { Command } from 'commander';
import { buildModel } from '../../builder/models.js';
import { Explainer } from '../../index.js';
import { checkWritableFolder } from '../../io/files.js';
import { withOutputDir } from '../outputDir.js';
import { nonFiniteAsNull } from '../../eval/report.js';
import { loadImage } from '../../io/image.js';
import { decodeNpy } from '../../io/npy.js';
import { resolvePreprocess, type Preprocess } from '../../io/preprocess.js';
import type { TensorLike } from '../../core.js';
import { METHOD_NAMES, METHODS, type MethodName } from '../../core.js';
import type { PixelImage } from '../../render/index.js';
import { loadDataset } from '../../eval/datasets.js';
import { RANDOM_NET_METHODS, RANDOM_NETS, netLabel, runRandomNets, summarizeRandomNets, type RandomNetsRow, type RandomNetsSettings } from '../../eval/randomNets.js';
import { mainRows, writeRandomNetsReport, type RandomNetsConfig } from '../../eval/randomNetsReport.js';
import { asset } from '../demo.js';
import type { CliIO } from '../errors.js';
import { evalProgress } from './progress.js';
import { parsePreprocessOptions, type PreprocessCliOptions } from '../inputs.js';
import { collect, integerOption, usage, threadsOption } from '../options.js';

export interface RandomNetsCliOptions extends PreprocessCliOptions {
  data?: string;
  annotations?: string;
  method?: string[];
  filters?: string;
  hidden?: string;
  seeds?: string;
  seed?: string;
  vgg?: boolean;
  out: string;
  limit?: string;
  batch?: string;
  threads?: string;
  figures?: string;
  quiet?: boolean;
  json?: boolean;
}

export const DEFAULT_FILTERS = [8, 16, 32, 64, 128, 256, 512];
export const DEFAULT_HIDDEN = [64, 256, 1024, 4096];
/** The widths of Nie et al.'s Figure 4 (CNN filters, FCN hidden units). */
const PAPER_FILTERS = 256;
const PAPER_HIDDEN = 4096;
/** An FCN whose first weight matrix holds more values than this (1 GiB of float32) is refused. */
const MAX_FCN_WEIGHTS = 2 ** 28;

function intList(flag: string, text: string | undefined, fallback: number[]): number[] {
  if (text === undefined) return fallback;
  const parts = text.split(',').map((s) => s.trim());
  const values = parts.map(Number);
  if (parts.some((p) => !/^[0-9]+$/.test(p)) || values.some((v) => !(Number.isSafeInteger(v) && v >= 1))) {
    throw usage(`${flag} '${text}' must be a comma-separated list of positive integers (e.g. ${fallback.join(',')})`);
  }
  return [...new Set(values)].sort((a, b) => a - b);
}

function parseMethodList(values: readonly string[] | undefined): MethodName[] {
  if (!values?.length) return [...RANDOM_NET_METHODS];
  const out: MethodName[] = [];
  for (const value of values) {
    for (const raw of value.split(',')) {
      const name = raw.trim();
      if (!(METHOD_NAMES as readonly string[]).includes(name)) throw usage(`unknown method '${name}' for eval random-nets (available: ${METHOD_NAMES.join(', ')})`);
      if (!out.includes(name as MethodName)) out.push(name as MethodName);
    }
  }
  return out;
}

export interface RandomNetsPlan {
  data: string | null;
  annotations?: string;
  out: string;
  limit?: number;
  threads?: number;
  seedsCount: number;
  seed: number;
  settings: RandomNetsSettings;
  preprocess: ReturnType<typeof parsePreprocessOptions> | null;
  format: 'text' | 'json' | 'quiet';
}

/** Checks the options without touching files. */
export function planRandomNets(opts: RandomNetsCliOptions): RandomNetsPlan {
  if (opts.json && opts.quiet) throw usage('give either --json or --quiet, not both');
  const hasPreprocess = ['preset', 'size', 'crop', 'mean', 'std', 'channels'].some((k) => opts[k as keyof RandomNetsCliOptions] !== undefined);
  if (opts.data === undefined && (hasPreprocess || opts.annotations !== undefined)) {
    throw usage('--preset, --size, --crop, --mean, --std, --channels and --annotations apply to --data images; the built-in digits are 28×28 pixels / 255');
  }
  const filters = intList('--filters', opts.filters, DEFAULT_FILTERS);
  const hidden = intList('--hidden', opts.hidden, DEFAULT_HIDDEN);
  const seedsCount = integerOption('--seeds', opts.seeds, 3, 1);
  const seed = integerOption('--seed', opts.seed, 0, 0);
  return {
    data: opts.data ?? null,
    annotations: opts.annotations,
    out: opts.out,
    limit: opts.limit === undefined ? undefined : integerOption('--limit', opts.limit, 0, 1),
    threads: threadsOption(opts.threads),
    seedsCount,
    seed,
    settings: {
      methods: parseMethodList(opts.method),
      filters,
      hidden,
      seeds: Array.from({ length: seedsCount }, (_, k) => seed + k),
      gridFilters: filters.includes(PAPER_FILTERS) ? PAPER_FILTERS : filters[filters.length - 1]!,
      gridHidden: hidden.includes(PAPER_HIDDEN) ? PAPER_HIDDEN : hidden[hidden.length - 1]!,
      vgg: opts.vgg === true,
      batch: integerOption('--batch', opts.batch, 16, 1),
      figureImages: integerOption('--figures', opts.figures, 3, 0),
    },
    // Natural images: the ImageNet normalization at 64×64 (Nie et al.'s FCN sweep size) unless told otherwise.
    preprocess: opts.data === undefined ? null : parsePreprocessOptions({ ...opts, preset: opts.preset ?? 'imagenet', size: opts.size ?? '64' }),
    format: opts.json ? 'json' : opts.quiet ? 'quiet' : 'text',
  };
}

interface LoadedImages {
  x: TensorLike;
  files: string[];
  display: PixelImage[];
  source: string;
  preprocess: Preprocess | null;
}

/** The built-in digits (assets/demo/digits.npy: [20, 1, 28, 28], pixels / 255). */
async function digits(limit?: number): Promise<LoadedImages> {
  const all = decodeNpy(await readFile(asset('demo/digits.npy')), 'digits.npy');
  const { labels } = JSON.parse(await readFile(asset('demo/digits.json'), 'utf8')) as { labels: number[] };
  const [total, c, h, w] = all.dims as [number, number, number, number];
  const n = Math.min(total, limit ?? total);
  const per = c * h * w;
  const data = Float32Array.from(all.data.subarray(0, n * per));
  const display = Array.from({ length: n }, (_, i) => ({ data: Uint8Array.from(data.subarray(i * per, i * per + h * w), (v) => Math.round(255 * Math.min(1, Math.max(0, v)))), width: w, height: h }));
  return { x: { data, dims: [n, c, h, w] }, files: labels.slice(0, n).map((l, i) => `digit ${l} (#${i})`), display, source: 'built-in digits (assets/demo/digits.npy)', preprocess: null };
}

async function folderImages(plan: RandomNetsPlan): Promise<LoadedImages> {
  const dataset = await loadDataset({ data: plan.data!, annotations: plan.annotations, limit: plan.limit ?? 16 });
  const p = resolvePreprocess(plan.preprocess!.preset, plan.preprocess!.overrides);
  if (p.width !== p.height) throw usage(`--size ${p.width},${p.height}: the random networks take square inputs`);
  if (p.layout !== 'nchw') throw usage('--layout: the random networks take NCHW inputs');
  const images = await Promise.all(dataset.entries.map((e) => loadImage(e.path, p)));
  const per = images[0]!.tensor.data.length;
  const data = new Float32Array(per * images.length);
  images.forEach((img, i) => data.set(img.tensor.data, i * per));
  const c = p.channels === 'gray' ? 1 : 3;
  return { x: { data, dims: [images.length, c, p.height, p.width] }, files: dataset.entries.map((e) => e.file), display: images.map((img) => img.display), source: dataset.folder, preprocess: p };
}

/** Checks that the networks can be built for inputs of `c` × `size` × `size`. */
function checkSizes(s: RandomNetsSettings, c: number, size: number): void {
  if (size < 11) throw usage(`eval random-nets needs inputs of at least 11×11 pixels (the SSIM window); these are ${size}×${size}`);
  if (s.vgg && size < 32) throw usage(`--vgg needs inputs of at least 32×32 pixels (five 2×2 poolings); these are ${size}×${size}`);
  const big = s.hidden.find((n) => n * c * size * size > MAX_FCN_WEIGHTS);
  if (big !== undefined) throw usage(`--hidden ${big}: an FCN with ${big} hidden units on ${c}×${size}×${size} inputs has ${big * c * size * size} weights in its first layer (at most ${MAX_FCN_WEIGHTS}); lower --hidden or --size`);
}

export interface RandomNetsReport {
  evaluation: 'random-nets';
  out: string;
  images: number;
  networks: number;
  seconds: number;
  rows: RandomNetsRow[];
  files: string[];
}

export async function randomNetsCommand(plan: RandomNetsPlan, io?: CliIO): Promise<RandomNetsReport> {
  await checkWritableFolder(plan.out);
  const t0 = performance.now();
  const images = plan.data === null ? await digits(plan.limit) : await folderImages(plan);
  const [n, c, size] = images.x.dims as [number, number, number, number];
  checkSizes(plan.settings, c, size);
  const progress = evalProgress(io, 'random-nets', plan.format === 'text');
  let result: Awaited<ReturnType<typeof runRandomNets>>;
  try {
    result = await runRandomNets(
      images.x,
      plan.settings,
      buildModel,
      (bytes, source) => Explainer.load(bytes, { source, threads: plan.threads, maxSessions: 1 }),
      (done, total, label) => (done === 0 ? progress?.start(total) : progress?.tick(done, total, label)),
    );
  } finally {
    progress?.stop();
  }
  const rows = summarizeRandomNets(result.runs);
  const seconds = (performance.now() - t0) / 1000;
  const config: RandomNetsConfig = {
    evaluation: 'random-nets',
    images: { source: images.source, files: images.files, channels: c, size, preprocess: images.preprocess },
    settings: plan.settings,
  };
  const files = await withOutputDir(plan.out, { command: `backlight eval random-nets --out ${plan.out}`, undoOnFailure: true }, () =>
    writeRandomNetsReport(plan.out, config, result.runs, rows, result.figures, images.display, seconds),
  );
  const networks = new Set(result.runs.map((r) => `${r.net}/${r.width}/${r.seed}`)).size;
  return { evaluation: 'random-nets', out: plan.out, images: n, networks, seconds, rows, files };
}

/** The rows at the grid widths: recovery (Pearson r) and class distance per method. */
export function randomNetsText(rows: readonly RandomNetsRow[], s: RandomNetsSettings): string {
  const groups = mainRows(rows, s);
  const width = Math.max(...groups.map((g) => netLabel(g.net, g.width).length), 8) + 2;
  const lines = [`${''.padEnd(width)}${s.methods.map((m) => METHODS[m].label.padStart(18)).join('')}`];
  for (const g of groups) {
    lines.push(`${netLabel(g.net, g.width).padEnd(width)}${s.methods.map((m) => {
      const r = g.rows.find((x) => x.method === m);
      return (r && Number.isFinite(r.pearson.mean) ? `${r.pearson.mean.toFixed(3)} (${r.classDistance.mean.toFixed(2)})` : '–').padStart(18);
    }).join('')}`);
  }
  lines.push('(recovery: Pearson r of the attribution with the input; in brackets the class distance of the top two classes)');
  return `${lines.join('\n')}\n`;
}

const HELP = `
Networks (model builder, weights truncated normal std 0.1, biases 0): the
random 3-layer CNN (conv 7x7, N filters, stride 2, ReLU, dense), the same with
2x2 max-pooling, the 3-layer FCN (N_h hidden units), and with --vgg a random
VGG-16. Each is built for every N in --filters (CNNs), N_h in --hidden (FCN)
and each of --seeds seeds (--seed, --seed + 1, ...).

Images: the built-in digits (20 MNIST test digits, 28x28, pixels / 255) by
default; or --data DIR (a folder with annotations.json or labels.json; first
--limit images, default 16), resized to --size (default 64) with the ImageNet
normalization (--preset imagenet) unless other preprocessing options are given.

Per image, the methods explain the top two classes. Recovery: Pearson r between
the signed attribution of the top class and the input tensor (all channels),
and the mean per-channel SSIM (each min-max normalized). Class distance: l2
distance of the l2-normalized max |.| maps of the two classes.

Outputs in --out: results.json (per image), summary.json, summary.csv,
recovery.png and recovery-ssim.png (recovery vs N / N_h), maps-<i>.png (the
networks at N = 256 and N_h = 4096, or the largest swept widths),
sweep-cnn-<i>.png and sweep-fcn-<i>.png (Guided Backprop over the widths),
index.html. Not resumable: a run is deterministic and writes everything at
the end.

Examples:
  backlight eval random-nets --out eval/random-nets
  backlight eval random-nets --data imagenet-val-1300 --size 64 --limit 16 --vgg --out eval/random-nets-imagenet
`;

export function registerRandomNets(evalCmd: Command, io: CliIO): void {
  evalCmd
    .command('random-nets')
    .summary('image recovery by GBP/DeconvNet/gradient in random CNNs and FCNs (Nie et al.)')
    .description("Nie et al.'s random-network experiments: Guided Backprop, DeconvNet and the gradient in random 3-layer CNNs (with and without max-pooling) and FCNs, a sweep of N and N_h, and how well each map recovers the input.")
    .option('--data <dir>', 'folder of images (default: the built-in digits)')
    .option('--annotations <file>', 'JSON list of {file, label} (default: <data>/annotations.json, else <data>/labels.json)')
    .option('--preset <name>', 'preprocessing of --data images (default: imagenet)')
    .option('--size <W>', 'input size of --data images (default: 64)')
    .option('--crop [N]', 'resize the shorter side to N, then centre-crop')
    .option('--mean <a,b,c>', 'per-channel mean after x/255')
    .option('--std <a,b,c>', 'per-channel std')
    .option('--channels <rgb|bgr|gray>', 'channel order')
    .option('--method <names>', `comma-separated methods (default: ${RANDOM_NET_METHODS.join(',')})`, collect)
    .option('--filters <list>', `N of the CNNs (default: ${DEFAULT_FILTERS.join(',')})`)
    .option('--hidden <list>', `N_h of the FCN (default: ${DEFAULT_HIDDEN.join(',')})`)
    .option('--seeds <n>', 'networks per width (default: 3)')
    .option('--seed <n>', 'first seed (default: 0)')
    .option('--vgg', `add a random VGG-16 (${RANDOM_NETS.vgg16.describe(null)}; inputs ≥ 32 px)`)
    .requiredOption('-o, --out <dir>', 'output folder')
    .option('--limit <n>', 'the first N images (default: all 20 digits, or 16 of --data)')
    .option('--batch <n>', 'images per explain call (default: 16)')
    .option('--threads <n>', "threads per onnxruntime session (default: onnxruntime's choice)")
    .option('--figures <n>', 'map grids for the first N images (default: 3)')
    .option('--json', 'print the report as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .addHelpText('after', HELP)
    .action(async (opts: RandomNetsCliOptions) => {
      const plan = planRandomNets(opts);
      const report = await randomNetsCommand(plan, io);
      if (plan.format === 'quiet') return;
      if (plan.format === 'json') {
        io.stdout(`${JSON.stringify(report, nonFiniteAsNull)}\n`);
        return;
      }
      io.stdout(`random-nets: ${report.networks} networks × ${report.images} images (${report.seconds.toFixed(1)} s)\n`);
      io.stdout(randomNetsText(report.rows, plan.settings));
      io.stdout(`report: ${resolve(plan.out, 'index.html')}\n`);
    });
}
