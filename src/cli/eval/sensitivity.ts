/** `backlight eval sensitivity`: class sensitivity. */
import type { Command } from 'commander';
import type { CliIO } from '../errors.js';
import { COMMON_HELP, commonOptions, type EvalCliOptions } from './options.js';
import { planEval } from './plan.js';
import { printEval } from './report.js';
import { evalCommand } from './run.js';
import { SENSITIVITY_METHODS } from '../../eval/sensitivity.js';

const SENSITIVITY_HELP = `${COMMON_HELP}

Class sensitivity: per image, each method explains five classes in one run:
two random ones (seeded by --seed and the image index; Nie et al. Fig. 7),
the max- and the min-scoring class (Rebuffi et al.) and the top-2 (Gu et al.).
Per pair: the l2 distance between the l2-normalized maps (0 = same map up to
scale) and Spearman's rho (1 = same ranking; lower = more class-sensitive).
LRP-family methods get a unit seed on each class (not the logit's value, whose
sign would flip the map of a class with a negative logit). Default methods:
${SENSITIVITY_METHODS.join(', ')}.

Example:
  backlight eval sensitivity --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --limit 150 --batch 4 --out eval/sensitivity
`;

export function registerSensitivity(evalCmd: Command, io: CliIO): void {
  commonOptions(evalCmd.command('sensitivity'), SENSITIVITY_METHODS)
    .summary('class sensitivity: maps of two random, max/min and top-2 classes compared (l2, Spearman)')
    .description("Class sensitivity of each method: Nie et al.'s l2 distance between the normalized maps of two random classes, Rebuffi et al.'s Spearman correlation between the max- and min-class maps, and the top-1 vs top-2 classes (Gu et al.).")
    .addHelpText('after', SENSITIVITY_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('sensitivity', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });
}
