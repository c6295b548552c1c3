/**
 * Evaluation datasets: a folder of images with a JSON list of entries, and the geometry that moves
 * ground-truth boxes from an image's own pixels to the model input's.
 *
 * The list (`--annotations FILE`; default `<data>/annotations.json`, else `<data>/labels.json`) is a
 * JSON array of `{ file, label, boxes?, … }`:
 * - `file`: the image's path relative to the data folder (unique in the list);
 * - `label`: the ground-truth class index (an integer ≥ 0);
 * - `boxes` (optional): `[[x0, y0, x1, y1], …]` in pixel index units of the image file as decoded
 *   (after EXIF orientation), inclusive on both ends as the ILSVRC boxes are (see
 *   src/metrics/boxes.ts). Other fields are ignored.
 * This is the format of ../shared/data/imagenet-val-1300/annotations.json (boxes in its 227×227
 * images) and of the CIFAR sample's labels.json (no boxes).
 *
 * Box geometry follows the image preprocessing of src/io/image.ts exactly:
 * - resize (no crop): x × W_in / w, y × H_in / h;
 * - resize of the shorter side to S, then the centre crop (`resizePlan`, torchvision's Resize(S) +
 *   CenterCrop): the image is resized to rw × rh (the shorter side S, the longer
 *   trunc(S · long / short)), so x × rw / w − left, y × rh / h − top with left = round((rw − W_in) / 2),
 *   top = round((rh − H_in) / 2) (Python's rounding).
 * For the 227×227 ImageNet subset and a 224 input: resize → × 224/227; `--crop 227` → − 2.
 */
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, join, normalize, resolve } from 'node:path';
import { BacklightError } from '../errors.js';
import { fsReason } from '../io/files.js';
import { resizePlan, type Preprocess } from '../io/preprocess.js';
import { translateBoxes, scaleBoxes, toBoxes, type Box } from '../metrics/boxes.js';

/** One image of a dataset. */
export interface DatasetEntry {
  /** Position in the list (after `--limit`, which keeps the first N): the key of shards. */
  index: number;
  /** As given in the list (relative to the data folder). */
  file: string;
  /** Absolute path. */
  path: string;
  label: number;
  /** In the image file's own pixels; undefined when the entry has none. */
  boxes?: Box[];
}

export interface Dataset {
  /** The data folder (absolute). */
  folder: string;
  /** The list file (absolute). */
  annotations: string;
  entries: DatasetEntry[];
  /** Entries in the list before `--limit`. */
  total: number;
}

export interface DatasetOptions {
  /** The image folder. */
  data: string;
  /** The list file; default `<data>/annotations.json`, else `<data>/labels.json`. */
  annotations?: string;
  /** Keep the first N entries. */
  limit?: number;
}

