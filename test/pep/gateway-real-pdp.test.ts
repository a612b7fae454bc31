/**
 * End to end with the real PDP: SDK Client → gateway → SDK McpServer, decisions by the PDP running
 * the default policy from rego/ with a throw-away identity provider and an API key for the gateway.
 *
 * `startRealPdp` starts the PDP exactly as `pdp serve --config` does in one process
 * (loadConfig + startPdpServer from src/server/server.ts).
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import * as crypto from 'crypto';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startDemoMcpServer, RunningDemoServer } from '../../src/pep/demo-server';
import { startGateway, RunningGateway } from '../../src/pep/gateway/gateway';
import { loadConfig } from '../../src/server/config';
import { startPdpServer } from '../../src/server/server';

interface RunningPdp {
  url: string;
  close(): Promise<void>;
}

/** Starts the real PDP on port 0 from a config file. */
async function startRealPdp(configFile: string): Promise<RunningPdp> {
  const config = loadConfig({ configFile, port: 0, addr: '127.0.0.1', workers: 1 }, {});
  const { pdp, errors } = await startPdpServer(config, { log: () => undefined, watch: false, defaultMetrics: false });
  if (errors.size > 0) {
    await pdp.close();
    throw new Error(`the PDP did not load its bundle: ${[...errors.values()].map((e) => e.message).join('; ')}`);
  }
  return { url: pdp.url(), close: () => pdp.close() };
}

