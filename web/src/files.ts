/** Reading dropped and picked files in the page. */

/** The bytes of a file or blob, reporting the fraction read (a large model takes a while). */
export async function readWithProgress(blob: Blob, onProgress: (fraction: number) => void): Promise<ArrayBuffer> {
  const total = blob.size;
  const out = new Uint8Array(total);
  const reader = blob.stream().getReader();
  let offset = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    out.set(value, offset);
    offset += value.length;
    onProgress(total > 0 ? offset / total : 1);
  }
  return out.buffer;
}

/** A URL's body as a blob, reporting the fraction downloaded when the size is known. */
export async function fetchWithProgress(url: string, onProgress: (fraction: number) => void): Promise<Blob> {
  const res = await fetch(url);
  if (!res.ok || !res.body) throw new Error(`cannot fetch ${url}: HTTP ${res.status}`);
  const total = Number(res.headers.get('content-length') ?? 0);
  const reader = res.body.getReader();
  const parts: Uint8Array<ArrayBuffer>[] = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    received += value.length;
    if (total > 0) onProgress(Math.min(1, received / total));
  }
  onProgress(1);
  return new Blob(parts);
}

export type FileKind = 'model' | 'npy' | 'image';

/**
 * What a file is meant to be, from its name: a model (.onnx), a preprocessed input (.npy), or
 * else an image. The content decides in the end: a file that is not what its name says is
 * refused by the model decoder, the .npy reader or the image decoder with their own messages.
 */
export function kindOf(name: string): FileKind {
  const n = name.toLowerCase();
  if (n.endsWith('.onnx')) return 'model';
  if (n.endsWith('.npy')) return 'npy';
  return 'image';
}
