/**
 * The progress of the eval commands: a bar with ETA on a terminal; off a terminal (a Kubernetes or
 * Slurm log, a pipe) plain lines instead, one when the run starts, then every
 * `BACKLIGHT_PROGRESS_EVERY` seconds (default 30; 0: after every image) and one at the end:
 *
 *   eval pointing: 120/1300 images, 9.2 img/s, ETA 2m08s
 *
 * Nothing with --quiet or --json (the caller's `enabled`).
 */
import cliProgress from 'cli-progress';
import type { RunProgress } from '../../eval/runner.js';
import { usage } from '../options.js';
import type { CliIO } from '../errors.js';

/** Seconds between two progress lines off a terminal, unless `BACKLIGHT_PROGRESS_EVERY` says otherwise. */
export const DEFAULT_PROGRESS_SECONDS = 30;

/** A duration as `2m08s`, `1h02m`, `9s`. */
export function formatDuration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** `BACKLIGHT_PROGRESS_EVERY`, checked: seconds ≥ 0. */
export function progressSeconds(env: Readonly<Record<string, string | undefined>>): number {
  const text = env.BACKLIGHT_PROGRESS_EVERY;
  if (text === undefined || text.trim() === '') return DEFAULT_PROGRESS_SECONDS;
  const v = Number(text);
  if (!(Number.isFinite(v) && v >= 0)) throw usage(`BACKLIGHT_PROGRESS_EVERY '${text}' must be a number of seconds ≥ 0 (0: a line per image)`);
  return v;
}

/**
 * Plain progress lines through `write`: at the start, then at most one every `everySeconds`
 * (by `clock`, in milliseconds), and at the end.
 */
export function lineProgress(write: (line: string) => void, label: string, everySeconds: number, clock: () => number = () => performance.now()): RunProgress {
  let total = 0;
  let t0 = 0;
  let last = 0;
  let done = 0;
  let started = false;
  const line = (end: boolean): string => {
    const seconds = (clock() - t0) / 1000;
    const rate = seconds > 0 ? done / seconds : 0;
    const speed = done > 0 && seconds > 0 ? `, ${rate < 10 ? rate.toFixed(1) : Math.round(rate)} img/s` : '';
    if (end) return `eval ${label}: ${done}/${total} images in ${formatDuration(seconds)}${speed}\n`;
    const eta = done > 0 && rate > 0 ? `, ETA ${formatDuration((total - done) / rate)}` : '';
    return `eval ${label}: ${done}/${total} images${speed}${eta}\n`;
  };
  return {
    start: (n) => {
      if (n <= 0) return;
      total = n;
      t0 = last = clock();
      started = true;
      write(line(false));
    },
    tick: (d) => {
      if (!started) return;
      done = d;
      const now = clock();
      if (d < total && now - last >= everySeconds * 1000) {
        last = now;
        write(line(false));
      }
    },
    stop: () => {
      if (started) write(line(true));
      started = false;
    },
  };
}

/**
 * The progress of an eval run: a bar on a terminal, plain lines on stderr when it is not one (or
 * when `BACKLIGHT_PROGRESS_EVERY` is set, e.g. with output captured in tests); nothing when not
 * `enabled` (--quiet, --json) or with no stream behind stderr.
 */
export function evalProgress(io: CliIO | undefined, label: string, enabled: boolean): RunProgress | undefined {
  const stream = io?.progress;
  if (!enabled || !io) return undefined;
  if (!stream?.isTTY) {
    if (!stream && io.env.BACKLIGHT_PROGRESS_EVERY === undefined) return undefined;
    return lineProgress(io.stderr, label, progressSeconds(io.env));
  }
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
