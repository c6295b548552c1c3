/**
 * The `backlight` command line: one commander program with a subcommand per task. `run(argv)`
 * parses and runs a command line and returns its exit code, so tests run commands in-process; the
 * bin entry (main.ts) passes process.argv and the process streams.
 *
 * Adding a command: write `registerX(program, io)` in its own module and call it here.
 */
import { Command } from 'commander';
import { debugRequested, processIO, runCommand, type CliIO } from './errors.js';
import { registerDemo } from './demoCommand.js';
import { registerExplain } from './explain/options.js';
import { registerEval } from './eval/index.js';
import { registerConvert } from './convert.js';
import { backlightVersion } from './summary.js';

/**
 * Builds the program; output goes to `io`, and errors are thrown (never `process.exit`). `argv`
 * (the arguments after `backlight`) is recorded in the summaries commands write.
 */
export function buildProgram(io: CliIO, argv: readonly string[] = []): Command {
  const program = new Command('backlight');
  program
    .description('Explain CNN image classifiers (ONNX or TF.js layers models) with backpropagation saliency methods.')
    .version(backlightVersion(), '-V, --version')
    .option('--debug', 'print stack traces of internal errors (also: BACKLIGHT_DEBUG=1)')
    .configureOutput({
      writeOut: (s) => io.stdout(s),
      writeErr: (s) => io.stderr(s),
      // Usage errors are printed by reportError, as one `backlight: …` line.
      outputError: () => undefined,
    })
    .exitOverride()
    .showSuggestionAfterError(true)
    .allowExcessArguments(false);
  // Subcommands created with .command() inherit the output and exit settings above.
  registerExplain(program, io, argv);
  registerDemo(program, io);
  registerEval(program, io);
  registerConvert(program, io);
  return program;
}

/** Runs one command line (without `node` and the script) and returns its exit code. */
export async function run(argv: readonly string[], io: CliIO = processIO()): Promise<number> {
  const debug = debugRequested(argv, io.env);
  const program = buildProgram(io, argv);
  return runCommand(io, debug, async () => {
    await program.parseAsync([...argv], { from: 'user' });
  });
}
