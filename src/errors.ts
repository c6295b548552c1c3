/**
 * Errors a user can act on: bad files, unsupported models, wrong options. The CLI prints their
 * message on one line without a stack trace; anything else is a bug and keeps its stack.
 */
export class BacklightError extends Error {
  override readonly name = 'BacklightError';
  constructor(
    message: string,
    /** 'usage' for wrong options or arguments (exit 2), 'input' for bad models or data (exit 1). */
    readonly kind: 'usage' | 'input' = 'input',
  ) {
    super(message);
  }
}

export class UnsupportedOpError extends BacklightError {
  constructor(
    readonly nodeName: string,
    readonly op: string,
    detail: string,
  ) {
    super(`node '${nodeName}' (${op}): ${detail}`);
  }
}

/** A message on one line: newlines and the white space around them become single spaces. */
export function oneLine(message: string): string {
  return escapeControl(message.replace(/\s*\n\s*/g, ' ').trim());
}

const SHORT: Record<string, string> = { '\n': '\\n', '\r': '\\r', '\t': '\\t' };

/**
 * Text drawn from models, files and labels, made safe for a terminal, an image caption or a log:
 * control characters (C0, DEL, C1) and the bidirectional overrides are shown as escapes (`\x1b`,
 * `\r`, `\n`, `\u202e`), so a name cannot move the cursor, clear the screen or reorder what is
 * shown. Printable Unicode is kept. `keep` lists control characters to pass through (e.g. '\n').
 */
export function escapeControl(text: string, keep = ''): string {
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, (c) => {
    if (keep.includes(c)) return c;
    const code = c.charCodeAt(0);
    return SHORT[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}
