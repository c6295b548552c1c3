/**
 * The Node-only packages Backlight runs on, onnxruntime-node (sessions) and sharp (image files),
 * are optional peer dependencies, so a browser app does not install them (docs/design/packaging.md).
 * They are imported on first use, and a missing one is reported in one line with the command
 * that installs both, instead of Node's ERR_MODULE_NOT_FOUND stack.
 */
import { BacklightError } from '../errors.js';

export type NodePeer = 'onnxruntime-node' | 'sharp';

export const PEER_INSTALL = 'npm install onnxruntime-node sharp';

/**
 * The one-line reason a Node peer failed to load, or undefined when `e` is another error. A
 * package that is absent (ERR_MODULE_NOT_FOUND naming it) says "is not installed"; sharp present
 * without its native binary for this platform says so with sharp's own first line.
 */
export function peerFailure(e: unknown): string | undefined {
  const err = e as { code?: string; message?: string } | null;
  const message = typeof err?.message === 'string' ? err.message : '';
  for (const peer of ['onnxruntime-node', 'sharp'] as const) {
    if ((err?.code === 'ERR_MODULE_NOT_FOUND' || err?.code === 'MODULE_NOT_FOUND') && message.includes(`'${peer}'`)) {
      return `${peer} is not installed: ${PEER_INSTALL}`;
    }
  }
  if (/Could not load the "sharp" module/.test(message)) {
    return `sharp cannot load its native module (${message.split('\n')[0]!.trim()}): reinstall it with ${PEER_INSTALL}`;
  }
  return undefined;
}

/** Imports a Node peer (`load` is `() => import('<peer>')`); throws a one-line BacklightError when it cannot. */
export async function importPeer<T>(load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    const line = peerFailure(e);
    if (line) throw new BacklightError(line);
    throw e;
  }
}
