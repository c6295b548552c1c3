/** Locations of the shared fixtures (../shared beside the repo); tests that need them skip without. */
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SHARED = path.resolve(REPO, '..', 'shared');
export const HAS_SHARED = existsSync(path.join(SHARED, 'models'));
export const shared = (...parts: string[]): string => path.join(SHARED, ...parts);
