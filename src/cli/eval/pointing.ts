/** `backlight eval pointing`: the pointing game and its energy variant. */
import type { Command } from 'commander';
import type { CliIO } from '../errors.js';
import { COMMON_HELP, commonOptions, type EvalCliOptions } from './options.js';
import { planEval } from './plan.js';
import { printEval } from './report.js';
import { evalCommand } from './run.js';

const POINTING_HELP = `${COMMON_HELP}

Pointing game (Zhang et al.): a hit when the map's maximum lies within
--tolerance px (default 15) of a box; accuracy over images and over classes, on
all images, on small objects (boxes cover < --small of the image, default 0.5),
and on difficult ones (small, missed by the centre point). Baselines: the
centre point, a random pixel (seeded by --seed and the image index) and its
exact expectation. Energy game (Gu et al. Fig. 4): keep the highest pixels
holding p % of the map's energy, hit if all lie in the boxes; also the mean
share of kept energy inside; p = --levels (default 5:100:5).

Example:
  backlight eval pointing --model mobilenetv2.onnx --data imagenet-val-1300 --preset imagenet --out eval/pointing
`;

export function registerPointing(evalCmd: Command, io: CliIO): void {
  commonOptions(evalCmd.command('pointing'))
    .summary('pointing game and energy-threshold pointing game (needs boxes)')
    .description('Pointing game (Zhang et al.) and energy-threshold pointing game (Gu et al.) of each method, with centre and random baselines.')
    .option('--tolerance <px>', 'hit distance in model-input pixels (default: 15)')
    .option('--levels <list>', 'energy levels p in %: 5,10,50 or start:end:step (default: 5:100:5)')
    .option('--small <fraction>', 'small objects: boxes cover less than this share of the image (default: 0.5)')
    .addHelpText('after', POINTING_HELP)
    .action(async (opts: EvalCliOptions) => {
      const plan = planEval('pointing', opts);
      printEval(await evalCommand(plan, io), plan.format, io);
    });
}
