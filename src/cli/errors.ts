/**
 * How the CLI reports failures. Errors a user can act on (BacklightError, commander's usage
 * errors) print `backlight: <message>` on one line to stderr, without a stack trace; anything
 * else is a bug: its message, a hint to report it, and the stack only with `--debug` or
 * BACKLIGHT_DEBUG=1.
 *
 * Exit codes: 0 success; 1 bad model or input data, files that cannot be read or written, and
 * internal errors; 2 wrong usage (unknown options, methods or malformed/out-of-range targets).
 * A run that left out methods the model refuses (`MethodsRefused`) exits 1 (2 when a refusal is
 * a usage error) after writing the others.
 */
import { CommanderError } from 'commander';
import { BacklightError, escapeControl, oneLine } from '../errors.js';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_USAGE = 2;

/** Where a command writes; tests capture it, the bin entry passes process streams. */
export interface CliIO {
  stdout(text: string): void;
  stderr(text: string): void;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * The stream behind `stderr`, for progress bars: one is drawn only when it is a terminal
   * (`isTTY`). Absent in tests that capture the output as text.
   */
  progress?: NodeJS.WritableStream & { isTTY?: boolean };
}

export function processIO(): CliIO {
  return {
    // Names from models, files and labels reach these lines: control characters are shown escaped.
    stdout: (t) => void process.stdout.write(escapeControl(t, '\n\t')),
    stderr: (t) => void process.stderr.write(escapeControl(t, '\n\t')),
    env: process.env,
    progress: process.stderr,
  };
}

/** `--debug` anywhere before `--`, or BACKLIGHT_DEBUG set to something other than 0/empty. */
export function debugRequested(argv: readonly string[], env: CliIO['env']): boolean {
  const end = argv.indexOf('--');
  const args = end < 0 ? argv : argv.slice(0, end);
  const v = env.BACKLIGHT_DEBUG;
  return args.includes('--debug') || (v !== undefined && v !== '' && v !== '0' && v.toLowerCase() !== 'false');
}

export { oneLine } from '../errors.js';

/** A method the model (or the options, for `usage`) cannot run, and why. */
export interface Refusal {
  method: string;
  reason: string;
  usage: boolean;
}

/**
 * Methods a run left out, each with its reason; the run did the others (or nothing, when none was
 * left). Printed as one line per method; exit 2 when a refusal is a usage error, else 1.
 */
export class MethodsRefused extends Error {
  override readonly name = 'MethodsRefused';
  constructor(readonly refusals: readonly Refusal[]) {
    super(refusals.map((r) => `method '${r.method}': ${r.reason}`).join('; '));
  }
}

/** Prints an error the way the CLI does and returns the exit code for it. */
export function reportError(e: unknown, io: CliIO, debug: boolean): number {
  if (e instanceof MethodsRefused) {
    for (const r of e.refusals) io.stderr(`backlight: method '${r.method}': ${oneLine(r.reason)}\n`);
    return e.refusals.some((r) => r.usage) ? EXIT_USAGE : EXIT_FAILURE;
  }
  if (e instanceof CommanderError) {
    // Help and version were printed already; so was the help commander shows for a missing command.
    if (e.code === 'commander.helpDisplayed' || e.code === 'commander.version') return EXIT_OK;
    if (e.code === 'commander.help') return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
    io.stderr(`backlight: ${oneLine(e.message.replace(/^error:\s*/, ''))}\n`);
    return EXIT_USAGE;
  }
  if (e instanceof BacklightError) {
    io.stderr(`backlight: ${oneLine(e.message)}\n`);
    if (debug && e.stack) io.stderr(`${e.stack}\n`);
    return e.kind === 'usage' ? EXIT_USAGE : EXIT_FAILURE;
  }
  const err = e instanceof Error ? e : new Error(String(e));
  io.stderr(`backlight: internal error: ${oneLine(err.message)}\n`);
  if (debug) io.stderr(`${err.stack ?? err.message}\n`);
  else io.stderr('backlight: this is a bug; please report it with the command you ran (rerun with --debug or BACKLIGHT_DEBUG=1 for the stack trace)\n');
  return EXIT_FAILURE;
}

/** Runs a command and turns any failure into a message and an exit code. */
export async function runCommand(io: CliIO, debug: boolean, body: () => Promise<void>): Promise<number> {
  try {
    await body();
    return EXIT_OK;
  } catch (e) {
    return reportError(e, io, debug);
  }
}
