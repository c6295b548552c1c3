/**
 * `backlight explain`, its options and help: attributions of image files or NumPy inputs, as .npy files and pictures.
 *
 * ```sh
 * npx backlight explain --model model.onnx --image cat.jpg dog.png --preset imagenet \
 *     --labels classes.json --method gradient,guided-backprop --target max,3 --out results
 * npx backlight explain --model model.onnx --input-npy x.npy --out results
 * ```
 *
 * Inputs (../inputs.ts): image files, preprocessed by `--preset` and its overrides into the model's
 * input; or .npy batches, [N, …] matching the model (a model with a fixed batch of 1 is run image
 * by image), or one image without the batch axis.
 *
 * Method parameters (src/methods/paramRequest.ts, flags from the method registry): `--epsilon`, `--alpha`/`--beta`, `--composite`, `--box`,
 * `--normalize`, `--seed`; each method gets the ones it reads, recorded in summary.json. The zB
 * bounds come from `--box` or from the preprocessing (`pixelBounds`); a .npy input without a
 * preprocessing option needs `--box` for a method with a zB rule.
 *
 * For every input `x` and every method, one run explains all targets (`max` and `topK` are
 * resolved from the logits of that same run). In `results/x/`:
 *
 * - `<method>__<target>.npy`: the attribution for one target, float32, with the shape of the input
 *   (for N > 1, the [N, …] attributions of every image for that target). `<target>` is the class
 *   index actually used, e.g. `gradient__8.npy` for `--target max` when class 8 is predicted.
 *   When N > 1 and the class differs between images (`max` or `topK` on images with different
 *   predictions), the file is named after the target spec instead: `gradient__max.npy`, and
 *   `gradient__top3-2.npy` for the second-best class of `top3`.
 * - `logits.npy` (float32 [N, classes]) and `targets.json` (classes used per image and target).
 * - For image-like inputs, pictures (../render.ts): `<method>__<target>.png` (heatmap),
 *   `<method>__<target>_overlay.png` and `grid.png` (methods × targets).
 *
 * And `results/summary.json` (../summary.ts): predictions, targets, files, timings, preprocessing,
 * versions and the command line; `--json` prints it to stdout as one line. Everything that can be
 * checked is checked before any computation (model, inputs, labels, methods, targets, output
 * folders); the files of one input are written all or none, each atomically. A method the model
 * refuses (e.g. CLRP2 where no linear layer computes the logits) does not sink the run: the others
 * are written, the refused one is named with its reason on stderr and under `refused` in
 * summary.json, and the exit status is 1 (2 for a usage error); nothing is written when every
 * method is refused.
 *
 * Planning is plan.ts, the run run.ts, the files of an input outputs.ts.
 */
import type { Command } from 'commander';
import {
  AGGREGATIONS, AGGREGATION_SUMMARIES, BUILTIN_PARAMS, registeredParams, COMPOSITE_NAMES, GRADIENT_FAMILY, methodNames, methodSpec, methodSummary,
} from '../../core.js';
import { PRESET_NAMES } from '../../io/preprocess.js';
import { COLORMAP_NAMES, DEFAULT_PERCENTILE } from '../../render/index.js';
import { MethodsRefused, type CliIO } from '../errors.js';
import { collect } from '../options.js';
import { printReport } from '../summary.js';
import { planExplain, type ExplainCliOptions } from './plan.js';
import { explainCommand, listLayers } from './run.js';

/** Wraps `text` to `width` columns, indenting continuation lines by `indent` spaces. */
function wrap(text: string, width: number, indent: number): string {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && line.length + 1 + word.length > width - indent) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines.join(`\n${' '.repeat(indent)}`);
}

/** Methods whose maps are drawn signed without --signed (LRP relevance). */
const signedByDefault = (): string[] => methodNames().filter((m) => methodSpec(m).display === 'signed' && methodSpec(m).signed);

