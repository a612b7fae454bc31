/**
 * The real PDP (default policy from rego/, loaded as `pdp serve --config` does) with a throw-away identity
 * provider and its own signing key made by `pdp keys gen --name pdp`, for the approval and Txn-Token tests.
 * People and agents match the policy's estate: u-bob (billing at acme) and his billing-bot, delegated
 * through a planner.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import { loadConfig } from '../../src/server/config';
import { startPdpServer, type PdpServer } from '../../src/server/server';
import { run as keysCli } from '../../src/cli/commands/keys';
import { KIND_TYP } from '../../src/identity/verify';

export const ISSUER = 'https://test-idp.local';

export interface ApprovalPdp {
  pdp: PdpServer;
  url: string;
  dir: string;
  apiKey: string;
  /** operational log lines the PDP wrote */
  logs: Array<{ level: string; msg: string; fields?: Record<string, unknown> }>;
  /** a token from the test IdP */
  /** typed as `kind` (default user), as an issuer trusted for several kinds must type its tokens */
  idpToken(claims: Record<string, unknown>, ttl?: string, kind?: 'user' | 'agent' | 'task'): Promise<string>;
  /** a fresh sign-in of `sub` at the IdP (the approval page needs one newer than the request) */
  signIn(sub?: string): Promise<string>;
  /** bob's user, agent and task tokens */
  bob: { user: string; agent: string; task: string };
  /** the PDP's private signing key (to forge what only a broken PDP would sign) */
  pdpKey: crypto.KeyObject;
  close(): Promise<void>;
}

export async function startApprovalPdp(extraConfig: Record<string, unknown> = {}): Promise<ApprovalPdp> {
  const jose = await import('jose');
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-approvals-'));
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
  fs.writeFileSync(path.join(dir, 'idp.jwks.json'), JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
  // the PDP key exactly as an operator makes it
  const write = jest.spyOn(process.stdout, 'write').mockImplementation(() => true);
  try {
    if ((await keysCli(['gen', '--name', 'pdp', '--out', dir])) !== 0) throw new Error('pdp keys gen failed');
  } finally {
    write.mockRestore();
  }
  const apiKey = crypto.randomBytes(24).toString('base64url');
  fs.writeFileSync(
    path.join(dir, 'pdp.json'),
    JSON.stringify({
      bundles: [{ name: 'mcp', source: path.join(__dirname, '..', '..', 'rego') }],
      decision_logs: { output: 'off' },
      identity: { issuers: [{ issuer: ISSUER, audiences: ['pdp'], jwks_file: 'idp.jwks.json', algorithms: ['ES256'] }] },
      authentication: { mode: 'api_key', api_keys: [{ id: 'gw', hash: 'sha256:' + crypto.createHash('sha256').update(apiKey).digest('hex') }] },
      signing: { key_file: 'pdp.private.pem', issuer: 'https://pdp.test' },
      ...extraConfig,
    }),
  );
  const logs: ApprovalPdp['logs'] = [];
  const config = loadConfig({ configFile: path.join(dir, 'pdp.json'), port: 0, addr: '127.0.0.1', workers: 1 }, {});
  const { pdp, errors } = await startPdpServer(config, { log: (level, msg, fields) => void logs.push({ level, msg, fields }), watch: false, defaultMetrics: false });
  if (errors.size > 0) {
    await pdp.close();
    throw new Error(`the PDP did not load its bundle: ${[...errors.values()].map((e) => e.message).join('; ')}`);
  }
  const idpToken = (claims: Record<string, unknown>, ttl = '10m', kind: 'user' | 'agent' | 'task' = 'user') =>
    new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: KIND_TYP[kind] }).setIssuer(ISSUER).setAudience('pdp').setIssuedAt(typeof claims.iat === 'number' ? claims.iat : undefined).setExpirationTime(ttl).sign(privateKey);
  const bob = {
    user: await idpToken({ sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'] }),
    // RFC 8693: bob's billing-bot, itself called by the planner
    agent: await idpToken({ sub: 'u-bob', act: { sub: 'billing-bot', act: { sub: 'planner' } } }, '10m', 'agent'),
    task: await idpToken({ sub: 'u-bob', jti: 't-7', scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 500 }, grants: ['write'] } }, '10m', 'task'),
  };
  return {
    pdp,
    url: pdp.url(),
    dir,
    apiKey,
    logs,
    idpToken,
    signIn: (sub = 'u-bob') => idpToken({ sub }),
    bob,
    pdpKey: crypto.createPrivateKey(fs.readFileSync(path.join(dir, 'pdp.private.pem'), 'utf8')),
    close: () => pdp.close(),
  };
}

/** POST /v1/decide as the gateway would. */
export async function decide(p: ApprovalPdp, body: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${p.url}/v1/decide`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${p.apiKey}` },
    body: JSON.stringify(body),
  });
  const json = await res.json();
  return { status: res.status, ...json };
}

/** bob's refund of `amount` EUR as a decide body. */
export function refundBody(p: ApprovalPdp, amount: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    user: { token: p.bob.user },
    agent: { token: p.bob.agent },
    task: { token: p.bob.task },
    tool: { server: 'billing', name: 'refunds.create', method: 'tools/call' },
    parameters: { customer_id: 'c-1001', amount, currency: 'EUR' },
    ...extra,
  };
}
