/** The progress bar of the eval commands. */
import cliProgress from 'cli-progress';
import type { RunProgress } from '../../eval/runner.js';
import type { CliIO } from '../errors.js';

/** A progress bar with ETA on the terminal (nothing without a TTY, or with --quiet/--json). */
export function evalProgress(io: CliIO | undefined, label: string, enabled: boolean): RunProgress | undefined {
  const stream = io?.progress;
  if (!enabled || !stream?.isTTY) return undefined;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${label} {bar} {value}/{total} | ETA {eta_formatted} | {duration_formatted} | {file}`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    start: (total) => {
      if (total > 0) {
        bar.start(total, 0, { file: '' });
        started = true;
      }
    },
    tick: (done, _total, file) => {
      if (started) bar.update(done, { file });
    },
    stop: () => {
      if (started) bar.stop();
      started = false;
    },
  };
}
