#!/usr/bin/env node
/**
 * The `backlight` bin entry. The command line imports onnxruntime-node and sharp statically; both
 * are optional peer dependencies (docs/design/packaging.md), so this entry loads them first and,
 * when one is missing, prints one line naming it and the install command (exit 1) instead of
 * Node's module-resolution stack. Then it runs main.ts.
 */
import { escapeControl } from '../errors.js';
import { peerFailure } from '../io/peers.js';

try {
  await import('onnxruntime-node');
  await import('sharp');
} catch (e) {
  const line = peerFailure(e);
  if (!line) throw e;
  process.stderr.write(`backlight: ${escapeControl(line)}\n`);
  process.exit(1);
}
await import('./main.js');
