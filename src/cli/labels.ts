/**
 * `--labels FILE`: readable class names, one per line (a trailing newline is ignored; CRLF is
 * fine) or a JSON array of strings. Their number must equal the model's number of classes.
 */
import { readFile } from 'node:fs/promises';
import { BacklightError } from '../errors.js';
import { fsReason } from '../io/files.js';

/** Parses the text of a labels file; throws a BacklightError naming `source`. */
export function parseLabels(text: string, source: string): string[] {
  const body = text.replace(/^\uFEFF/, '');
  if (body.trimStart().startsWith('[')) {
    let value: unknown;
    try {
      value = JSON.parse(body);
    } catch (e) {
      throw new BacklightError(`--labels '${source}': not valid JSON (${(e as Error).message})`);
    }
    if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) {
      throw new BacklightError(`--labels '${source}': a JSON labels file must hold an array of strings`);
    }
    return value as string[];
  }
  const lines = body.split(/\r?\n/);
  if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
  return lines.map((l) => l.trim());
}

/** Reads a labels file and checks it names exactly `classes` classes (else a usage error). */
export async function readLabels(file: string, classes: number): Promise<string[]> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    throw new BacklightError(`cannot read labels file '${file}': ${fsReason(e)}`);
  }
  const labels = parseLabels(text, file);
  if (labels.length !== classes) {
    throw new BacklightError(`--labels '${file}' names ${labels.length} classes, but the model has ${classes}`, 'usage');
  }
  return labels;
}
