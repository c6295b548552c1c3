#!/usr/bin/env node
/** The `backlight` bin entry: runs the command line and sets the process exit code. */
import { installSignalCleanup } from './output.js';
import { run } from './program.js';

installSignalCleanup();
process.exitCode = await run(process.argv.slice(2));