/** The help after the options, with the methods registered now. */
const helpAfter = (): string => `
Inputs (exactly one kind):
  --image: image files (PNG, JPEG, WebP, GIF, TIFF, AVIF), preprocessed by
  --preset and its overrides. 'none' (default): the model's input size, x/255.
    imagenet  224x224, RGB, mean 0.485,0.456,0.406, std 0.229,0.224,0.225
    cifar10   32x32, RGB, the ImageNet mean and std
    mnist     28x28, gray, x/255
  --input-npy: .npy batches [N, ...] matching the model (any N for a dynamic
  batch), or one image without the batch axis. float32, float64, int64, int32
  and uint8 are read as float32. Preprocessing options only tell how to draw
  them; without any, an image-like input is drawn as the min-max gray.

Outputs, in <dir>/<stem of input>/:
  <method>__<target>.npy  attribution for one target, float32, same shape as the
                          input (for N > 1: every image's attribution for it)
  <method>__<target>.png  heatmap at the input's resolution (image-like inputs)
  <method>__<target>_overlay.png  the heatmap over the photo at its resolution
                          (--overlay-on original, the default for --image; a
                          centre crop covers its window only) or over the input
  grid.png                rows = methods, columns = targets, the input first,
                          a colorbar per row (values for one target, else
                          0 ... max or -max ... 0 ... +max: each map has its scale)
  logits.npy              logits, float32 [N, classes]
  targets.json            classes used per image and target, files written
and <dir>/summary.json: top-5 predictions, targets, files, timings,
preprocessing, versions and the command line (--json prints it).
  A method the model cannot run is left out (nothing of it is written) and named
  with its reason, one line each on stderr and in summary.json (refused); the
  others are written, and the exit status is 1 (2 for a usage error).
  <target> is the class index used (gradient__8.npy for --target max when class
  8 is predicted). When N > 1 and images use different classes, the file is
  named by the target spec: gradient__max.npy, gradient__top3-2.npy (second of
  top3); targets.json has the class of every image. For N > 1, PNG names end
  in _<image index>: gradient__8_0.png, grid_0.png.
  Heatmaps show max |.| over channels (inferno), except LRP relevance
  (${signedByDefault().join(', ')}), drawn as the channel sum with a
  diverging map (blue < 0 < red); --signed draws every method with signed
  values that way; --colormap sets the colormap of all. All clip at the --clip
  percentile. A target another one covers is explained once (max and top3:
  top3), and a class met twice is drawn once in the grid.

Methods:
${methodNames().map((m) => [m, methodSummary(m)] as const).map(([m, summary]) => `  ${m.length < 18 ? m.padEnd(18) : `${m}\n${' '.repeat(20)}`}${wrap(summary, 80, 20)}`).join('\n')}

Layer maps (${methodNames('layer-map').join(', ')};
or any method with --aggregation):
  --list-layers     print the layers (tensor name, op, shape; token layers
                    with their patch grid) and exit
  --layer NAME[,NAME...]  the layer(s) (default: the last spatial layer, the
                    last Conv output for normgrad-conv)
  --aggregation A[,A...]  extra aggregations (the maps of a backward method):
${AGGREGATIONS.map((a) => `    ${a.padEnd(19)}${wrap(AGGREGATION_SUMMARIES[a], 80, 23)}`).join('\n')}
  --combine sum|product  combine the min-max normalized maps of several layers
  --weights w1,w2   one weight per layer for --combine (default: uniform)
  --upsample bilinear|nearest  resizing of the maps to the input (default:
                    bilinear, nearest for guided-gradcam)
  <method>__<target>.npy is the upsampled map [N, 1, H, W] (guided-gradcam:
  Guided Backprop x the map), and <method>__<target>__<layer>.npy the map at
  the layer's resolution [N, 1, h, w] (other aggregations: __<aggregation>
  appended; characters of the layer outside [A-Za-z0-9._-] become _).
  --meta-lr LR      ${wrap(`meta-saliency (${GRADIENT_FAMILY.join(', ')}): explain the network after one SGD step of rate LR on the target's cross-entropy (e.g. 1e-4); one target per run`, 80, 20)}

