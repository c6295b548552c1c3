/**
 * `loadImage` for Node: a file path, bytes, or a URL (file:, http:, https:) → 8-bit RGBA at the
 * image's own size, decoded by sharp as the command line decodes (image.ts). The browser's
 * `loadImage` (loadImageWeb.ts) returns the same shape, and `preprocess` takes either.
 *
 * ```ts
 * import { loadImage, preprocess } from 'backlight';
 * const image = await loadImage('cat.jpg');   // or bytes, new URL('https://…/cat.jpg'), 'https://…'
 * image.width, image.height;                  // the photo's size (after EXIF orientation)
 * const { tensor, plan } = preprocess(image, 'imagenet');
 * ```
 */
import { fileURLToPath } from 'node:url';
import { BacklightError } from '../errors.js';
import type { DecodedFile } from './image.js';
import { importPeer } from './peers.js';

// sharp is loaded on first use, so `import 'backlight'` works where it is not installed; when it
// is missing, one line says how to install it (peers.ts).
const sharpDecoding = (): Promise<typeof import('./image.js')> => importPeer(() => import('./image.js'));

/** What Node's `loadImage` reads: a path, an http(s) URL string, a URL object, or the file's bytes. */
export type ImageInput = string | URL | Uint8Array | ArrayBuffer;

/**
 * Loads and decodes an image (PNG, JPEG, WebP, GIF, TIFF, AVIF…): EXIF orientation applied, 8-bit
 * RGBA, not resized. `name` names byte inputs in messages. Throws a one-line BacklightError naming
 * the file or URL.
 */
export async function loadImage(input: ImageInput, name?: string): Promise<DecodedFile> {
  const { decodeRGBA, readImageFile } = await sharpDecoding();
  if (input instanceof Uint8Array) return decodeRGBA(input, name ?? 'image');
  if (input instanceof ArrayBuffer) return decodeRGBA(new Uint8Array(input), name ?? 'image');
  if (typeof input === 'string' && /^https?:\/\//i.test(input)) return loadImage(new URL(input), name);
  if (typeof input === 'string') return decodeRGBA(await readImageFile(input), name ?? input);
  if (input instanceof URL) {
    if (input.protocol === 'file:') {
      const path = fileURLToPath(input);
      return decodeRGBA(await readImageFile(path), name ?? path);
    }
    if (input.protocol === 'http:' || input.protocol === 'https:') return decodeRGBA(await fetchBytes(input), name ?? input.href);
    throw new BacklightError(`cannot load image '${input.href}': only file:, http: and https: URLs are read`, 'usage');
  }
  throw new BacklightError(`loadImage: expected a path, a URL or bytes (Uint8Array), got ${input === null ? 'null' : typeof input}`, 'usage');
}

async function fetchBytes(url: URL): Promise<Uint8Array> {
  let response: Response;
  try {
    response = await fetch(url);
  } catch (e) {
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    throw new BacklightError(`cannot fetch image '${url.href}': ${cause?.code ?? cause?.message ?? (e as Error).message}`);
  }
  if (!response.ok) throw new BacklightError(`cannot fetch image '${url.href}': HTTP ${response.status}${response.statusText ? ` ${response.statusText}` : ''}`);
  return new Uint8Array(await response.arrayBuffer());
}
