/**
 * `backlight eval`: the options the evaluations share (commander flags and help), and the parsers
 * of their values (--method, --levels, --epsilon).
 */
import type { Command } from 'commander';
import { GRADIENT_FAMILY } from '../../core.js';
import { DEFAULT_EPSILON } from '../../eval/adversarial.js';
import { evalMethodNames, type EvalMethodName } from '../../eval/maps.js';
import { PRESET_NAMES } from '../../io/preprocess.js';
import { ENERGY_LEVELS } from '../../metrics/energyPointing.js';
import type { PreprocessCliOptions } from '../inputs.js';
import { collect, usage } from '../options.js';

/** Options shared by `eval pointing` and `eval ablation`, as commander parses them. */
export interface EvalCliOptions extends PreprocessCliOptions {
  model: string;
  data: string;
  annotations?: string;
  method?: string[];
  out: string;
  limit?: string;
  batch?: string;
  shard?: string;
  threads?: string;
  seed?: string;
  quiet?: boolean;
  json?: boolean;
  // pointing
  tolerance?: string;
  levels?: string;
  small?: string;
  // ablation
  patch?: string;
  fill?: string;
  steps?: string;
  target?: string;
  // adversarial
  epsilon?: string;
  grid?: string;
  labels?: string;
}

/** The methods of `--method` (comma-separated, repeatable); default: the gradient family. */
export function parseMethods(values: readonly string[] | undefined, defaults: readonly EvalMethodName[] = GRADIENT_FAMILY): EvalMethodName[] {
  const methods: EvalMethodName[] = [];
  for (const value of values?.length ? values : [defaults.join(',')]) {
    for (const raw of value.split(',')) {
      const name = raw.trim();
      const available = evalMethodNames();
      if (!name) throw usage(`--method '${value}' has an empty entry (available: ${available.join(', ')})`);
      if (!(available as readonly string[]).includes(name)) {
        throw usage(`unknown method '${name}' for eval (available: ${available.join(', ')})`);
      }
      const m = name as EvalMethodName;
      if (!methods.includes(m)) methods.push(m);
    }
  }
  return methods;
}

/** `--levels 5,10,…` or `--levels 5:100:5` (start:end:step). */
export function parseLevels(text: string | undefined): number[] {
  if (text === undefined) return [...ENERGY_LEVELS];
  const bad = (): never => {
    throw usage(`--levels '${text}' must be percentages in (0, 100]: a list (5,10,50,100) or start:end:step (5:100:5)`);
  };
  let levels: number[];
  const range = /^\s*([0-9.]+)\s*:\s*([0-9.]+)\s*:\s*([0-9.]+)\s*$/.exec(text);
  if (range) {
    const [a, b, s] = [Number(range[1]), Number(range[2]), Number(range[3])];
    if (!(s > 0 && a <= b)) bad();
    levels = [];
    for (let k = 0; a + k * s <= b + 1e-9; k++) levels.push(+(a + k * s).toFixed(6));
  } else {
    const parts = text.split(',').map((x) => x.trim());
    levels = parts.map(Number);
    if (parts.some((x) => x === '')) bad();
  }
  if (levels.length === 0 || levels.some((p) => !(p > 0 && p <= 100))) bad();
  return levels;
}

/** `--epsilon 2/255` or `--epsilon 0.008`: the FGSM step in [0, 1] pixel units. */
export function parseEpsilon(text: string | undefined): { epsilon: number; epsilonText: string } {
  const t = (text ?? DEFAULT_EPSILON).replace(/\s+/g, '');
  const m = /^([0-9]*\.?[0-9]+(?:e-?[0-9]+)?)(?:\/([0-9]*\.?[0-9]+))?$/i.exec(t);
  const v = m ? Number(m[1]) / (m[2] === undefined ? 1 : Number(m[2])) : NaN;
  if (!(Number.isFinite(v) && v > 0 && v <= 1)) throw usage(`--epsilon '${text}' must be a step in (0, 1] in pixel units of [0, 1] images: a number (0.008) or a fraction (2/255)`);
  return { epsilon: v, epsilonText: t };
}

export const COMMON_HELP = `
Data: --data is a folder of images; --annotations (default: <data>/annotations.json,
else <data>/labels.json) is a JSON array of {file, label, boxes?}: file relative to
the folder, label the class index, boxes [[x0, y0, x1, y1], ...] in the image
file's own pixels (inclusive). Boxes are moved to the model input as the
preprocessing moves the image (resize: scaled; --crop: scaled and shifted).

Maps: methods drawn as magnitudes (the gradient family, clrp1, clrp2,
excitation) are scored on max |.| over channels; LRP relevance (lrp-epsilon,
lrp-zplus, lrp-alphabeta, lrp) on the sum over channels with negatives set to
0; layer-map methods (gradcam, normgrad, ...) on their upsampled map at their
default layer. The zB rule of lrp, clrp1 and clrp2 (gu2018 composite) gets the pixel bounds
of the preprocessing. The pointing game and the ablation explain the
ground-truth class; sensitivity and adversarial the classes they name below.

Runs are resumable: one JSON line per image is appended to <out>/results.jsonl as
soon as it is done; running the same command again evaluates only the images
not yet there. --shard i/n evaluates the images whose index % n == i into
<out>/results.shard-i-of-n.jsonl; 'backlight eval merge <out>' then merges the
shards and writes the summary. Outputs in <out>: results.jsonl, run.json (the
configuration; another configuration into the same folder is refused),
runs.jsonl (timings), summary.json, summary.csv (one row per method x metric x
subset), figures (PNG) and index.html.`;

export function commonOptions(cmd: Command, defaults: readonly EvalMethodName[] = GRADIENT_FAMILY): Command {
  return cmd
    .requiredOption('-m, --model <file>', 'the classifier: an ONNX file, or a TF.js layers model.json (its weight shards beside it)')
    .requiredOption('--data <dir>', 'folder of images')
    .option('--annotations <file>', 'JSON list of {file, label, boxes?} (default: <data>/annotations.json, else <data>/labels.json)')
    .option('--preset <name>', `preprocessing: ${PRESET_NAMES.join(', ')} (default: none = the model's input size, x/255)`)
    .option('--size <W[,H]>', 'input size in pixels, overrides the preset')
    .option('--crop [N]', 'resize the shorter side to N (default: size·256/224), then centre-crop')
    .option('--mean <a,b,c>', 'per-channel mean after x/255, overrides the preset')
    .option('--std <a,b,c>', 'per-channel std, overrides the preset')
    .option('--channels <rgb|bgr|gray>', "channel order (default: the preset's)")
    .option('--method <names>', `comma-separated methods (default: ${defaults.join(',')}): ${evalMethodNames().join(', ')}`, collect)
    .requiredOption('-o, --out <dir>', 'output folder (created if needed; re-running resumes)')
    .option('--limit <n>', 'evaluate only the first N images of the list')
    .option('--batch <n>', 'images per explain call (default: 1)')
    .option('--shard <i/n>', 'evaluate the images with index % n == i (merge with: backlight eval merge)')
    .option('--threads <n>', "threads per onnxruntime session (default: onnxruntime's choice)")
    .option('--seed <n>', 'seed of the random baselines (default: 0)')
    .option('--json', 'print the report (run, summary, files) as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)');
}