Method parameters (each is refused when no method given reads it):
  --epsilon E       LRP-ε stabilizer (default 1e-6): lrp-epsilon, and the dense
                    layers of epsilon-plus-flat and epsilon-gamma-box
  --alpha A --beta B  LRP-αβ weights for lrp-alphabeta, α ≥ 0, β ≥ 0, α − β = 1
                    (α2β1: --alpha 2 --beta 1); one of them is enough
  --composite NAME  rules per layer of lrp, clrp1, clrp2 (default gu2018):
    gu2018             zB first layer, z+ everywhere else, biases ignored
    epsilon-plus-flat  flat first layer, z+ convs, ε dense layers
    epsilon-gamma-box  zB first layer, γ = 0.25 convs, ε dense layers
  --box LOW,HIGH    bounds of the zB rule (gu2018, epsilon-gamma-box): the lowest
                    and highest value of each normalized input channel; or per
                    channel --box l1,l2,l3:h1,h2,h3 (for negative values write
                    --box=-2.1,2.6). Default: from the preprocessing,
                    (0 - mean)/std and (1 - mean)/std; for --preset imagenet
                    -2.118,-2.036,-1.804:2.249,2.429,2.640. A .npy input has no
                    preprocessing unless one is given: pass --box or --preset.
  --normalize       clrp1, clrp2, contrastive-excitation: divide R and R_dual by
                    their sums before max(0, R - R_dual) (the authors' code);
                    default: the paper's form
  --seed one|logit  the seed on the target logit: 1, or the logit's value
                    (default: logit for LRP and excitation, one otherwise)

Exit codes: 0 ok, 1 bad model, input or output file, 2 wrong usage.

Examples:
  backlight explain --model mobilenetv2.onnx --image cat.jpg --preset imagenet --labels classes.json --method gradient,guided-backprop --target max,3 --out results
  backlight explain --model model.onnx --input-npy x.npy --out results
  backlight explain --model mobilenetv2.onnx --image cat.jpg --preset imagenet --method lrp,clrp2 --target top2 --out results
  backlight explain --model model.onnx --input-npy x.npy --method lrp-alphabeta --alpha 2 --beta 1 --out results
  backlight explain --model model.onnx --input-npy x.npy --preset imagenet --method lrp --composite epsilon-gamma-box --out results
  backlight explain --model mobilenet/model.json --image cat.jpg --preset imagenet-tf --method gradient,lrp --out results   (TF.js, shards beside the json)
`;

export function registerExplain(program: Command, io: CliIO, argv: readonly string[] = []): void {
  const cmd = program.command('explain');
  cmd
    .summary('explain predictions on images or NumPy inputs: .npy attributions, heatmaps, grids')
    .description("Explain a classifier's predictions: one attribution per input, method and target, written as .npy files and drawn as heatmaps, overlays and a grid.")
    .requiredOption('-m, --model <file>', 'the classifier, an ONNX file or a TF.js layers model.json with its weight shards beside it (output: logits or probabilities [N, classes])')
    .option('--image <files...>', 'input image files (PNG, JPEG, WebP, …), preprocessed by --preset')
    .option('-i, --input-npy <files...>', 'input batches as .npy files, [N, ...] or one image without the batch axis')
    .option('--preset <name>', `preprocessing of images: ${PRESET_NAMES.join(', ')} (default: none = the model's input size, x/255)`)
    .option('--size <W[,H]>', 'input size in pixels, overrides the preset')
    .option('--crop [N]', 'resize the shorter side to N (default: size·256/224), then centre-crop to the size')
    .option('--mean <a,b,c>', 'per-channel mean subtracted after x/255 (tensor channel order), overrides the preset')
    .option('--std <a,b,c>', 'per-channel std divided by after the mean, overrides the preset')
    .option('--layout <nchw|nhwc>', "tensor layout (default: the model's)")
    .option('--channels <rgb|bgr|gray>', "channel order (default: the preset's, or the model's for none)")
    .option('--labels <file>', 'class names: one per line, or a JSON array of strings; as many as the model has classes')
    .option('--method <names>', `comma-separated methods (default: gradient): ${methodNames().join(', ')}`, collect)
    .option('-t, --target <specs>', "comma-separated targets (default: max): a class index, 'max' (predicted class) or 'topK' (the K best)", collect)
    .option('-o, --out <dir>', 'output folder (created if needed; required except with --list-layers)')
    .option('--layer <names>', 'comma-separated layers (tensor names, see --list-layers) of the layer-map methods (default: the method\'s default layer)', collect)
    .option('--aggregation <names>', `comma-separated aggregations at the layers: ${AGGREGATIONS.join(', ')}`, collect)
    .option('--combine <sum|product>', 'combine the maps of several --layer layers')
    .option('--weights <w1,w2,...>', 'weights of the layers for --combine, one per layer')
    .option('--upsample <bilinear|nearest>', 'upsampling of layer maps to the input (default: bilinear; nearest for guided-gradcam)')
    .option('--list-layers', 'print the layers of the model (name, op, shape; JSON with --json) and exit')
    .option('--signed', 'draw the signed sum over channels with a diverging colormap, instead of max |.|')
    .option('--clip <percentile>', `percentile of the map that gets full colour (default: ${DEFAULT_PERCENTILE})`)
    .option('--opacity <a>', 'opacity of heatmaps over the input in overlays, 0 to 1 (default: 0.6)')
    .option('--colormap <name>', `colormap of every heatmap: ${COLORMAP_NAMES.join(', ')} (default: inferno for magnitudes, rdbu for signed maps)`)
    .option('--overlay-on <original|input>', "draw overlays over the original photo at its resolution (default for --image) or over the model's input (always for --input-npy)");
  // One flag per parameter of the registered methods (built-in ones first, in their order).
  for (const p of registeredParams(BUILTIN_PARAMS)) cmd.option(p.flag, p.help);
  cmd
    .option('--no-png', 'write no PNG (heatmaps, overlays, grids), only .npy and .json files')
    .option('--json', 'print the summary (files, predictions, targets, timings) as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--threads <n>', "threads per onnxruntime session (default: onnxruntime's choice)")
    .option('--dump-graph <file.onnx>', 'also write the compiled explanation graph of the first method (view it in Netron)')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .addHelpText('after', helpAfter())
    .action(async (opts: ExplainCliOptions) => {
      if (opts.listLayers) return listLayers(opts, io);
      const plan = planExplain(opts, argv);
      const { report, refusals } = await explainCommand(plan, io);
      printReport(report, plan.format, io);
      if (refusals.length > 0) throw new MethodsRefused(refusals);
    });
}
