/**
 * Lets the event loop turn between long synchronous phases (import, canonicalization, compilation,
 * serialization, session creation), so that signal handlers (SIGINT/SIGTERM), timers and progress
 * output run between them instead of after the whole compile. Works in Node and in browsers.
 */
export function yieldToEventLoop(): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, 0));
}
