/**
 * `backlight demo`: runs offline on the built-in digit model and the model builder's random nets,
 * and writes a folder of figures with a static `index.html` that shows everything.
 *
 * ```sh
 * npx backlight demo [--out backlight-demo]
 * ```
 */
import type { Command } from 'commander';
import { join, resolve } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { checkWritableFolder } from '../io/files.js';
import { withOutputDir } from './outputDir.js';
import { drawGrid } from '../io/png.js';
import { METHODS } from '../core.js';
import { runDemo, type DemoResult } from './demo.js';
import type { CliIO } from './errors.js';
import { versions } from './summary.js';
import { esc } from '../eval/html.js';

interface DemoOptions {
  out: string;
  quiet?: boolean;
  json?: boolean;
  threads?: string;
}

const fmt = (x: number): string => x.toFixed(2);

function page(r: DemoResult): string {
  const methodRows = Object.values(METHODS).map((m) => `<tr><td><code>${m.name}</code></td><td>${esc(m.summary)}</td></tr>`).join('\n');
  const netRows = r.randomNets.rows
    .map((row) => `<tr><th>${esc(row.net)}</th>${r.randomNets.methods.map((m) => `<td>${fmt(row.recovery[m]!)}</td>`).join('')}${r.randomNets.methods.map((m) => `<td>${fmt(row.classDistance[m]!)}</td>`).join('')}<td class="note">${esc(row.description)}</td></tr>`)
    .join('\n');
  const heads = r.randomNets.methods.map((m) => `<th>${m}</th>`).join('');
  const digitFigures = r.digits
    .map((d) => `<figure><img src="digits/digit-${d.label}.png" alt="digit ${d.label}"><figcaption>digit ${d.label}: predicted ${d.predicted} (p = ${d.probabilities[0].toFixed(3)}), runner-up ${d.runnerUp} (p = ${d.probabilities[1].toFixed(3)})</figcaption></figure>`)
    .join('\n');
  const get = (net: string, m: string): number => r.randomNets.rows.find((x) => x.net === net)?.recovery[m] ?? NaN;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Backlight demo</title>
<style>
body { font-family: system-ui, sans-serif; max-width: 1100px; margin: 2em auto; padding: 0 1em; color: #222; line-height: 1.45; }
h1 { margin-bottom: 0; } .sub { color: #666; margin-top: .2em; }
img { image-rendering: pixelated; max-width: 100%; border: 1px solid #ddd; }
figure { display: inline-block; margin: .5em; vertical-align: top; } figcaption { font-size: .85em; color: #555; max-width: 420px; }
table { border-collapse: collapse; margin: 1em 0; } td, th { border: 1px solid #ccc; padding: .3em .6em; text-align: right; }
td:first-child, th:first-child, td.note, table.methods td { text-align: left; } .note { color: #555; font-size: .9em; }
</style></head><body>
<h1>Backlight demo</h1>
<p class="sub">Backpropagation saliency, compiled into one ONNX graph per method and run by onnxruntime — everything below was computed offline on this machine in ${(r.timings.explainMs / 1000).toFixed(1)} s.</p>

<h2>1. A trained digit classifier</h2>
<p>A small CNN (two conv layers with max-pooling, two dense layers) that Backlight trained on ${r.modelInfo.trainSize} MNIST digits; test accuracy ${(100 * r.modelInfo.testAccuracy).toFixed(1)} % on ${r.modelInfo.testSize} held-out digits. Each figure explains one held-out digit for the predicted class and the runner-up, with every method: gradient-family, CLRP and excitation maps as magnitudes (inferno colormap), LRP relevance signed (red positive, blue negative); 99.5th-percentile clipping.</p>
<table class="methods"><tr><th>method</th><th>what it computes</th></tr>${methodRows}</table>
<figure><img src="overview.png" alt="overview"><figcaption>All ten digits, maps for the predicted class.</figcaption></figure>
${digitFigures}

<h2>2. Random networks: image recovery, not explanation (Nie et al. 2018)</h2>
<p>The same digits through networks with <em>random</em> weights (truncated Gaussian, std 0.1) from Backlight's model builder. A map that looks like the digit here cannot be explaining a decision — the network has learned nothing. Nie et al. show that Guided Backprop and DeconvNet do (partial) image recovery: GBP reproduces the input in a random CNN but not in a fully connected net, DeconvNet needs max-pooling, and the gradient is noise. The table measures it: <b>recovery</b> = Pearson correlation between the (signed) attribution and the input (mean over the ten digits; as <code>backlight eval random-nets</code> measures it), <b>class distance</b> = l2 distance between the normalized maps of classes 0 and 1 (0: the map ignores the class).</p>
<figure><img src="random-nets.png" alt="random networks"></figure>
<table><tr><th rowspan="2">network</th><th colspan="${r.randomNets.methods.length}">recovery (corr. with input)</th><th colspan="${r.randomNets.methods.length}">class distance</th><th rowspan="2">network</th></tr><tr>${heads}${heads}</tr>
${netRows}</table>
<p>Measured here: Guided Backprop correlates ${fmt(get('CNN', 'guided-backprop'))} with the input in the random CNN and ${fmt(get('FCN', 'guided-backprop'))} in the random FCN; the gradient ${fmt(get('CNN', 'gradient'))} and ${fmt(get('FCN', 'gradient'))}.</p>
<p class="sub">Backlight ${esc(versions().backlight)}, onnxruntime-node ${esc(versions().onnxruntimeNode)}, Node ${esc(process.version)}.</p>
</body></html>
`;
}

export function registerDemo(program: Command, io: CliIO): void {
  program
    .command('demo')
    .description('Run the built-in offline demo (trained digit CNN, random networks) and write a folder with index.html.')
    .option('-o, --out <dir>', 'output folder', 'backlight-demo')
    .option('--json', 'print a JSON summary to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--threads <n>', "threads per onnxruntime session (default: onnxruntime's choice)")
    .action(async (o: DemoOptions) => {
      const out = resolve(o.out);
      await checkWritableFolder(out);
      await checkWritableFolder(join(out, 'digits'));
      const say = (s: string): void => {
        if (!o.quiet && !o.json) io.stderr(`${s}\n`);
      };
      const threads = o.threads ? Number(o.threads) : undefined;
      const r = await runDemo({ threads, onProgress: (step) => say(`backlight demo: ${step} …`) });
      // Everything computed: the files are written into a temporary folder in --out, then moved
      // into place one rename each, summary.json and index.html last (src/cli/outputDir.ts).
      const summary = await withOutputDir(out, { command: `backlight demo --out ${o.out}` }, async (od) => {
        const staged = await od.tempFolder();
        const files: string[] = [];
        const grid = async (file: string, fig: { layout: DemoResult['overview']['layout']; content: DemoResult['overview']['content'] }) => {
          await drawGrid(join(staged, file), fig.layout, fig.content);
          files.push(file);
        };
        for (const d of r.digits) await grid(`digits/digit-${d.label}.png`, d);
        await grid('overview.png', r.overview);
        await grid('random-nets.png', r.randomNets);
        const doc = {
          model: r.modelInfo,
          digits: r.digits.map((d) => ({ label: d.label, predicted: d.predicted, runnerUp: d.runnerUp, probabilities: d.probabilities })),
          randomNets: r.randomNets.rows,
          timings: r.timings,
          versions: versions(),
          files: [...files, 'index.html', 'summary.json'],
        };
        await writeFile(join(staged, 'summary.json'), JSON.stringify(doc, null, 2) + '\n');
        await writeFile(join(staged, 'index.html'), page(r));
        await od.moveAllInto(staged, doc.files);
        return doc;
      });
      if (o.json) io.stdout(JSON.stringify(summary) + '\n');
      else if (!o.quiet) io.stdout(`wrote ${join(o.out, 'index.html')} (${summary.files.length} files); open it in a browser\n`);
    });
}
