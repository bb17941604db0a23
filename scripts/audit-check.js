#!/usr/bin/env node
// Fails on any advisory for a production dependency that is not in .ci/audit-allowlist.json.
//
//   node scripts/audit-check.js                 # runs `npm audit --omit=dev --json`
//   node scripts/audit-check.js --report r.json # checks a saved report instead
//
// An allowlist entry names the advisory (its GHSA id or URL), the package, why it is accepted
// (e.g. the vulnerable function is never called) and a date after which it must be looked at
// again; an expired entry no longer allows anything.
//
// An audit that cannot run is not a pass, and says so loudly. It fails the build only with
// M2M_AUTH_REQUIRE_AUDIT=1: a CI whose registry (a mirror or proxy that answers GET only, as
// here) does not offer npm's advisory endpoint would otherwise never be green.
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const ALLOWLIST = fileURLToPath(new URL('../.ci/audit-allowlist.json', import.meta.url));

/** The advisories of an `npm audit --json` report (npm 7+), one entry per advisory and package. */
export function advisoriesOf(report) {
  const found = [];
  for (const [name, vulnerability] of Object.entries(report.vulnerabilities ?? {})) {
    for (const via of vulnerability.via ?? []) {
      if (typeof via !== 'object') continue; // a string names the dependency it comes through
      const id = /GHSA-[\w-]+/.exec(via.url ?? '')?.[0] ?? String(via.source);
      found.push({ id, package: name, title: via.title, severity: via.severity, url: via.url });
    }
  }
  return found;
}

export function notAllowed(advisories, allowlist, today = new Date().toISOString().slice(0, 10)) {
  const live = allowlist.filter((entry) => !entry.until || entry.until >= today);
  return advisories.filter((advisory) => !live.some((entry) => entry.id === advisory.id && (!entry.package || entry.package === advisory.package)));
}

async function npmAudit() {
  return new Promise((resolve) => {
    execFile('npm', ['audit', '--omit=dev', '--json'], { maxBuffer: 64 * 2 ** 20 }, (_error, stdout) => resolve(stdout));
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const reportIndex = process.argv.indexOf('--report');
  const text = reportIndex > 0 ? readFileSync(process.argv[reportIndex + 1], 'utf8') : await npmAudit();
  let report;
  try {
    report = JSON.parse(text);
  } catch {
    report = undefined;
  }
  if (!report || report.error || report.statusCode) {
    const reason = report?.message ?? report?.error?.summary ?? text.slice(0, 300);
    if (process.env.M2M_AUTH_REQUIRE_AUDIT === '1') {
      console.error(`npm audit did not run: ${reason}`);
      process.exit(2);
    }
    console.error(
      `WARNING: npm audit did not run, so no advisory was checked: ${reason}\n(set M2M_AUTH_REQUIRE_AUDIT=1 where the registry offers the audit endpoint, to make this fail)`,
    );
    process.exit(0);
  }
  const allowlist = JSON.parse(readFileSync(ALLOWLIST, 'utf8')).advisories;
  const advisories = advisoriesOf(report);
  const blocking = notAllowed(advisories, allowlist);
  for (const advisory of blocking) console.error(`${advisory.severity} ${advisory.id} in ${advisory.package}: ${advisory.title} (${advisory.url})`);
  console.log(`npm audit --omit=dev: ${advisories.length} advisories, ${advisories.length - blocking.length} allowed, ${blocking.length} blocking`);
  if (blocking.length > 0) process.exit(1);
}
