/**
 * Parsing of command-line option values shared by the commands: every bad value is a usage error
 * (exit 2) that names the flag, the value given and what was expected.
 */
import { BacklightError } from '../errors.js';
import { MAX_THREADS } from '../index.js';

export const usage = (msg: string): BacklightError => new BacklightError(msg, 'usage');

/** Commander's accumulator for a repeatable option. */
export const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** An integer ≥ `min` written in decimal digits; `fallback` when the option is absent. */
export function integerOption(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const v = Number(text);
  if (!/^\s*[0-9]+\s*$/.test(text) || !Number.isSafeInteger(v) || v < min) throw usage(`${flag} '${text}' must be an integer ≥ ${min}`);
  return v;
}

/** `--threads N`: threads per onnxruntime session, 1 to MAX_THREADS. */
export function threadsOption(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const v = Number(text);
  if (!/^\s*[0-9]+\s*$/.test(text) || !Number.isSafeInteger(v) || v < 1) throw usage(`--threads '${text}' is not a positive integer`);
  if (v > MAX_THREADS) throw usage(`--threads '${text}' is more than ${MAX_THREADS}, the most threads a session may use`);
  return v;
}

/** A finite number accepted by `ok` (`range` says which, e.g. 'from 0 to 1'). */
export function parseNumber(flag: string, text: string, ok: (v: number) => boolean, range: string): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || !ok(v)) throw usage(`${flag} '${text}' must be a number ${range}`);
  return v;
}

/** `parseNumber`, or `fallback` when the option is absent. */
export function numberOption(flag: string, text: string | undefined, fallback: number, ok: (v: number) => boolean, range: string): number {
  return text === undefined ? fallback : parseNumber(flag, text, ok, range);
}
