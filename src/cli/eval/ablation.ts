/** `backlight eval ablation`: patch ablation and deletion/insertion curves. */
import type { Command } from 'commander';
import type { CliIO } from '../errors.js';
import { COMMON_HELP, commonOptions, type EvalCliOptions } from './options.js';
import { planEval } from './plan.js';
import { printEval } from './report.js';
import { evalCommand } from './run.js';

const ABLATION_HELP = `${COMMON_HELP}

Ablation (Gu et al. Table 1): a square patch (--patch, default 32 px for a 224
input, the same share of other sizes) around the map's maximum is replaced by
the dataset mean (--fill: 'preset' = 0 in normalized units, the preset's mean
colour, which for imagenet/cifar10 is the ImageNet mean; 'dataset' = the
per-channel mean of the images; or numbers); the mean drop of the target's logit
and softmax probability, against a patch at a random pixel. Deletion/insertion
(Petsiuk et al.): --steps steps (default 16, 0 = none), pixels by decreasing map
value set to / restored from 0; AUC of the target's probability.

Example:
  backlight eval ablation --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --limit 200 --out eval/ablation
`;

export function registerAblation(evalCmd: Command, io: CliIO): void {
  commonOptions(evalCmd.command('ablation'))
    .summary("patch ablation at the map's maximum vs random; deletion/insertion AUC")
    .description("Gu et al.'s ablation: the drop of the target's logit when a patch at the map's maximum is replaced by the dataset mean, against a random patch; and deletion/insertion curves.")
    .option('--patch <px>', 'side of the square patch (default: 32 for a 224 input, ~14 % of the side)')
    .option('--fill <v>', "patch value: 'preset' (default: 0 = the preset's mean), 'dataset' (the images' mean) or numbers in normalized units")
    .option('--steps <n>', 'steps of the deletion and insertion curves (default: 16; 0: no curves)')
    .option('--target <label|predicted>', 'class to explain and score (default: label, the ground truth)')
    .addHelpText('after', ABLATION_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('ablation', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });
}
