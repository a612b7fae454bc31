import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { createPdpServer, type PdpServer, type CreateOptions } from '../../src/server/server';
import { defaultConfig } from '../../src/server/config';
import type { IdentityResolver, PdpConfig } from '../../src/server/types';

export const passThrough: IdentityResolver = {
  async resolve(body) {
    return { input: body as unknown as Record<string, unknown> };
  },
};

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-test-'));
}

export async function startWith(bundleFiles: string[], over: Partial<PdpConfig> = {}, opts: CreateOptions = {}): Promise<PdpServer> {
  const cfg = defaultConfig();
  cfg.server.port = 0;
  cfg.decision_logs.output = 'off';
  cfg.bundles = bundleFiles.map((source) => ({ source }));
  Object.assign(cfg, over);
  const pdp = createPdpServer(cfg, { log: () => undefined, resolver: passThrough, watch: false, defaultMetrics: false, ...opts });
  await pdp.bundles.start(cfg.bundles);
  await pdp.listen();
  return pdp;
}

export async function post(base: string, p: string, body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any; text: string; headers: Headers }> {
  const res = await fetch(base + p, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = text;
  }
  return { status: res.status, json, text, headers: res.headers };
}
