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
  return message.replace(/\s*\n\s*/g, ' ').trim();
}
