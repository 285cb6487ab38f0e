import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createProcessRegistry } from '../../common/metrics-server';
import { PROCESSES } from '../../common/processes';

/**
 * The Grafana dashboard (deploy/grafana) cannot drift from our metrics: every metric its queries
 * name is registered somewhere in our code (prom-client constructors, read from the sources) or
 * is one of the default process metrics every registry of ours collects; and Prometheus
 * (deploy/prometheus/prometheus.yml) scrapes every process of common/processes.ts on its port.
 * Pure file checks: no Grafana or Prometheus runs here.
 */
const repo = join(__dirname, '..', '..');
const read = (file: string) => readFileSync(join(repo, file), 'utf8');

function sourceFiles(dir: string): string[] {
  return readdirSync(join(repo, dir)).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(join(repo, path)).isDirectory()) return sourceFiles(path);
    return path.endsWith('.ts') && !path.endsWith('.test.ts') ? [path] : [];
  });
}

/** Metric names registered in our code: `name: '…'` of a prom-client metric, or the name a Gauge-making helper is called with. */
function registeredMetricNames(): Set<string> {
  const names = new Set<string>();
  for (const file of ['api', 'common', 'workers', 'services', 'activities'].flatMap(sourceFiles)) {
    const text = read(file);
    if (!text.includes("from 'prom-client'")) continue;
    for (const m of text.matchAll(/(?:\bname:\s*|Gauge\()'([a-zA-Z_:][a-zA-Z0-9_:]*)'/g)) names.add(m[1]!);
  }
  return names;
}

async function defaultMetricNames(): Promise<Set<string>> {
  const registry = createProcessRegistry('dashboard-test');
  return new Set((await registry.getMetricsAsJSON()).map((m) => m.name));
}

const PROMQL_WORDS = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'rate', 'irate', 'increase', 'delta', 'deriv', 'histogram_quantile', 'topk', 'bottomk',
  'abs', 'clamp_min', 'clamp_max', 'by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'and', 'or', 'unless', 'offset', 'bool', 'time', 'vector', 'scalar',
]);

/** The metric names a PromQL expression reads: identifiers outside label matchers, ranges, groupings and strings, that are not PromQL's own words. */
function metricsIn(expr: string): string[] {
  const bare = expr.replace(/"(?:[^"\\]|\\.)*"/g, '').replace(/\{[^}]*\}/g, '').replace(/\[[^\]]*\]/g, '').replace(/\b(?:by|without|on|ignoring)\s*\([^)]*\)/g, '');
  return [...bare.matchAll(/[a-zA-Z_:][a-zA-Z0-9_:]*/g)].map((m) => m[0]).filter((w) => !PROMQL_WORDS.has(w));
}

interface Panel { type: string; targets?: { expr: string }[]; panels?: Panel[]; datasource?: { uid: string } }
const dashboard = JSON.parse(read('deploy/grafana/dashboards/order-orchestrator.json')) as { uid: string; panels: Panel[] };
const allPanels = (panels: Panel[]): Panel[] => panels.flatMap((p) => [p, ...allPanels(p.panels ?? [])]);
const expressions = allPanels(dashboard.panels).flatMap((p) => (p.targets ?? []).map((t) => t.expr));

describe('the Grafana dashboard', () => {
  it('reads metric names from PromQL (the check below is not vacuous)', () => {
    expect(metricsIn('histogram_quantile(0.95, sum by (le, route) (rate(http_request_duration_seconds_bucket{status="500"}[5m])))'))
      .toEqual(['http_request_duration_seconds_bucket']);
    expect(metricsIn('sum(rate(no_such_metric_total[5m])) * 60 / max(other_gauge)')).toEqual(['no_such_metric_total', 'other_gauge']);
  });

  it('queries only metrics our code defines', async () => {
    const known = new Set([...registeredMetricNames(), ...(await defaultMetricNames())]);
    const isKnown = (name: string) => known.has(name) || known.has(name.replace(/_(bucket|sum|count)$/, ''));
    const queried = [...new Set(expressions.flatMap(metricsIn))].sort();
    expect(expressions.length).toBeGreaterThanOrEqual(15);
    expect(queried.length).toBeGreaterThanOrEqual(12);
    expect(queried.filter((name) => !isKnown(name))).toEqual([]);
    // Each of our own metric families appears on the dashboard.
    for (const family of ['http_request_duration_seconds', 'orders_started_total', 'outbox_backlog_events', 'consumer_pending_messages', 'dead_letter_messages']) {
      expect(queried.some((name) => name.startsWith(family))).toBe(true);
    }
  });

  it('uses the provisioned Prometheus data source, and the provisioning loads the folder compose mounts', () => {
    const uids = new Set(allPanels(dashboard.panels).filter((p) => p.type !== 'row').map((p) => p.datasource?.uid));
    expect([...uids]).toEqual(['prometheus']);
    expect(read('deploy/grafana/provisioning/datasources/prometheus.yml')).toMatch(/uid: prometheus\n[\s\S]*url: http:\/\/prometheus:9090/);
    expect(read('deploy/grafana/provisioning/dashboards/dashboards.yml')).toContain('path: /var/lib/grafana/dashboards');
    expect(read('docker-compose.yml')).toContain('./deploy/grafana/dashboards:/var/lib/grafana/dashboards:ro');
  });
});

describe('the Prometheus configuration', () => {
  const config = read('deploy/prometheus/prometheus.yml');
  it('scrapes every process of common/processes.ts on its metrics port; the API with an operator key from a file', () => {
    for (const spec of PROCESSES) {
      const port = 'metricsPort' in spec ? spec.metricsPort : spec.httpPort.default;
      if (spec.name === 'inventory' || spec.name === 'payment') continue; // the peers are other teams' services
      expect(config).toMatch(new RegExp(`- job_name: ${spec.name}\\n(?:\\s+.*\\n)*?\\s+- targets: \\["${spec.name}:${port}"\\]`));
    }
    expect(config).toMatch(/- job_name: api\n\s+metrics_path: \/metrics\n\s+authorization:\n\s+type: Bearer\n\s+credentials_file: \/etc\/prometheus\/secrets\/api-key/);
  });
});
