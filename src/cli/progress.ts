/**
 * A progress bar on stderr (npm `cli-progress`) for runs over several inputs or methods, drawn
 * only when stderr is a terminal; otherwise (pipes, files, tests, `--quiet`, `--json`) every call
 * does nothing.
 */
import cliProgress from 'cli-progress';
import type { CliIO } from './errors.js';

export interface Progress {
  /** Shows what the step starting now does. */
  begin(task: string): void;
  /** Marks the current step done. */
  done(): void;
  /** Removes the bar (call it on success and on failure). */
  stop(): void;
}

const NONE: Progress = { begin: () => undefined, done: () => undefined, stop: () => undefined };

/** A bar of `total` steps when `enabled` and the progress stream of `io` is a terminal. */
export function startProgress(io: CliIO | undefined, total: number, enabled: boolean): Progress {
  const stream = io?.progress;
  if (!enabled || total < 1 || !stream?.isTTY) return NONE;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: 'explain {bar} {value}/{total} | {duration_formatted} | {task}',
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { task: '' });
  let value = 0;
  let stopped = false;
  return {
    begin: (task) => {
      if (!stopped) bar.update(value, { task });
    },
    done: () => {
      if (!stopped) bar.update(++value);
    },
    stop: () => {
      if (!stopped) bar.stop();
      stopped = true;
    },
  };
}
