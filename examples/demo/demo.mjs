#!/usr/bin/env node
// `npm run demo` (or `node examples/demo/demo.mjs`): the seed scenario, run and explained.
// `npm run demo -- --keep` leaves everything running for exploring with curl.
import { printExploreHints, runWalkthrough, startDemo } from './walkthrough.mjs';

const keep = process.argv.includes('--keep');
const print = (line) => process.stdout.write(`${line}\n`);

const demo = await startDemo({ print });
let failed = true;
try {
  const steps = await runWalkthrough(demo, { print });
  failed = steps.some((step) => !step.ok);
  print('');
  print(
    failed
      ? `✘ ${steps
          .filter((step) => !step.ok)
          .map((step) => step.id)
          .join(', ')} did not go as expected`
      : `✔ all ${steps.length} steps went as expected`,
  );
} finally {
  if (!keep) await demo.stop();
}
if (keep) {
  printExploreHints(demo, print);
  const shutdown = () => demo.stop().then(() => process.exit(failed ? 1 : 0));
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
} else {
  process.exitCode = failed ? 1 : 0;
}
