#!/usr/bin/env -S node --max-semi-space-size=4
// Runs the compiled CLI (npm ci builds it through the root `prepare` script).
//
// --max-semi-space-size=4: a token server allocates small, short-lived objects; a 4 MiB young
// generation collects them just as cheaply as Node's 16 MiB default and keeps the resident size
// under load ~15 MiB lower (docs/benchmarks.md). `npm start` passes the same flag.
import { main } from '../dist/cli/main.js';

await main();
