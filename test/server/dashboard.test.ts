/**
 * deploy/grafana/pdp-dashboard.json asks only for metrics a real PDP exports (scraped from /metrics
 * after real decisions), and pdp_deny_reasons_total keeps its label values bounded.
 */
import * as fs from 'fs';
import * as path from 'path';
import { startWith, post } from './helpers';
import { fileTree } from '../helpers/file-tree';
import { BoundedLabel, DENY_REASON_CODES_MAX, OTHER_LABEL } from '../../src/server/deny-reasons';

const DASHBOARD = path.join(__dirname, '..', '..', 'deploy', 'grafana', 'pdp-dashboard.json');

// allow "ok"; deny anything else with one reason whose code comes from the input (unbounded on purpose)
const POLICY = `package mcp.authz

decision := {"allow": true, "reasons": [], "obligations": {}} if input.tool.name == "ok"

decision := {"allow": false, "reasons": [{"code": sprintf("code.%v", [input.parameters.n]), "message": "no"}], "obligations": {}} if input.tool.name != "ok"
`;

const PROMQL_WORDS = new Set(['by', 'without', 'on', 'ignoring', 'group_left', 'group_right', 'bool', 'offset', 'and', 'or', 'unless', 'le', 'inf', 'nan']);

/** The metric names a PromQL expression reads: identifiers that are not functions, labels or keywords. */
export function metricNames(expr: string): string[] {
  const stripped = expr
    .replace(/"(?:[^"\\]|\\.)*"/g, '""') // strings
    .replace(/\{[^}]*\}/g, '') // label matchers
    .replace(/\[[^\]]*\]/g, '') // ranges
    .replace(/\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)/g, '') // label lists
    .replace(/\$\w+/g, ''); // dashboard variables
  const names: string[] = [];
  const re = /[A-Za-z_:][A-Za-z0-9_:]*/g;
  for (let m = re.exec(stripped); m; m = re.exec(stripped)) {
    const after = stripped.slice(m.index + m[0].length).trimStart();
    if (after.startsWith('(')) continue; // a function
    if (PROMQL_WORDS.has(m[0].toLowerCase())) continue;
    names.push(m[0]);
  }
  return names;
}

