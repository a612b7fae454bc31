/**
 * docker-compose.yml cannot be run here (no Docker engine), so check what can go wrong without one:
 * it parses, every file it mounts exists, and the PDP configuration it mounts passes the PDP's own
 * config validation (a bad one would stop every replica at start).
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { loadConfig } from '../../src/server/config';
import { spawn } from 'child_process';
import { openApiDocument } from '../../src/server/openapi';
import { startWith } from '../server/helpers';

const root = path.join(__dirname, '..', '..');

describe('docker-compose.yml', () => {
  const compose = YAML.parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));

  it('defines the PDP replicas, a load balancer, a bundle server, Prometheus and Grafana', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bundles', 'grafana', 'lb', 'pdp', 'prometheus']);
    expect(compose.services.pdp.build).toBe('.');
    expect(fs.existsSync(path.join(root, 'Dockerfile'))).toBe(true);
  });

  it('mounts only files that exist', () => {
    for (const [name, svc] of Object.entries<{ volumes?: string[] }>(compose.services)) {
      for (const v of svc.volumes ?? []) {
        const src = v.split(':')[0];
        if (!src.startsWith('./')) continue;
        const p = path.join(root, src);
        expect({ service: name, source: src, exists: fs.existsSync(p) }).toEqual({ service: name, source: src, exists: true });
      }
    }
  });

  it("mounts a PDP configuration that the PDP's validation accepts", () => {
    const cfg = loadConfig({ configFile: path.join(root, 'deploy', 'pdp.yaml') }, {});
    expect(cfg.server.addr).toBe('0.0.0.0');
    expect(cfg.bundles.map((b) => b.source)).toEqual(['http://bundles/bundles/mcp.tar.gz']);
  });

  it('gives every service a healthcheck; the LB waits for a ready PDP, the PDP for the bundle server', () => {
    for (const [name, svc] of Object.entries<{ healthcheck?: { test: string[] } }>(compose.services)) {
      expect({ service: name, healthcheck: Array.isArray(svc.healthcheck?.test) && svc.healthcheck!.test[0] === 'CMD' }).toEqual({ service: name, healthcheck: true });
    }
    expect(compose.services.pdp.healthcheck.test.join(' ')).toContain('/ready');
    expect(compose.services.lb.depends_on.pdp.condition).toBe('service_healthy');
    expect(compose.services.pdp.depends_on.bundles.condition).toBe('service_healthy');
    // the bundle server's check fetches the very file the replicas poll
    const cfg = loadConfig({ configFile: path.join(root, 'deploy', 'pdp.yaml') }, {});
    expect(compose.services.bundles.healthcheck.test.join(' ')).toContain(new URL(cfg.bundles[0].source).pathname);
  });

  it('provisions Grafana with the compose Prometheus and the PDP dashboard', () => {
    const ds = YAML.parse(fs.readFileSync(path.join(root, 'deploy', 'grafana', 'provisioning', 'datasources', 'prometheus.yml'), 'utf8'));
    expect(ds.datasources[0]).toMatchObject({ type: 'prometheus', url: 'http://prometheus:9090', isDefault: true });
    const dashboards = YAML.parse(fs.readFileSync(path.join(root, 'deploy', 'grafana', 'provisioning', 'dashboards', 'pdp.yml'), 'utf8'));
    const mounted = (compose.services.grafana.volumes as string[]).map((v) => v.split(':')[1]);
    expect(mounted.some((m) => m.startsWith(dashboards.providers[0].options.path + '/'))).toBe(true);
  });

  it('the LB re-resolves the replicas: Docker DNS with a validity, and a proxy_pass through a variable', () => {
    const conf = fs.readFileSync(path.join(root, 'deploy', 'nginx-lb.conf'), 'utf8').replace(/#.*$/gm, '');
    expect(conf).toMatch(/^\s*resolver\s+127\.0\.0\.11\b[^;]*\bvalid=\d+s/m);
    const set = /set\s+\$(\w+)\s+http:\/\/pdp:8181;/.exec(conf);
    expect(set).not.toBeNull();
    expect(conf).toMatch(new RegExp(`proxy_pass\\s+\\$${set![1]};`));
    // a static upstream block would be resolved once, at start
    expect(conf).not.toMatch(/upstream\s+\w+\s*\{/);
  });
});

describe('Dockerfile', () => {
  const lines = fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8').split('\n');
  const instr = (name: string) => lines.filter((l) => l.startsWith(name + ' '));

  it('runs as a numeric non-root user (Kubernetes runAsNonRoot can verify it) with a writable persistence directory', () => {
    const user = instr('USER');
    expect(user).toHaveLength(1);
    const uid = /^USER (\d+)(:\d+)?$/.exec(user[0]);
    expect(uid).not.toBeNull();
    expect(Number(uid![1])).toBeGreaterThan(0);
    // USER comes after the last RUN (which needs root) and before CMD
    const idx = (re: RegExp) => lines.findIndex((l) => re.test(l));
    const lastRun = lines.map((l, i) => (l.startsWith('RUN ') ? i : -1)).filter((i) => i >= 0).pop()!;
    expect(idx(/^USER /)).toBeGreaterThan(lastRun);
    expect(idx(/^USER /)).toBeLessThan(idx(/^CMD /));
    const cfg = loadConfig({ configFile: path.join(root, 'deploy', 'pdp.yaml') }, {});
    const runs = lines.join('\n');
    expect(runs).toContain(`mkdir -p ${cfg.persistence_directory}`);
    expect(runs).toContain(`chown ${uid![1]}`);
  });

  it('has a HEALTHCHECK on a real PDP route', () => {
    const text = lines.join('\n');
    const hc = /HEALTHCHECK[\s\S]*?CMD ([^\n]*)/.exec(text);
    expect(hc).not.toBeNull();
    const route = /\/(health|ready)\b/.exec(hc![1]);
    expect(route).not.toBeNull();
    expect(Object.keys((openApiDocument() as { paths: object }).paths)).toContain(route![0]);
  });
});

/** The `node -e` script of a healthcheck command (Dockerfile shell form or compose exec form). */
function nodeScript(cmd: string | string[]): string {
  if (Array.isArray(cmd)) return cmd[cmd.indexOf('-e') + 1];
  const m = /node -e "([^"]*)"/.exec(cmd);
  if (!m) throw new Error(`not a node -e healthcheck: ${cmd}`);
  return m[1];
}

