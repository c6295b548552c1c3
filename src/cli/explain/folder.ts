/**
 * `backlight explain`, the output folder as a whole: the input sets it holds (each described by its
 * own targets.json, under `set`) and summary.json, which is rebuilt from them so that it always
 * describes exactly the sets present — after runs that merged into one folder, and after a run that
 * was killed between renaming a set into place and rewriting the summary
 * (docs/design/output-discipline.md).
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { BacklightError } from '../../errors.js';
import type { OutputDir } from '../outputDir.js';
import { prettyJson, type ExplainReport, type InputReport, type SetRecord, type TargetSlot } from '../summary.js';

export const SUMMARY_FILE = 'summary.json';

interface TargetsDoc {
  input: string;
  shape: number[];
  slots: TargetSlot[];
  perImage: number[][];
  set?: SetRecord;
}

/** The files of a folder, recursively, as paths relative to it. */
async function filesIn(dir: string, prefix = ''): Promise<string[]> {
  const out: string[] = [];
  for (const e of await readdir(dir, { withFileTypes: true })) {
    if (e.isDirectory()) out.push(...(await filesIn(join(dir, e.name), `${prefix}${e.name}/`)));
    else out.push(`${prefix}${e.name}`);
  }
  return out;
}

/**
 * The whole sets in the folder `root` (`out`: the folder as the user named it, for the paths), by
 * folder name: a folder counts when its targets.json describes exactly the files it holds.
 */
export async function readSets(root: string, out: string): Promise<Map<string, InputReport>> {
  const sets = new Map<string, InputReport>();
  const entries = await readdir(root, { withFileTypes: true }).catch(() => []);
  for (const e of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!e.isDirectory() || e.name.startsWith('.backlight-')) continue;
    const folder = join(root, e.name);
    let doc: TargetsDoc;
    try {
      doc = JSON.parse(await readFile(join(folder, 'targets.json'), 'utf8')) as TargetsDoc;
    } catch {
      continue; // not a set of this version (or not Backlight's)
    }
    const set = doc.set;
    if (!set || !Array.isArray(set.files) || !Array.isArray(set.images)) continue;
    const present = (await filesIn(folder)).sort();
    if (present.join('\n') !== [...set.files].sort().join('\n')) continue;
    const dir = join(out, e.name);
    sets.set(e.name, {
      input: doc.input,
      kind: set.kind,
      dir,
      shape: doc.shape,
      ...(set.original ? { original: set.original } : {}),
      model: set.model,
      targets: doc.slots,
      perImage: doc.perImage,
      images: set.images,
      files: set.files.map((f) => join(dir, f)),
      noPictures: set.noPictures,
      timings: [],
    });
  }
  return sets;
}

/**
 * An input's folder is replaced as a whole by its new set: refuse, before any work, to replace a
 * folder that holds files but no targets.json (not a set of Backlight's: the user's own files).
 */
export async function checkReplaceable(dir: string): Promise<void> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return; // absent (checkWritableFolder has told a file apart)
  }
  if (names.length > 0 && !names.includes('targets.json')) {
    throw new BacklightError(`output folder '${dir}' holds files that are not Backlight's (no targets.json): its input's results replace the whole folder; move them away or use another --out`);
  }
}

/** summary.json of the folder, or null (absent or unreadable: it is rebuilt). */
export async function readSummary(root: string): Promise<ExplainReport | null> {
  try {
    const s = JSON.parse(await readFile(join(root, SUMMARY_FILE), 'utf8')) as ExplainReport;
    return s && s.command === 'explain' && Array.isArray(s.inputs) ? s : null;
  } catch {
    return null;
  }
}

/** The stem of an input report (its folder's name). */
export function stemOfReport(r: InputReport): string {
  return r.dir.replace(/[\\/]+$/, '').split(/[\\/]/).pop()!;
}

/**
 * Makes summary.json describe exactly the sets in the folder: inputs it lists whose set is gone or
 * changed are dropped, sets it does not list are added (from their targets.json). Rewrites it only
 * when that changes something; with no set left, removes nothing and writes nothing new. Returns
 * the sets and the (possibly rebuilt) summary.
 */
export async function reconcileSummary(od: OutputDir, out: string): Promise<{ sets: Map<string, InputReport>; summary: ExplainReport | null }> {
  const sets = await readSets(od.root, out);
  const summary = await readSummary(od.root);
  if (!summary && sets.size === 0) return { sets, summary };
  const listed = (summary?.inputs ?? []).map(stemOfReport);
  const inputs: InputReport[] = [];
  for (const stem of listed) {
    const s = sets.get(stem);
    if (s) inputs.push({ ...s, timings: summary!.inputs.find((r) => stemOfReport(r) === stem)?.timings ?? [] });
  }
  for (const [stem, s] of sets) if (!listed.includes(stem)) inputs.push(s);
  const same = summary !== null && JSON.stringify(summary.inputs.map((r) => r.files)) === JSON.stringify(inputs.map((r) => r.files));
  if (same) return { sets, summary };
  if (inputs.length === 0) {
    // Nothing left to describe: no summary either (a folder holds whole sets and their summary, or nothing).
    await rm(join(od.root, SUMMARY_FILE), { force: true });
    return { sets, summary: null };
  }
  const rebuilt: ExplainReport = summary
    ? { ...summary, inputs }
    : ({ command: 'explain', rebuilt: 'from the input folders, after an interrupted run', inputs, summary: join(out, SUMMARY_FILE) } as unknown as ExplainReport);
  await od.writeFile(SUMMARY_FILE, `${prettyJson(rebuilt)}\n`);
  return { sets, summary: rebuilt };
}
