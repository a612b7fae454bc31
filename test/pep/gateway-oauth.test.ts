/**
 * MCP authorization at the gateway: without a valid access token an MCP request is HTTP 401 with
 * `WWW-Authenticate: Bearer resource_metadata="…"`, the RFC 9728 document is served under
 * /.well-known/oauth-protected-resource, and the SDK's own OAuth client follows both to the
 * authorization server. With a valid token the real SDK Client works through to the real McpServer.
 * Decisions come from a fake PDP (the real PDP's part is in gateway-real-pdp.test.ts).
 */
import * as fs from 'fs';
import * as http from 'http';
import * as os from 'os';
import * as path from 'path';
import type { AddressInfo } from 'net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { discoverOAuthProtectedResourceMetadata, extractWWWAuthenticateParams, OAuthClientProvider, UnauthorizedError } from '@modelcontextprotocol/sdk/client/auth.js';
import { startDemoMcpServer, RunningDemoServer } from '../../src/pep/demo-server';
import { startGateway, RunningGateway } from '../../src/pep/gateway/gateway';
import { allow, FakePdp, startFakePdp } from './fake-pdp';

/** The authorization server's discovery document only (RFC 8414): all the SDK needs before redirecting. */
async function startFakeAuthorizationServer(): Promise<{ url: string; seen: string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  let url = '';
  const server = http.createServer((req, res) => {
    seen.push(req.url ?? '');
    if (req.url === '/.well-known/oauth-authorization-server') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({
        issuer: url,
        authorization_endpoint: `${url}/authorize`,
        token_endpoint: `${url}/token`,
        response_types_supported: ['code'],
        grant_types_supported: ['authorization_code'],
        code_challenge_methods_supported: ['S256'],
      }));
      return;
    }
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { url, seen, close: () => new Promise<void>((r) => { server.closeAllConnections(); server.close(() => r()); }) };
}

