#!/usr/bin/env node
/** The `backlight` bin entry: runs the command line and sets the process exit code. */
import { installSignalCleanup } from './outputDir.js';
import { run } from './program.js';

// `backlight … | head` closes stdout early: stop quietly instead of crashing on EPIPE.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
    throw e;
  });
}
installSignalCleanup();
process.exitCode = await run(process.argv.slice(2));