describe('the healthcheck commands, run against a live PDP', () => {
  const root = path.join(__dirname, '..', '..');
  const rego = path.join(root, 'rego');
  // asynchronously: the PDP under test answers from this very process
  const run = (script: string, port: number) =>
    new Promise<number | null>((resolve) => {
      const child = spawn(process.execPath, ['-e', script.replace(/8181/g, String(port))], { env: { ...process.env, PDP_PORT: String(port) }, stdio: 'ignore', timeout: 10_000 });
      child.on('exit', (code) => resolve(code));
    });

  it("the Dockerfile's succeeds on a live PDP and fails when nothing answers", async () => {
    const cmd = /HEALTHCHECK[\s\S]*?CMD ([^\n]*)/.exec(fs.readFileSync(path.join(root, 'Dockerfile'), 'utf8'))![1];
    const pdp = await startWith([rego]);
    const port = Number(new URL(pdp.url()).port);
    try {
      expect(await run(nodeScript(cmd), port)).toBe(0);
    } finally {
      await pdp.close();
    }
    expect(await run(nodeScript(cmd), port)).toBe(1);
  });

  it("compose's PDP check succeeds when ready and fails while no bundle is active", async () => {
    const compose = YAML.parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));
    const script = nodeScript(compose.services.pdp.healthcheck.test);
    const ready = await startWith([rego]);
    const unready = await startWith([]);
    try {
      expect(await run(script, Number(new URL(ready.url()).port))).toBe(0);
      expect(await run(script, Number(new URL(unready.url()).port))).toBe(1);
    } finally {
      await ready.close();
      await unready.close();
    }
  });
});
