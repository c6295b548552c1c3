/** `backlight eval adversarial`: the FGSM adversarial test. */
import type { Command } from 'commander';
import type { CliIO } from '../errors.js';
import { COMMON_HELP, commonOptions, type EvalCliOptions } from './options.js';
import { planEval } from './plan.js';
import { printEval } from './report.js';
import { evalCommand } from './run.js';
import { SENSITIVITY_METHODS } from '../../eval/sensitivity.js';
import { DEFAULT_EPSILON } from '../../eval/adversarial.js';

const ADVERSARIAL_HELP = `${COMMON_HELP}

Adversarial test (Nie et al. 4.4): FGSM x' = x + eps * sign(grad_x CE(logits,
y)) with y the predicted class (--target label: the ground truth), eps
(--epsilon, default ${DEFAULT_EPSILON}) in pixel units of [0, 1] images, divided
by the preset's std per channel and clipped to the black-white range; the
gradient comes from the model's compiled gradient graph. Per image: the
prediction before and after, whether it flipped, and per method the change
between the map of the class predicted on x and the map of the class predicted
on x' (normalized l2 distance, Spearman's rho, SSIM). --grid N draws maps
before/after for the first N images (default 3) with --labels names.
Default methods: ${SENSITIVITY_METHODS.join(', ')}.

Example:
  backlight eval adversarial --model resnet20.onnx --data cifar10-test-1000 --preset cifar10 --limit 200 --epsilon 2/255 --out eval/adversarial
`;

export function registerAdversarial(evalCmd: Command, io: CliIO): void {
  commonOptions(evalCmd.command('adversarial'), SENSITIVITY_METHODS)
    .summary('FGSM adversarial test: label flips and how much each map changes')
    .description("Nie et al.'s adversarial test: FGSM with the model's own compiled input gradient; the label flip and, per method, the change between the maps before and after.")
    .option('--epsilon <eps>', `FGSM step in pixel units of [0, 1] images: a number or a fraction such as 2/255 (default: ${DEFAULT_EPSILON})`)
    .option('--target <predicted|label>', 'class whose cross-entropy the attack increases (default: predicted)')
    .option('--grid <n>', 'draw maps before/after for the first N images (default: 3)')
    .option('--labels <file>', 'class names for the figures: one per line, or a JSON array of strings')
    .addHelpText('after', ADVERSARIAL_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('adversarial', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });
}