describe('MCP gateway: MCP authorization (OAuth protected resource)', () => {
  let dir: string;
  let as: Awaited<ReturnType<typeof startFakeAuthorizationServer>>;
  let pdp: FakePdp;
  let demo: RunningDemoServer;
  let gw: RunningGateway;
  let endpoint: string;
  let sign: (claims: Record<string, unknown>, opts?: { key?: any; iss?: string; aud?: string | string[]; exp?: string | number }) => Promise<string>;
  const clients: Client[] = [];

  beforeAll(async () => {
    const jose = await import('jose');
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-oauth-'));
    const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
    const other = await jose.generateKeyPair('ES256');
    fs.writeFileSync(path.join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await jose.exportJWK(publicKey)), kid: 'k1', alg: 'ES256', use: 'sig' }] }));
    as = await startFakeAuthorizationServer();
    pdp = await startFakePdp((p, body) => (p === '/v1/decide/batch' ? { status: 200, body: { results: body.items.map(() => allow().body) } } : allow()));
    demo = await startDemoMcpServer();
    gw = await startGateway({
      upstreams: [{ url: demo.endpoint('support'), serverName: 'support' }],
      pdp: { url: pdp.url, timeoutMs: 2000, retries: 0 },
      auth: { authorizationServers: [{ issuer: as.url, jwks_file: path.join(dir, 'jwks.json') }], scopes: ['mcp:tools'], resourceName: 'support tools' },
    });
    endpoint = `${gw.url}/mcp`;
    sign = (claims, o = {}) =>
      new jose.SignJWT({ scope: 'openid mcp:tools', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: 'k1' })
        .setIssuer(o.iss ?? as.url)
        .setAudience(o.aud ?? endpoint)
        .setSubject('u-alice')
        .setIssuedAt()
        .setExpirationTime(o.exp ?? '10m')
        .sign(o.key ?? privateKey);
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.close();
    await demo?.close();
    await pdp?.close();
    await as?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const initialize = (headers: Record<string, string> = {}) =>
    fetch(endpoint, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
  const metadataUrl = () => `${gw.url}/.well-known/oauth-protected-resource/mcp`;

  test('no token: 401 with a bare challenge naming the resource metadata and the scope; nothing reaches the PDP', async () => {
    const before = pdp.seen.length;
    const res = await initialize();
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe(`Bearer resource_metadata="${metadataUrl()}", scope="mcp:tools"`);
    // the SDK's own parser reads it the same way
    const params = extractWWWAuthenticateParams(res);
    expect(params.resourceMetadataUrl?.href).toBe(metadataUrl());
    expect(params.scope).toBe('mcp:tools');
    expect(params.error).toBeUndefined();
    expect(pdp.seen.length).toBe(before);
    // a non-Bearer scheme is no token at all
    expect((await initialize({ authorization: 'Basic dTpw' })).headers.get('www-authenticate')).not.toMatch(/error=/);
  });

  test('the protected resource metadata: path-suffixed, and at the root for a single endpoint, as the SDK discovers it', async () => {
    const expected = {
      resource: endpoint,
      authorization_servers: [as.url],
      scopes_supported: ['mcp:tools'],
      bearer_methods_supported: ['header'],
      resource_name: 'support tools',
    };
    expect(await discoverOAuthProtectedResourceMetadata(endpoint)).toEqual(expected);
    expect(await discoverOAuthProtectedResourceMetadata(endpoint, { resourceMetadataUrl: metadataUrl() })).toEqual(expected);
    const root = await fetch(`${gw.url}/.well-known/oauth-protected-resource`);
    expect(root.status).toBe(200);
    expect(await root.json()).toEqual(expected);
    expect((await fetch(`${gw.url}/.well-known/oauth-protected-resource/other/mcp`)).status).toBe(404);
  });

  test.each([
    ['expired', () => sign({}, { exp: Math.floor(Date.now() / 1000) - 3600 }), /expired/],
    ['for another audience', () => sign({}, { aud: 'https://other.example/mcp' }), /wrong audience/],
    ['from another issuer', () => sign({}, { iss: 'https://evil.example' }), /untrusted issuer/],
    ['signed by another key', async () => sign({}, { key: (await (await import('jose')).generateKeyPair('ES256')).privateKey }), /bad signature/],
    ['not a JWT', async () => 'not-a-jwt', /malformed/],
  ])('a token %s: 401 error="invalid_token"', async (_what, make, why) => {
    const res = await initialize({ authorization: `Bearer ${await make()}` });
    expect(res.status).toBe(401);
    const challenge = res.headers.get('www-authenticate')!;
    expect(challenge).toMatch(new RegExp(`^Bearer resource_metadata="${metadataUrl().replace(/[.?/]/g, '\\$&')}", scope="mcp:tools", error="invalid_token", error_description="[^"]+"$`));
    expect(challenge).toMatch(why);
    expect(extractWWWAuthenticateParams(res).error).toBe('invalid_token');
    expect(await res.json()).toMatchObject({ error: 'invalid_token' });
  });

  test('a valid token without the required scope: 403 error="insufficient_scope"', async () => {
    const res = await initialize({ authorization: `Bearer ${await sign({ scope: 'openid' })}` });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(/^Bearer resource_metadata="[^"]+", scope="mcp:tools", error="insufficient_scope"/);
  });

  test("the SDK's OAuth client follows the challenge to the authorization server, asking for this resource and scope", async () => {
    let redirectedTo: URL | undefined;
    const provider: OAuthClientProvider = {
      redirectUrl: 'http://127.0.0.1/callback',
      clientMetadata: { redirect_uris: ['http://127.0.0.1/callback'], client_name: 'test agent' },
      clientInformation: () => ({ client_id: 'agent-1' }),
      tokens: () => undefined,
      saveTokens: () => undefined,
      redirectToAuthorization: (u) => {
        redirectedTo = u;
      },
      saveCodeVerifier: () => undefined,
      codeVerifier: () => 'v',
    };
    const c = new Client({ name: 'oauth-agent', version: '1.0.0' });
    await expect(c.connect(new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider }))).rejects.toBeInstanceOf(UnauthorizedError);
    expect(as.seen).toContain('/.well-known/oauth-authorization-server');
    expect(redirectedTo?.origin + redirectedTo!.pathname).toBe(`${as.url}/authorize`);
    expect(redirectedTo?.searchParams.get('resource')).toBe(endpoint);
    expect(redirectedTo?.searchParams.get('scope')).toBe('mcp:tools');
  });

  test('with a valid token the SDK client lists and calls tools; the PDP gets the same token as user.token', async () => {
    const token = await sign({});
    const provider: Partial<OAuthClientProvider> = { tokens: () => ({ access_token: token, token_type: 'Bearer' }) };
    const c = new Client({ name: 'oauth-agent', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(endpoint), { authProvider: provider as OAuthClientProvider }));
    clients.push(c);
    expect((await c.listTools()).tools.length).toBeGreaterThan(0);
    const r: any = await c.callTool({ name: 'kb.search', arguments: { query: 'refunds' } });
    expect(r.structuredContent).toMatchObject({ query: 'refunds' });
    const call = pdp.seen.find((s) => s.path === '/v1/decide' && s.body.tool.name === 'kb.search');
    expect(call?.body.user).toEqual({ token });
  });

  test('several endpoints: each its own resource (a token for one is refused at another); named by the public URL', async () => {
    const two = await startGateway({
      upstreams: ['crm', 'support'].map((x) => ({ url: demo.endpoint(x), serverName: x })),
      pdp: { url: pdp.url, timeoutMs: 2000, retries: 0 },
      auth: { authorizationServers: [{ issuer: as.url, jwks_file: path.join(dir, 'jwks.json') }] },
      publicUrl: 'https://gw.example',
    });
    try {
      const doc = await (await fetch(`${two.url}/.well-known/oauth-protected-resource/crm/mcp`)).json();
      expect(doc).toMatchObject({ resource: 'https://gw.example/crm/mcp', authorization_servers: [as.url] });
      expect((await fetch(`${two.url}/.well-known/oauth-protected-resource`)).status).toBe(404);
      const post = (p: string, token: string) =>
        fetch(two.url + p, {
          method: 'POST',
          headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', authorization: `Bearer ${token}` },
          body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
        });
      const forCrm = await sign({}, { aud: 'https://gw.example/crm/mcp' });
      const atSupport = await post('/support/mcp', forCrm);
      expect(atSupport.status).toBe(401);
      expect(atSupport.headers.get('www-authenticate')).toBe(
        'Bearer resource_metadata="https://gw.example/.well-known/oauth-protected-resource/support/mcp", error="invalid_token", error_description="the access token is refused: wrong audience"',
      );
      const atCrm = await post('/crm/mcp', forCrm);
      expect(atCrm.status).toBe(200);
      await atCrm.body?.cancel();
    } finally {
      await two.close();
    }
  });

  test('/health and /metrics need no token; metrics count refusals, calls by decision and PDP latency', async () => {
    const health = await fetch(`${gw.url}/health`);
    expect(health.status).toBe(200);
    expect(await health.json()).toMatchObject({ status: 'ok', endpoints: ['/mcp'] });
    const text = await (await fetch(`${gw.url}/metrics`)).text();
    expect(text).toMatch(/pdp_gateway_auth_rejections_total\{reason="unauthorized"\} [1-9]/);
    expect(text).toMatch(/pdp_gateway_auth_rejections_total\{reason="invalid_token"\} [1-9]/);
    expect(text).toMatch(/pdp_gateway_auth_rejections_total\{reason="insufficient_scope"\} 1/);
    expect(text).toMatch(/pdp_gateway_tool_calls_total\{server="support",decision="allow"\} 1/);
    expect(text).toMatch(/pdp_gateway_pdp_request_duration_seconds_count\{operation="decide",outcome="ok"\} 1/);
    expect(text).toMatch(/pdp_gateway_pdp_request_duration_seconds_count\{operation="decide_batch",outcome="ok"\} 1/);
  });
});
