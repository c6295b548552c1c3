/** `backlight eval merge`: shard results merged, the summary and figures recomputed. */
import type { Command } from 'commander';
import { finalizeRun } from '../../eval/report.js';
import type { CliIO } from '../errors.js';
import { usage } from '../options.js';
import { withOutputDir } from '../outputDir.js';
import { printMerge } from './report.js';

export function registerMerge(evalCmd: Command, io: CliIO): void {
  evalCmd
    .command('merge')
    .summary('merge shard results into results.jsonl and recompute the summary and figures')
    .description('Merge the shard files (results.shard-i-of-n.jsonl) of an evaluation folder into results.jsonl, one line per image, and recompute summary.json, summary.csv, the figures and index.html.')
    .argument('<dir>', 'the --out folder of an eval run')
    .option('--json', 'print the summary as JSON to stdout')
    .option('-q, --quiet', 'print nothing on success')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .action(async (dir: string, opts: { json?: boolean; quiet?: boolean }) => {
      if (opts.json && opts.quiet) throw usage('give either --json or --quiet, not both');
      const fin = await withOutputDir(dir, { command: `backlight eval merge ${dir}` }, () => finalizeRun(dir));
      printMerge(fin, dir, opts.json ? 'json' : opts.quiet ? 'quiet' : 'text', io);
    });
}
