/**
 * docker-compose.yml cannot be run here (no Docker engine), so check what can go wrong without one:
 * it parses, every file it mounts exists, and the PDP configuration it mounts passes the PDP's own
 * config validation (a bad one would stop every replica at start).
 */
import * as fs from 'fs';
import * as path from 'path';
import YAML from 'yaml';
import { loadConfig } from '../../src/server/config';

const root = path.join(__dirname, '..', '..');

describe('docker-compose.yml', () => {
  const compose = YAML.parse(fs.readFileSync(path.join(root, 'docker-compose.yml'), 'utf8'));

  it('defines the PDP replicas, a load balancer, a bundle server and Prometheus', () => {
    expect(Object.keys(compose.services).sort()).toEqual(['bundles', 'lb', 'pdp', 'prometheus']);
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
});
