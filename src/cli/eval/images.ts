/**
 * Checks, before an evaluation writes anything, that every image it will read can be read and
 * decoded (its header: size and format), so that a bad entry in the middle of a dataset refuses
 * the run up front instead of after the images before it were evaluated and written.
 */
import { access, constants } from 'node:fs/promises';
import sharp from 'sharp';
import { BacklightError } from '../../errors.js';
import type { DatasetEntry } from '../../eval/datasets.js';
import { fsReason } from '../../io/files.js';

/** Throws one line naming the first entry whose image cannot be read or decoded. */
export async function checkImagesReadable(entries: readonly DatasetEntry[]): Promise<void> {
  for (const e of entries) {
    try {
      await access(e.path, constants.R_OK);
    } catch (err) {
      throw new BacklightError(`cannot read image '${e.path}' (entry ${e.index} of the annotations): ${fsReason(err)}`);
    }
    try {
      const m = await sharp(e.path).metadata();
      if (!(m.width && m.height)) throw new Error('no image size in the header');
    } catch (err) {
      throw new BacklightError(`cannot decode image '${e.path}' (entry ${e.index} of the annotations): ${(err as Error).message}`);
    }
  }
}
