import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { createTestApp, type TestApp } from '../helpers/test-app.js';
import { createResilientState } from '../../src/state/resilient-state.js';
import { createMemoryState } from '../../src/state/memory/memory-state.js';

/**
 * The Grafana dashboard (deploy/grafana) and the Prometheus alerts (deploy/prometheus) are only
 * as good as the metric names they query: each name must be one the server serves at /metrics,
 * read here from a real app's scrape. Where promtool is installed (always in CI: .ci/run installs
 * Debian's prometheus package) it checks the rules, runs their unit tests, and parses every
 * dashboard query as PromQL.
 */
const root = fileURLToPath(new URL('../../../../', import.meta.url));
const deploy = (path: string) => join(root, 'deploy', path);
const RULES = deploy('prometheus/m2m-auth-alerts.yml');
const RULE_TESTS = deploy('prometheus/m2m-auth-alerts.test.yml');
const DASHBOARD = deploy('grafana/m2m-auth-dashboard.json');

/**
 * Metrics served by work in flight, named here so the alerts and the dashboard can use them
 * before they land: the usage and quota work serves `m2m_auth_quota_used_ratio` (a client's
 * share, 0–1, of its token quota used in the current window). Remove a name once it is served.
 */
const PENDING_METRICS = new Set<string>();

/** promtool present; where it is not, its checks are skipped — unless CI requires it (M2M_AUTH_REQUIRE_TOOLCHAINS=1). */
function hasPromtool(): boolean {
  const found = spawnSync('promtool', ['--version']).status === 0;
  if (!found && process.env.M2M_AUTH_REQUIRE_TOOLCHAINS === '1')
    throw new Error('promtool is needed to check deploy/prometheus (M2M_AUTH_REQUIRE_TOOLCHAINS=1: CI must install the prometheus package)');
  return found;
}
const isPromtoolPresent = hasPromtool();
const promtool = (args: string[], cwd?: string) => spawnSync('promtool', args, { encoding: 'utf8', timeout: 60_000, ...(cwd ? { cwd } : {}) });

interface Target {
  expr: string;
  refId: string;
  legendFormat?: string;
}
interface Panel {
  id: number;
  type: string;
  title: string;
  gridPos: { h: number; w: number; x: number; y: number };
  datasource?: { type: string; uid: string };
  targets?: Target[];
}
interface Dashboard {
  uid: string;
  title: string;
  schemaVersion: number;
  panels: Panel[];
  templating: { list: { name: string; type: string; query: string | { query: string } }[] };
}

const dashboard = JSON.parse(readFileSync(DASHBOARD, 'utf8')) as Dashboard;
const rules = parse(readFileSync(RULES, 'utf8')) as { groups: { name: string; rules: { alert: string; expr: string; for?: string; labels: Record<string, string> }[] }[] };
const alertRules = rules.groups.flatMap((group) => group.rules);
const dashboardQueries = [
  ...dashboard.panels.flatMap((panel) => (panel.targets ?? []).map((target) => target.expr)),
  ...dashboard.templating.list.map((variable) => (typeof variable.query === 'string' ? variable.query : variable.query.query)),
];
/** A query as Prometheus would get it from Grafana: its variables filled in. */
const asPromql = (query: string) => query.replaceAll('$__rate_interval', '5m').replaceAll('$job', '.*');
const metricNamesIn = (query: string) => [...query.matchAll(/\bm2m_auth_[a-zA-Z0-9_]+\b/g)].map((match) => match[0]);

/** Every sample name a scrape can hold: each metric's TYPE line, with a histogram's or a summary's own series. */
function servedNames(exposition: string): Set<string> {
  const names = new Set<string>();
  for (const [, name, type] of exposition.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
    names.add(name!);
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(`${name}${suffix}`);
    if (type === 'summary') for (const suffix of ['_sum', '_count']) names.add(`${name}${suffix}`);
  }
  return names;
}

