/**
 * `backlight eval`: one file per subcommand (pointing, ablation, sensitivity, adversarial, sanity,
 * randomNets, merge); the options they share in options.ts, planning in plan.ts, the run in
 * run.ts, the printed report in report.ts, the progress bar in progress.ts.
 */
import type { Command } from 'commander';
import type { CliIO } from '../errors.js';
import { registerAblation } from './ablation.js';
import { registerAdversarial } from './adversarial.js';
import { registerMerge } from './merge.js';
import { registerPointing } from './pointing.js';
import { registerRandomNets } from './randomNets.js';
import { registerSanity } from './sanity.js';
import { registerSensitivity } from './sensitivity.js';

export function registerEval(program: Command, io: CliIO): void {
  const evalCmd = program
    .command('eval')
    .summary('evaluate explanations: pointing game, ablation, class sensitivity, adversarial, sanity checks, random networks')
    .description('Evaluate explanation methods on a labelled image set (resumable, shardable): the pointing game and its energy variant, patch ablation with deletion/insertion curves, class sensitivity, the FGSM adversarial test, and merging shard results; model-randomization sanity checks and Nie et al.\'s random-network experiments.');

  registerPointing(evalCmd, io);
  registerAblation(evalCmd, io);
  registerSensitivity(evalCmd, io);
  registerAdversarial(evalCmd, io);
  registerSanity(evalCmd, io);
  registerRandomNets(evalCmd, io);
  registerMerge(evalCmd, io);
}