const usage = (msg: string): BacklightError => new BacklightError(msg, 'usage');

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** Reads and checks the list of a dataset (the images themselves are read when evaluated). */
export async function loadDataset(options: DatasetOptions): Promise<Dataset> {
  const folder = resolve(options.data);
  try {
    if (!(await stat(folder)).isDirectory()) throw usage(`--data '${options.data}' is a file, not a folder of images`);
  } catch (e) {
    if (e instanceof BacklightError) throw e;
    throw new BacklightError(`cannot read data folder '${options.data}': ${fsReason(e)}`);
  }
  let annotations: string;
  if (options.annotations !== undefined) annotations = resolve(options.annotations);
  else {
    const candidates = ['annotations.json', 'labels.json'].map((f) => join(folder, f));
    const found: string[] = [];
    for (const c of candidates) if (await isFile(c)) found.push(c);
    if (found.length === 0) throw usage(`the data folder '${options.data}' has no annotations.json or labels.json: give --annotations FILE`);
    annotations = found[0]!;
  }
  let text: string;
  try {
    text = await readFile(annotations, 'utf8');
  } catch (e) {
    throw new BacklightError(`cannot read annotations '${annotations}': ${fsReason(e)}`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new BacklightError(`annotations '${annotations}' is not valid JSON: ${(e as Error).message}`);
  }
  const entries = parseEntries(raw, annotations, folder);
  const total = entries.length;
  if (options.limit !== undefined) {
    if (!(Number.isInteger(options.limit) && options.limit > 0)) throw usage(`--limit must be a positive integer, got ${options.limit}`);
    entries.length = Math.min(entries.length, options.limit);
  }
  return { folder, annotations, entries, total };
}

/** Checks a parsed list; throws a BacklightError naming the first bad entry. */
export function parseEntries(raw: unknown, source: string, folder: string): DatasetEntry[] {
  if (!Array.isArray(raw)) throw new BacklightError(`annotations '${source}' must be a JSON array of {file, label, boxes?} entries`);
  if (raw.length === 0) throw new BacklightError(`annotations '${source}' has no entries`);
  const seen = new Set<string>();
  return raw.map((e: unknown, index): DatasetEntry => {
    const bad = (why: string): never => {
      throw new BacklightError(`annotations '${source}', entry ${index}: ${why}`);
    };
    if (typeof e !== 'object' || e === null || Array.isArray(e)) bad('expected an object {file, label, boxes?}');
    const o = e as Record<string, unknown>;
    if (typeof o.file !== 'string' || o.file === '') bad(`'file' must be a non-empty string`);
    const file = o.file as string;
    if (isAbsolute(file) || normalize(file).startsWith('..')) bad(`'file' must be a path inside the data folder, got '${file}'`);
    if (seen.has(file)) bad(`file '${file}' is listed twice`);
    seen.add(file);
    if (!(typeof o.label === 'number' && Number.isInteger(o.label) && o.label >= 0)) bad(`'label' must be a class index (an integer ≥ 0), got ${JSON.stringify(o.label)}`);
    const entry: DatasetEntry = { index, file, path: join(folder, file), label: o.label as number };
    if (o.boxes !== undefined && o.boxes !== null) {
      if (!Array.isArray(o.boxes) || !o.boxes.every((b) => Array.isArray(b))) bad(`'boxes' must be a list of [x0, y0, x1, y1]`);
      try {
        entry.boxes = toBoxes(o.boxes as number[][]);
      } catch (err) {
        bad((err as Error).message);
      }
    }
    return entry;
  });
}

/** How a point of the image file maps to the model input: x' = x·sx + dx, y' = y·sy + dy. */
export interface InputGeometry {
  sx: number;
  sy: number;
  dx: number;
  dy: number;
}

/** The geometry of `preprocess` for an image of `width × height` pixels (see the module note). */
export function inputGeometry(width: number, height: number, preprocess: Pick<Preprocess, 'width' | 'height' | 'crop'>): InputGeometry {
  const { width: W, height: H, crop } = preprocess;
  if (crop === null) {
    if (width === W && height === H) return { sx: 1, sy: 1, dx: 0, dy: 0 };
    return { sx: W / width, sy: H / height, dx: 0, dy: 0 };
  }
  // The plan the images are resized by (torchvision's Resize + CenterCrop).
  const r = resizePlan(width, height, { width: W, height: H, crop });
  return { sx: r.width / width, sy: r.height / height, dx: -r.left, dy: -r.top };
}

/** Boxes of an image file moved to the model input (`inputGeometry`). */
export function boxesToInput(boxes: readonly Box[], width: number, height: number, preprocess: Pick<Preprocess, 'width' | 'height' | 'crop'>): Box[] {
  const g = inputGeometry(width, height, preprocess);
  const scaled = g.sx === 1 && g.sy === 1 ? [...boxes] : scaleBoxes(boxes, g.sx, g.sy);
  return g.dx === 0 && g.dy === 0 ? scaled : translateBoxes(scaled, g.dx, g.dy);
}

/** The images of shard i of n: those whose index % n == i. */
export function shardEntries(entries: readonly DatasetEntry[], shard: Shard | null): DatasetEntry[] {
  if (!shard) return [...entries];
  return entries.filter((e) => e.index % shard.count === shard.index);
}

/** `--shard i/n`. */
export interface Shard {
  index: number;
  count: number;
}

/** Parses `i/n` with 0 ≤ i < n. */
export function parseShard(text: string): Shard {
  const m = /^\s*([0-9]+)\s*\/\s*([0-9]+)\s*$/.exec(text);
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!(Number.isSafeInteger(index) && Number.isSafeInteger(count) && count >= 1 && index < count)) {
    throw usage(`--shard '${text}' must be i/n with 0 ≤ i < n (e.g. 0/4 for the first of four shards)`);
  }
  return { index, count };
}