describe('what the dashboard and the alerts query is what the server serves', () => {
  let t: TestApp;
  let served: Set<string>;
  beforeAll(async () => {
    // A shared state that reports its health, as with Redis, so its metrics are served too.
    const now = () => Date.now();
    t = await createTestApp({
      runtime: { state: createResilientState({ shared: Object.assign(createMemoryState({ now }), { ping: async () => undefined }), local: createMemoryState({ now }) }) },
    });
    served = servedNames((await t.app.inject({ method: 'GET', url: '/metrics' })).body);
  });
  afterAll(() => t?.close());

  it('reads the server’s metric names from its scrape', () => {
    expect(served).toContain('m2m_auth_tokens_issued_total');
    expect(served).toContain('m2m_auth_shared_state_available');
    expect(served).toContain('m2m_auth_http_request_duration_seconds_bucket');
  });

  it('every metric a dashboard panel or variable queries is served', () => {
    const queried = new Set(dashboardQueries.flatMap(metricNamesIn));
    expect(queried.size).toBeGreaterThan(15);
    expect([...queried].filter((name) => !served.has(name) && !PENDING_METRICS.has(name))).toEqual([]);
  });

  it('every metric an alert rule queries is served', () => {
    const queried = new Set(alertRules.flatMap((rule) => metricNamesIn(rule.expr)));
    expect([...queried].filter((name) => !served.has(name) && !PENDING_METRICS.has(name))).toEqual([]);
  });

  it('names only pending metrics that are still pending', () => {
    expect([...PENDING_METRICS].filter((name) => served.has(name))).toEqual([]);
  });
});

describe('deploy/prometheus/m2m-auth-alerts.yml', () => {
  it('alerts on key age, failure ratio, shared state, database errors, quota use and 5xx, each with a severity', () => {
    expect(alertRules.map((rule) => rule.alert)).toEqual([
      'M2MAuthSigningKeyNotRotated',
      'M2MAuthTokenFailureRatioHigh',
      'M2MAuthSharedStateUnavailable',
      'M2MAuthDatabaseErrors',
      'M2MAuthQuotaNearlyUsed',
      'M2MAuthServerErrors',
    ]);
    for (const rule of alertRules) expect(['warning', 'critical'], rule.alert).toContain(rule.labels.severity);
  });

  it.skipIf(!isPromtoolPresent)('passes promtool check rules', () => {
    const result = promtool(['check', 'rules', RULES]);
    expect(result.status, result.stdout + result.stderr).toBe(0);
  });

  it.skipIf(!isPromtoolPresent)('passes its unit tests (promtool test rules): each alert fires when it should and not before', () => {
    const result = promtool(['test', 'rules', RULE_TESTS], deploy('prometheus'));
    expect(result.status, result.stdout + result.stderr).toBe(0);
    const tested = new Set([...readFileSync(RULE_TESTS, 'utf8').matchAll(/alertname: (\S+)/g)].map((match) => match[1]));
    expect([...tested].sort()).toEqual(alertRules.map((rule) => rule.alert).sort());
  });
});

describe('deploy/grafana/m2m-auth-dashboard.json', () => {
  it('is a dashboard Grafana imports: a uid, a Prometheus data-source variable, panels with unique ids inside the 24-column grid', () => {
    expect(dashboard).toMatchObject({ uid: 'm2m-auth', title: 'm2m-auth' });
    expect(dashboard.schemaVersion).toBeGreaterThanOrEqual(36);
    expect(dashboard.templating.list).toContainEqual(expect.objectContaining({ name: 'datasource', type: 'datasource', query: 'prometheus' }));
    const ids = dashboard.panels.map((panel) => panel.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const panel of dashboard.panels) {
      expect(panel.gridPos.x + panel.gridPos.w, panel.title).toBeLessThanOrEqual(24);
      if (panel.type === 'row') continue;
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: '${datasource}' });
      expect(panel.targets?.length, panel.title).toBeGreaterThan(0);
      for (const target of panel.targets!) expect(target.refId, panel.title).toMatch(/^[A-Z]$/);
    }
  });

  it.skipIf(!isPromtoolPresent)('every query parses as PromQL (promtool checks them as recording rules)', () => {
    const directory = mkdtempSync(join(tmpdir(), 'm2m-auth-dashboard-'));
    try {
      const file = join(directory, 'queries.yml');
      const recorded = dashboardQueries
        .filter((query) => !query.startsWith('label_values('))
        .map((query, index) => ({ record: `dashboard:query_${index}`, expr: asPromql(query) }));
      writeFileSync(file, JSON.stringify({ groups: [{ name: 'dashboard', rules: recorded }] }));
      const result = promtool(['check', 'rules', file]);
      expect(result.status, result.stdout + result.stderr).toBe(0);
      expect(result.stdout).toContain(`${recorded.length} rules found`);
    } finally {
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