async function waitReady(url: string): Promise<void> {
  for (let i = 0; i < 240; i++) {
    const ok = await fetch(`${url}/ready`).then((r) => r.status === 200, () => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error('the PDP did not become ready (no bundle active after 60 s)');
}

describe('MCP gateway with the real PDP', () => {
  const ISSUER = 'https://test-idp.local';
  let dir: string;
  let pdp: RunningPdp | undefined;
  let demo: RunningDemoServer;
  let gw: RunningGateway;
  let headers: Record<string, string>;
  let sign: (claims: Record<string, unknown>, typ: string, aud?: string[]) => Promise<string>;
  let pdpOptions: { url: string; apiKey: string; timeoutMs: number; retries: number };
  const clients: Client[] = [];

  beforeAll(async () => {
    const jose = await import('jose');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pep-e2e-'));
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
    const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' };
    fs.writeFileSync(path.join(dir, 'idp.jwks.json'), JSON.stringify({ keys: [jwk] }));
    const apiKey = crypto.randomBytes(24).toString('base64url');
    fs.writeFileSync(
      path.join(dir, 'pdp.json'),
      JSON.stringify({
        bundles: [{ name: 'mcp', source: path.join(__dirname, '..', '..', 'rego') }],
        decision_logs: { output: 'off' },
        identity: { issuers: [{ issuer: ISSUER, audiences: ['pdp'], jwks_file: path.join(dir, 'idp.jwks.json'), algorithms: ['ES256'] }] },
        authentication: { mode: 'api_key', api_keys: [{ id: 'gw', hash: 'sha256:' + crypto.createHash('sha256').update(apiKey).digest('hex') }] },
      }),
    );
    pdp = await startRealPdp(path.join(dir, 'pdp.json'));
    await waitReady(pdp.url);
    // one issuer signs every kind, so each token is typed with its kind (docs/identity.md, "Token kinds")
    sign = (claims: Record<string, unknown>, typ: string, aud = ['pdp']) =>
      new jose.SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ }).setIssuer(ISSUER).setAudience(aud).setIssuedAt().setExpirationTime('10m').sign(privateKey);
    headers = {
      authorization: `Bearer ${await sign({ sub: 'u-alice', tenant: 'acme', roles: ['support_agent'], may_act: { sub: 'support-bot' } }, 'user+jwt')}`,
      'x-agent-token': await sign({ sub: 'support-bot' }, 'agent+jwt'),
      'x-task-token': await sign({
        sub: 'u-alice',
        jti: 't-7',
        scope: { tools: ['support/*', 'crm/contacts.search', 'crm/contacts.delete'], data_domains: ['support', 'crm', 'public'], constraints: {}, grants: [] },
      }, 'task+jwt'),
    };
    demo = await startDemoMcpServer();
    pdpOptions = { url: pdp.url, apiKey, timeoutMs: 2000, retries: 0 };
    gw = await startGateway({
      upstreams: ['crm', 'support'].map((s) => ({ url: demo.endpoint(s), serverName: s })),
      pdp: pdpOptions,
    });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.close();
    await demo?.close();
    await pdp?.close();
  });

  async function connect(server: string): Promise<Client> {
    const c = new Client({ name: 'e2e-agent', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/${server}/mcp`), { requestInit: { headers } }));
    clients.push(c);
    return c;
  }

  test('allowed call returns the tool result', async () => {
    const c = await connect('support');
    const r: any = await c.callTool({ name: 'kb.search', arguments: { query: 'refunds' } });
    expect(r.structuredContent).toMatchObject({ query: 'refunds' });
    expect(demo.calls.some((x) => x.tool === 'kb.search')).toBe(true);
  });

  test('denied call answers -32001 with the reason and never reaches the server', async () => {
    const c = await connect('crm');
    const before = demo.calls.length;
    const e: any = await c.callTool({ name: 'contacts.delete', arguments: { contact_id: 'ct-1' } }).catch((x) => x);
    expect(e).toBeInstanceOf(McpError);
    expect(e.code).toBe(-32001);
    expect(e.data.reasons.length).toBeGreaterThan(0);
    expect(typeof e.data.reasons[0].code).toBe('string');
    // the agent's SDK adds one "MCP error -32001: " prefix to the gateway's message, not two
    expect(e.message).toMatch(/^MCP error -32001: denied: grant\.destructive_required: /);
    expect(e.data.reasons.map((r: any) => r.code)).toContain('role.tool_not_granted');
    expect(demo.calls.length).toBe(before);
  });

  test('tools/list shows only permitted tools', async () => {
    const c = await connect('crm');
    const names = (await c.listTools()).tools.map((t) => t.name);
    expect(names).toContain('contacts.search');
    expect(names).not.toContain('contacts.delete');
    expect(names).not.toContain('contacts.export');
  });

  test('behind MCP authorization: 401 without a token; the access token for the endpoint is the user token the PDP decides on', async () => {
    const authGw = await startGateway({
      upstreams: [{ url: demo.endpoint('support'), serverName: 'support' }],
      pdp: pdpOptions,
      auth: { authorizationServers: [{ issuer: ISSUER, jwks_file: path.join(dir, 'idp.jwks.json') }] },
    });
    const c = new Client({ name: 'e2e-agent', version: '1.0.0' });
    try {
      const endpoint = `${authGw.url}/mcp`;
      const bare = await fetch(endpoint, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      expect(bare.status).toBe(401);
      expect(bare.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${authGw.url}/.well-known/oauth-protected-resource/mcp"`);
      // issued for the gateway endpoint (which checks it) and for the PDP (which verifies it again)
      const user = await sign({ sub: 'u-alice', tenant: 'acme', roles: ['support_agent'], may_act: { sub: 'support-bot' } }, 'user+jwt', [endpoint, 'pdp']);
      await c.connect(new StreamableHTTPClientTransport(new URL(endpoint), { requestInit: { headers: { ...headers, authorization: `Bearer ${user}` } } }));
      const r: any = await c.callTool({ name: 'kb.search', arguments: { query: 'oauth' } });
      expect(r.structuredContent).toMatchObject({ query: 'oauth' });
    } finally {
      await c.close();
      await authGw.close();
    }
  });

  test('with the PDP stopped, calls fail closed', async () => {
    const c = await connect('support');
    await pdp!.close();
    pdp = undefined;
    const before = demo.calls.length;
    const e: any = await c.callTool({ name: 'kb.search', arguments: { query: 'refunds' } }).catch((x) => x);
    expect(e).toBeInstanceOf(McpError);
    expect(e.code).toBe(-32603);
    expect(e.data.reasons[0].code).toBe('pdp.unavailable');
    expect(demo.calls.length).toBe(before);
  });
});
