/**
 * Targets, in one place: the `TargetSpec`s `explain` takes (a class index, `max`, `topK`), their
 * parsing from text (`--target max,3,top5`, repeatable), their range checks against a model's
 * classes, and the slots of the result's K axis they fill.
 */
import { BacklightError } from '../errors.js';

/** One target: a class index, `'max'` (the predicted class) or `'topK'` such as `'top3'` (the K best). */
export type TargetSpec = number | 'max' | `top${number}`;

const TOP_K = /^top([0-9]+)$/;

/** K of a `topK` spec (1 for `max`, 0 for a class index); NaN when the text is no `topK`. */
export function topKOf(spec: TargetSpec): number {
  if (spec === 'max') return 1;
  if (typeof spec === 'number') return 0;
  const m = TOP_K.exec(spec);
  return m ? Number(m[1]) : NaN;
}

/** The library's check of one spec: a class index in range, 'max', or 'topK' with 1 ≤ K ≤ classes. */
export function checkTargetSpec(spec: TargetSpec, classes: number): void {
  if (typeof spec === 'number') checkClass(spec, classes);
  else {
    const k = topKOf(spec);
    if (!(k >= 1 && k <= classes)) throw new BacklightError(`target '${spec}' is not a class index, 'max' or 'topK' with 1 ≤ K ≤ ${classes}`, 'usage');
  }
}

/** The library's check of a class index (given targets and seeds). */
export function checkClass(c: number, classes: number): number {
  if (!Number.isInteger(c) || c < 0 || c >= classes) {
    throw new BacklightError(`target ${c} is out of range for a model with ${classes} classes (0–${classes - 1})`, 'usage');
  }
  return c;
}

/** One slot of the [N, K, …] result: a target spec, or one rank of a `topK` spec. */
export interface TargetPosition {
  /** The spec as written on the command line (normalized: `max`, `3`, `top5`). */
  spec: string;
  /** 1-based rank within a `topK` spec; absent for `max` and class indices. */
  rank?: number;
}

const MALFORMED = "expected a class index such as 3, 'max' or 'topK' such as 'top5'";

/** Parses one `--target` value into specs; throws a usage error for malformed entries. */
export function parseTargets(text: string): TargetSpec[] {
  const specs: TargetSpec[] = [];
  for (const raw of text.split(',')) {
    const token = raw.trim().toLowerCase();
    if (token === '') throw new BacklightError(`--target '${text}' has an empty entry (${MALFORMED})`, 'usage');
    if (token === 'max') specs.push('max');
    else if (/^[0-9]+$/.test(token)) {
      const c = Number(token);
      if (!Number.isSafeInteger(c)) throw new BacklightError(`target '${raw.trim()}' is not a valid class index`, 'usage');
      specs.push(c);
    } else {
      const k = topKOf(token as TargetSpec);
      if (Number.isNaN(k)) throw new BacklightError(`malformed target '${raw.trim()}' (${MALFORMED})`, 'usage');
      if (!(k >= 1)) throw new BacklightError(`target '${raw.trim()}': K must be at least 1`, 'usage');
      specs.push(`top${k}`);
    }
  }
  return specs;
}

/** Parses every `--target` value given (repeated flags append); duplicates are dropped. */
export function parseTargetList(values: readonly string[]): TargetSpec[] {
  const out: TargetSpec[] = [];
  const seen = new Set<string>();
  for (const v of values) {
    for (const s of parseTargets(v)) {
      if (seen.has(String(s))) continue;
      seen.add(String(s));
      out.push(s);
    }
  }
  if (out.length === 0) throw new BacklightError('no target given', 'usage');
  return out;
}

/**
 * Drops the targets another one already explains, so no class is explained (and drawn) twice:
 * `max` when a `topK` is given (the predicted class is its first), and a `topK` when a larger
 * `topJ` is given. The order of the rest is kept; each drop is told in one line. (`max` next to
 * the index of the class that turns out to be predicted can only be merged after the run.)
 */
export function mergeTargets(specs: readonly TargetSpec[]): { specs: TargetSpec[]; notes: string[] } {
  const largest = Math.max(0, ...specs.filter((s) => typeof s !== 'number' && s !== 'max').map(topKOf));
  const notes: string[] = [];
  const out: TargetSpec[] = [];
  let keptTop = false;
  for (const s of specs) {
    if (s === 'max' && largest > 0) {
      notes.push(`target 'max' is the first class of 'top${largest}': explained once`);
      continue;
    }
    if (typeof s !== 'number' && s !== 'max') {
      if (topKOf(s) < largest || keptTop) {
        notes.push(`target '${s}' is part of 'top${largest}': explained once`);
        continue;
      }
      keptTop = true;
    }
    out.push(s);
  }
  return { specs: out, notes };
}

/** The command line's check of class indices and K against the model's number of classes. */
export function validateTargets(specs: readonly TargetSpec[], classes: number): void {
  for (const s of specs) {
    if (typeof s === 'number') {
      if (s >= classes) {
        throw new BacklightError(`target ${s} is out of range: the model has ${classes} classes (0–${classes - 1})`, 'usage');
      }
    } else if (s !== 'max') {
      const k = topKOf(s);
      if (k > classes) throw new BacklightError(`target '${s}' asks for more classes than the model has (${classes})`, 'usage');
    }
  }
}

/** The slots of the result's K axis, in the order the library returns them. */
export function targetPositions(specs: readonly TargetSpec[]): TargetPosition[] {
  const out: TargetPosition[] = [];
  for (const s of specs) {
    if (typeof s === 'number' || s === 'max') out.push({ spec: String(s) });
    else {
      const k = topKOf(s);
      for (let r = 1; r <= k; r++) out.push({ spec: s, rank: r });
    }
  }
  return out;
}

/** The name of a slot when it cannot be named by one class: `max`, `top5-2` (second of the top 5). */
export function positionLabel(p: TargetPosition): string {
  return p.rank === undefined ? p.spec : `${p.spec}-${p.rank}`;
}
