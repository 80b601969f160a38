#!/usr/bin/env node
import { text } from 'node:stream/consumers';
import { runCli } from './run-cli.js';

// The entry point (package.json "bin"): the real process's streams and environment, handed in.
const exitCode = await runCli(process.argv.slice(2), {
  env: process.env,
  stdout: process.stdout,
  stderr: process.stderr,
  readStdin: () => text(process.stdin),
});
// On success the process ends by itself (and `serve` keeps running on its server); a failure
// exits at once, so that a gateway that failed to start does not linger on what it opened.
if (exitCode === 0) process.exitCode = 0;
else process.exit(exitCode);