/** Sample names in a scrape (histograms also as _bucket/_sum/_count), and their series. */
function scrapeSeries(text: string): { names: Set<string>; series: string[] } {
  const names = new Set<string>();
  const series: string[] = [];
  for (const line of text.split('\n')) {
    const t = /^# TYPE (\S+) (\S+)/.exec(line);
    if (t) {
      names.add(t[1]);
      if (t[2] === 'histogram' || t[2] === 'summary') for (const s of ['_bucket', '_sum', '_count']) names.add(t[1] + s);
    } else if (line && !line.startsWith('#')) {
      series.push(line);
      names.add(line.split(/[{ ]/)[0]);
    }
  }
  return { names, series };
}

describe('Grafana dashboard against a live /metrics', () => {
  let pdp: Awaited<ReturnType<typeof startWith>>;
  let metricsText: string;

  beforeAll(async () => {
    const dir = fileTree({ 'mcp/authz/policy.rego': POLICY }, 'pdp-dash-');
    pdp = await startWith([dir]);
    const base = pdp.url();
    expect((await post(base, '/v1/decide', { tool: { name: 'ok' } })).json.allow).toBe(true);
    // more distinct codes than the bound, then a repeat of a counted one and of an uncounted one
    for (let n = 0; n < DENY_REASON_CODES_MAX + 10; n++) {
      const r = await post(base, '/v1/decide', { tool: { name: 'x' }, parameters: { n } });
      expect(r.json.allow).toBe(false);
    }
    await post(base, '/v1/decide', { tool: { name: 'x' }, parameters: { n: 0 } });
    await post(base, '/v1/decide', { tool: { name: 'x' }, parameters: { n: DENY_REASON_CODES_MAX + 5 } });
    metricsText = await (await fetch(base + '/metrics')).text();
  });
  afterAll(async () => {
    await pdp.close();
  });

  test('every query of every panel names metrics the PDP exports', () => {
    const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
    const { names } = scrapeSeries(metricsText);
    const used = new Set<string>();
    for (const p of dash.panels) {
      expect(p.targets.length).toBeGreaterThan(0);
      for (const t of p.targets) {
        const ms = metricNames(t.expr);
        expect([p.title, ms.length > 0]).toEqual([p.title, true]);
        for (const m of ms) {
          used.add(m);
          expect([p.title, m, names.has(m)]).toEqual([p.title, m, true]);
        }
      }
    }
    // the panels the dashboard is for
    for (const m of ['pdp_decisions_total', 'http_request_duration_seconds_bucket', 'pdp_decision_eval_seconds_bucket', 'pdp_deny_reasons_total', 'pdp_bundle_active_revision', 'pdp_bundle_loads_total', 'pdp_decision_log_dropped_total']) {
      expect(used).toContain(m);
    }
  });

  test('the dashboard is well formed: unique panel ids, non-overlapping grid, every data source a declared variable', () => {
    const dash = JSON.parse(fs.readFileSync(DASHBOARD, 'utf8'));
    expect(typeof dash.uid).toBe('string');
    const vars = new Set(dash.templating.list.filter((v: any) => v.type === 'datasource').map((v: any) => '${' + v.name + '}'));
    const ids = dash.panels.map((p: any) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    const cells = new Set<string>();
    for (const p of dash.panels) {
      for (const ds of [p.datasource, ...p.targets.map((t: any) => t.datasource)]) expect([p.title, vars.has(ds.uid)]).toEqual([p.title, true]);
      const { x, y, w, h } = p.gridPos;
      expect(x + w).toBeLessThanOrEqual(24);
      for (let i = x; i < x + w; i++) for (let j = y; j < y + h; j++) {
        expect([p.title, cells.has(`${i},${j}`)]).toEqual([p.title, false]);
        cells.add(`${i},${j}`);
      }
    }
  });

  test('the metric-name extraction sees through functions, matchers, ranges and by-clauses', () => {
    expect(metricNames('histogram_quantile(0.99, sum by (le) (rate(http_request_duration_seconds_bucket{handler=~"v1/decide.*"}[$__rate_interval])))')).toEqual(['http_request_duration_seconds_bucket']);
    expect(metricNames('topk(10, sum by (code) (rate(pdp_deny_reasons_total[5m]))) / on() group_left sum(up)')).toEqual(['pdp_deny_reasons_total', 'up']);
    // a misspelt metric is caught by the test above: it is not in the scrape
    expect(scrapeSeries(metricsText).names.has('pdp_decisions_totl')).toBe(false);
  });

  test('pdp_deny_reasons_total: at most DENY_REASON_CODES_MAX codes, the rest counted as other', () => {
    const deny = scrapeSeries(metricsText).series.filter((s) => s.startsWith('pdp_deny_reasons_total{'));
    const byCode = new Map(deny.map((s) => [/code="([^"]*)"/.exec(s)![1], Number(s.split(' ').pop())]));
    expect(byCode.size).toBe(DENY_REASON_CODES_MAX + 1);
    expect(byCode.get('code.0')).toBe(2);
    expect(byCode.get(`code.${DENY_REASON_CODES_MAX - 1}`)).toBe(1);
    expect(byCode.has(`code.${DENY_REASON_CODES_MAX}`)).toBe(false);
    expect(byCode.get(OTHER_LABEL)).toBe(11);
    const total = [...byCode.values()].reduce((a, b) => a + b, 0);
    expect(total).toBe(DENY_REASON_CODES_MAX + 12);
    // allows are not reasons to deny
    expect(metricsText).toMatch(/pdp_decisions_total\{result="allow"[^}]*\} 1/);
  });

  test('BoundedLabel: first come keeps its label; a policy code named "other" cannot take a slot', () => {
    const b = new BoundedLabel(2);
    expect(['a', OTHER_LABEL, 'b', 'c', 'a', 'x'.repeat(300)].map((v) => b.value(v))).toEqual(['a', OTHER_LABEL, 'b', OTHER_LABEL, 'a', OTHER_LABEL]);
  });
});
