import { describe, expect, it } from 'vitest';
import { fileURLToPath } from 'node:url';
import { cruise, type IViolation } from 'dependency-cruiser';
import extractDepcruiseOptions from 'dependency-cruiser/config-utl/extract-depcruise-options';
import extractTSConfig from 'dependency-cruiser/config-utl/extract-ts-config';

const root = fileURLToPath(new URL('../../../', import.meta.url));

/** A violation as one line a reader can act on: the rule, then the import chain. */
function describeViolation(violation: IViolation): string {
  const chain = violation.cycle?.map((step) => step.name) ?? [violation.to];
  return `${violation.rule.name}: ${[violation.from, ...chain].join(' → ')}`;
}

describe('the client import graph', () => {
  // The vocabulary (token-client-options.ts) sits below its users: a type imported back up from
  // token-client.ts or presets.ts made cycles that tools and readers had to untangle.
  it('breaks none of the repository boundary rules, no cycle included (type-only imports too)', async () => {
    const options = await extractDepcruiseOptions(`${root}.dependency-cruiser.cjs`);
    const tsConfig = extractTSConfig(`${root}tsconfig.test.json`);
    const result = await cruise(['packages/client/src'], { ...options, baseDir: root, tsConfig: { fileName: `${root}tsconfig.test.json` } }, undefined, {
      tsConfig,
    });
    const output = result.output;
    if (typeof output === 'string') throw new Error('expected a cruise result, got a report');
    expect(output.summary.totalCruised).toBeGreaterThan(10);
    expect(output.summary.violations.map(describeViolation)).toEqual([]);
  });
});
