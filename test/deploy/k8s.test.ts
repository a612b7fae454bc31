/**
 * deploy/k8s/ cannot be applied here (no cluster, no kubectl), so it is checked the way a cluster
 * would refuse or misrun it: hand-written schemas (ajv) of the fields that matter for each kind, and
 * the links between the objects (selectors match pod labels, ports and probes name real container
 * ports and real PDP routes, the HPA targets the Deployment and has a CPU request to measure, the
 * mounted configuration passes the PDP's own validation). This is not the full Kubernetes OpenAPI
 * schema: unknown fields are not rejected.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import YAML from 'yaml';
import Ajv from 'ajv';
import { loadConfig } from '../../src/server/config';
import { openApiDocument } from '../../src/server/openapi';

const dir = path.join(__dirname, '..', '..', 'deploy', 'k8s');
type Obj = Record<string, any>;

const labels = { type: 'object', additionalProperties: { type: 'string' }, minProperties: 1 };
const meta = { type: 'object', required: ['name'], properties: { name: { type: 'string', pattern: '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$' }, labels } };
const quantity = { type: 'string', pattern: '^[0-9]+(\\.[0-9]+)?(m|Ki|Mi|Gi)?$' };
const probe = {
  type: 'object',
  oneOf: [
    { required: ['httpGet'], properties: { httpGet: { type: 'object', required: ['path', 'port'], properties: { path: { type: 'string', pattern: '^/' }, port: { type: ['string', 'integer'] } } } } },
    { required: ['tcpSocket'], properties: { tcpSocket: { type: 'object', required: ['port'] } } },
  ],
};
const container = {
  type: 'object',
  required: ['name', 'image', 'ports', 'readinessProbe', 'livenessProbe', 'resources', 'securityContext'],
  properties: {
    name: { type: 'string' },
    image: { type: 'string', pattern: ':[^:]+$', not: { pattern: ':latest$' } },
    ports: { type: 'array', minItems: 1, items: { type: 'object', required: ['name', 'containerPort'], properties: { name: { type: 'string', maxLength: 15 }, containerPort: { type: 'integer', minimum: 1, maximum: 65535 } } } },
    readinessProbe: probe,
    livenessProbe: probe,
    resources: {
      type: 'object',
      required: ['requests', 'limits'],
      properties: {
        requests: { type: 'object', required: ['cpu', 'memory'], properties: { cpu: quantity, memory: quantity } },
        limits: { type: 'object', required: ['memory'], properties: { memory: quantity } },
      },
    },
    securityContext: {
      type: 'object',
      required: ['allowPrivilegeEscalation', 'readOnlyRootFilesystem', 'capabilities'],
      properties: {
        allowPrivilegeEscalation: { const: false },
        readOnlyRootFilesystem: { const: true },
        privileged: { const: false },
        capabilities: { type: 'object', required: ['drop'], properties: { drop: { type: 'array', contains: { const: 'ALL' } } } },
      },
    },
  },
};
const schemas: Record<string, object> = {
  'apps/v1 Deployment': {
    type: 'object',
    required: ['metadata', 'spec'],
    properties: {
      metadata: meta,
      spec: {
        type: 'object',
        required: ['replicas', 'selector', 'template'],
        properties: {
          replicas: { type: 'integer', minimum: 1 },
          selector: { type: 'object', required: ['matchLabels'], properties: { matchLabels: labels } },
          template: {
            type: 'object',
            required: ['metadata', 'spec'],
            properties: {
              metadata: { type: 'object', required: ['labels'], properties: { labels } },
              spec: {
                type: 'object',
                required: ['securityContext', 'containers'],
                properties: {
                  securityContext: {
                    type: 'object',
                    required: ['runAsNonRoot', 'runAsUser'],
                    properties: { runAsNonRoot: { const: true }, runAsUser: { type: 'integer', minimum: 1 } },
                  },
                  containers: { type: 'array', minItems: 1, items: container },
                  volumes: { type: 'array', items: { type: 'object', required: ['name'] } },
                },
              },
            },
          },
        },
      },
    },
  },
  'v1 Service': {
    type: 'object',
    required: ['metadata', 'spec'],
    properties: {
      metadata: meta,
      spec: {
        type: 'object',
        required: ['selector', 'ports'],
        properties: {
          selector: labels,
          ports: { type: 'array', minItems: 1, items: { type: 'object', required: ['port', 'targetPort'], properties: { port: { type: 'integer' }, targetPort: { type: ['integer', 'string'] } } } },
        },
      },
    },
  },
  'v1 ConfigMap': { type: 'object', required: ['metadata', 'data'], properties: { metadata: meta, data: { type: 'object', additionalProperties: { type: 'string' } } } },
  'policy/v1 PodDisruptionBudget': {
    type: 'object',
    required: ['metadata', 'spec'],
    properties: {
      metadata: meta,
      spec: {
        type: 'object',
        required: ['selector'],
        oneOf: [{ required: ['minAvailable'] }, { required: ['maxUnavailable'] }],
        properties: { selector: { type: 'object', required: ['matchLabels'], properties: { matchLabels: labels } } },
      },
    },
  },
  'autoscaling/v2 HorizontalPodAutoscaler': {
    type: 'object',
    required: ['metadata', 'spec'],
    properties: {
      metadata: meta,
      spec: {
        type: 'object',
        required: ['scaleTargetRef', 'minReplicas', 'maxReplicas', 'metrics'],
        properties: {
          scaleTargetRef: { type: 'object', required: ['apiVersion', 'kind', 'name'] },
          minReplicas: { type: 'integer', minimum: 1 },
          maxReplicas: { type: 'integer', minimum: 1 },
          metrics: {
            type: 'array',
            minItems: 1,
            items: {
              type: 'object',
              required: ['type', 'resource'],
              properties: {
                type: { const: 'Resource' },
                resource: { type: 'object', required: ['name', 'target'], properties: { name: { enum: ['cpu', 'memory'] }, target: { type: 'object', required: ['type', 'averageUtilization'], properties: { type: { const: 'Utilization' }, averageUtilization: { type: 'integer', minimum: 1, maximum: 100 } } } } },
              },
            },
          },
        },
      },
    },
  },
};

const ajv = new Ajv({ allErrors: true, strict: false });
const validators = Object.fromEntries(Object.entries(schemas).map(([k, s]) => [k, ajv.compile(s)]));

function loadManifests(): Obj[] {
  const kustomization = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8'));
  const out: Obj[] = [];
  for (const file of kustomization.resources as string[]) {
    for (const doc of YAML.parseAllDocuments(fs.readFileSync(path.join(dir, file), 'utf8'))) {
      if (doc.errors.length) throw new Error(`${file}: ${doc.errors[0].message}`);
      const o = doc.toJS();
      if (o) out.push({ ...o, __file: file });
    }
  }
  return out;
}

const matches = (selector: Obj, labelSet: Obj) => Object.entries(selector).every(([k, v]) => labelSet?.[k] === v);

describe('deploy/k8s', () => {
  const objects = loadManifests();
  const find = (kind: string, name: string) => objects.find((o) => o.kind === kind && o.metadata.name === name);
  const pdp = find('Deployment', 'pdp')!;
  const pdpContainer = pdp?.spec.template.spec.containers[0];

  test('kustomization lists every manifest in the folder, and each object is a known kind that passes its schema', () => {
    const listed = YAML.parse(fs.readFileSync(path.join(dir, 'kustomization.yaml'), 'utf8')).resources.sort();
    expect(listed).toEqual(fs.readdirSync(dir).filter((f) => f.endsWith('.yaml') && f !== 'kustomization.yaml').sort());
    for (const o of objects) {
      const key = `${o.apiVersion} ${o.kind}`;
      const validate = validators[key];
      expect([o.__file, key, !!validate]).toEqual([o.__file, key, true]);
      if (!validate(o)) throw new Error(`${o.__file} ${key} ${o.metadata?.name}: ${ajv.errorsText(validate.errors)}`);
    }
    expect(objects.map((o) => o.kind).sort()).toEqual(['ConfigMap', 'Deployment', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'Service']);
  });

  test('the schemas refuse what they should (root, no probes, no limits)', () => {
    const bad = JSON.parse(JSON.stringify(pdp));
    bad.spec.template.spec.securityContext.runAsNonRoot = false;
    delete bad.spec.template.spec.containers[0].readinessProbe;
    bad.spec.template.spec.containers[0].securityContext.allowPrivilegeEscalation = true;
    const validate = validators['apps/v1 Deployment'];
    expect(validate(bad)).toBe(false);
    const paths = (validate.errors ?? []).map((e) => e.instancePath + ' ' + e.message);
    expect(paths.join('\n')).toMatch(/runAsNonRoot/);
    expect(paths.join('\n')).toMatch(/readinessProbe/);
    expect(paths.join('\n')).toMatch(/allowPrivilegeEscalation/);
  });

  test('selectors select the pods they are meant to, and ports are named container ports', () => {
    for (const o of objects) {
      if (o.kind === 'Deployment') expect(matches(o.spec.selector.matchLabels, o.spec.template.metadata.labels)).toBe(true);
      if (o.kind === 'Service') {
        const target = objects.find((d) => d.kind === 'Deployment' && matches(o.spec.selector, d.spec.template.metadata.labels));
        expect([o.metadata.name, !!target]).toEqual([o.metadata.name, true]);
        const names = target!.spec.template.spec.containers.flatMap((c: Obj) => c.ports.map((p: Obj) => p.name));
        for (const p of o.spec.ports) expect(names).toContain(p.targetPort);
      }
      if (o.kind === 'PodDisruptionBudget') expect(matches(o.spec.selector.matchLabels, pdp.spec.template.metadata.labels)).toBe(true);
    }
  });

  test('the PDP probes: readiness on /ready, liveness on /health, both real routes, on the container port', () => {
    expect(pdpContainer.readinessProbe.httpGet.path).toBe('/ready');
    expect(pdpContainer.livenessProbe.httpGet.path).toBe('/health');
    const routes = Object.keys((openApiDocument() as Obj).paths);
    const portNames = pdpContainer.ports.map((p: Obj) => p.name);
    for (const probeName of ['readinessProbe', 'livenessProbe', 'startupProbe']) {
      const g = pdpContainer[probeName]?.httpGet;
      if (!g) continue;
      expect(routes).toContain(g.path);
      expect(portNames).toContain(g.port);
    }
  });

  test('the HPA scales the PDP on CPU it can measure, and the PDB never blocks a drain', () => {
    const hpa = objects.find((o) => o.kind === 'HorizontalPodAutoscaler')!;
    expect(hpa.spec.scaleTargetRef).toEqual({ apiVersion: 'apps/v1', kind: 'Deployment', name: 'pdp' });
    expect(hpa.spec.metrics.map((m: Obj) => m.resource.name)).toEqual(['cpu']);
    expect(pdpContainer.resources.requests.cpu).toBeDefined();
    expect(hpa.spec.minReplicas).toBeLessThanOrEqual(hpa.spec.maxReplicas);
    expect(pdp.spec.replicas).toBeGreaterThanOrEqual(hpa.spec.minReplicas);
    const pdb = objects.find((o) => o.kind === 'PodDisruptionBudget')!;
    // a budget as large as the smallest scale would forbid every eviction
    expect(pdb.spec.minAvailable).toBeLessThan(hpa.spec.minReplicas);
  });

  test('every volume mounted exists, writable paths are volumes (read-only root), and the ConfigMap is mounted', () => {
    for (const d of objects.filter((o) => o.kind === 'Deployment')) {
      const vols = (d.spec.template.spec.volumes ?? []).map((v: Obj) => v.name);
      for (const c of d.spec.template.spec.containers) for (const m of c.volumeMounts ?? []) expect(vols).toContain(m.name);
    }
    const configVol = pdp.spec.template.spec.volumes.find((v: Obj) => v.configMap);
    expect(find('ConfigMap', configVol.configMap.name)).toBeDefined();
    const mount = pdpContainer.volumeMounts.find((m: Obj) => m.name === configVol.name);
    expect(pdpContainer.args.join(' ')).toContain(`--config ${mount.mountPath}/pdp.yaml`);
  });

  test("the mounted configuration passes the PDP's validation, polls the bundle Service, and persists to a writable volume", () => {
    const cm = find('ConfigMap', 'pdp-config')!;
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-k8s-'));
    const file = path.join(tmp, 'pdp.yaml');
    fs.writeFileSync(file, cm.data['pdp.yaml']);
    const cfg = loadConfig({ configFile: file }, {});
    expect(cfg.server.addr).toBe('0.0.0.0');
    expect(cfg.server.port).toBe(pdpContainer.ports[0].containerPort);
    const url = new URL(cfg.bundles[0].source);
    const svc = find('Service', url.hostname);
    expect(svc).toBeDefined();
    expect(svc!.spec.ports.map((p: Obj) => p.port)).toContain(Number(url.port || 80));
    const mounts = pdpContainer.volumeMounts.filter((m: Obj) => !m.readOnly).map((m: Obj) => m.mountPath);
    expect(mounts).toContain(cfg.persistence_directory);
  });
});
