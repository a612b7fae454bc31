/**
 * stdio upstreams: SDK Client → gateway (Streamable HTTP) → an MCP server process the gateway spawns
 * per agent session (test/pep/fixtures/stdio-mcp-server.js, the SDK's McpServer on stdio), decided by
 * a fake PDP answering from a table. Same session code as HTTP upstreams; only the transport differs.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import { startGateway, RunningGateway } from '../../src/pep/gateway/gateway';
import { allow, deny, FakePdp, startFakePdp } from './fake-pdp';

const FIXTURE = path.join(__dirname, 'fixtures', 'stdio-mcp-server.js');

function policy(body: any): any {
  if (body.tool.name === 'notes.delete') return deny('access.destructive_not_granted', 'notes.delete needs a destructive grant').body;
  return allow().body;
}

describe('MCP gateway with a stdio upstream', () => {
  let pdp: FakePdp;
  let gw: RunningGateway;
  let dir: string;
  let callLog: string;
  const clients: Client[] = [];
  const events: Record<string, unknown>[] = [];

  async function connect(p: string): Promise<Client> {
    const c = new Client({ name: 'test-agent', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(gw.url + p), { requestInit: { headers: { authorization: 'Bearer user.jwt.sig' } } }));
    clients.push(c);
    return c;
  }
  const reached = (): Array<{ pid: number; tool: string; args: unknown }> =>
    fs.existsSync(callLog) ? fs.readFileSync(callLog, 'utf8').trim().split('\n').filter(Boolean).map((l) => JSON.parse(l)) : [];
  const decided = () => pdp.seen.filter((s) => s.path === '/v1/decide').map((s) => s.body);

  const savedKey = process.env.PDP_API_KEY;
  beforeAll(async () => {
    process.env.PDP_API_KEY = 'the-gateway-secret'; // the gateway's own credential: must not reach the child
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-stdio-'));
    callLog = path.join(dir, 'calls.jsonl');
    pdp = await startFakePdp((p, body) => (p === '/v1/decide/batch' ? { status: 200, body: { results: body.items.map(policy) } } : { status: 200, body: policy(body) }));
    gw = await startGateway({
      upstreams: [
        { command: process.execPath, args: [FIXTURE], env: { STDIO_FIXTURE_LOG: callLog }, serverName: 'notes' },
        { command: process.execPath, args: [FIXTURE], path: '/auto/mcp' }, // name from serverInfo
        { command: process.execPath, args: [FIXTURE, '--exit-at-start'], serverName: 'broken' },
        { command: path.join(dir, 'no-such-program'), serverName: 'missing' },
      ],
      pdp: { url: pdp.url, timeoutMs: 2000, retries: 0 },
      log: (e) => events.push(e),
    });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw?.close();
    await pdp?.close();
    fs.rmSync(dir, { recursive: true, force: true });
    if (savedKey === undefined) delete process.env.PDP_API_KEY;
    else process.env.PDP_API_KEY = savedKey;
  });

  test('an allowed call is decided with the upstream tool metadata and reaches the process', async () => {
    const c = await connect('/notes/mcp');
    const r: any = await c.callTool({ name: 'notes.read', arguments: { id: 'n-1' } });
    expect(r.structuredContent).toMatchObject({ id: 'n-1', text: 'note n-1' });
    const input = decided().find((b) => b.tool.name === 'notes.read');
    expect(input).toMatchObject({
      user: { token: 'user.jwt.sig' },
      tool: { server: 'notes', name: 'notes.read', method: 'tools/call', annotations: { readOnlyHint: true } },
      parameters: { id: 'n-1' },
    });
    expect(reached()).toContainEqual(expect.objectContaining({ tool: 'notes.read', args: { id: 'n-1' } }));
    // the child's environment: the SDK's safe set plus what was configured, not the gateway's secrets
    expect(r.structuredContent.env).toContain('STDIO_FIXTURE_LOG');
    expect(r.structuredContent.env).not.toContain('PDP_API_KEY');
  });

  test('a denied call is -32001 with the reason and never reaches the process', async () => {
    const c = await connect('/notes/mcp');
    const e: any = await c.callTool({ name: 'notes.delete', arguments: { id: 'n-1' } }).catch((x) => x);
    expect(e).toBeInstanceOf(McpError);
    expect(e.code).toBe(-32001);
    expect(e.data.reasons[0].code).toBe('access.destructive_not_granted');
    expect(reached().some((x) => x.tool === 'notes.delete')).toBe(false);
  });

  test('tools/list shows only what the policy lets the caller list', async () => {
    pdp.handler = (p, body) =>
      p === '/v1/decide/batch'
        ? { status: 200, body: { results: body.items.map((i: any) => (i.tool.name === 'crash' ? deny('hidden', 'not for you').body : allow().body)) } }
        : { status: 200, body: policy(body) };
    try {
      const c = await connect('/notes/mcp');
      const names = (await c.listTools()).tools.map((t) => t.name).sort();
      expect(names).toEqual(['notes.delete', 'notes.read']);
    } finally {
      pdp.handler = (p, body) => (p === '/v1/decide/batch' ? { status: 200, body: { results: body.items.map(policy) } } : { status: 200, body: policy(body) });
    }
  });

  test('each agent session gets its own process; tool.server defaults to the serverInfo name', async () => {
    const a = await connect('/auto/mcp');
    const b = await connect('/auto/mcp');
    const ra: any = await a.callTool({ name: 'notes.read', arguments: { id: 'a' } });
    const rb: any = await b.callTool({ name: 'notes.read', arguments: { id: 'b' } });
    expect(ra.structuredContent.pid).not.toBe(rb.structuredContent.pid);
    expect(decided().filter((x) => x.parameters?.id === 'a')[0].tool.server).toBe('notes-stdio');
  });

  test('a process that dies mid-call gives a clear upstream error, then fails fast', async () => {
    const c = await connect('/notes/mcp');
    const e: any = await c.callTool({ name: 'crash', arguments: {} }).catch((x) => x);
    expect(e).toBeInstanceOf(McpError);
    expect(e.code).toBe(-32603);
    expect(e.data.reasons[0].code).toBe('gateway.upstream_error');
    expect(e.message).toMatch(/upstream MCP server is gone/);
    const again: any = await c.callTool({ name: 'notes.read', arguments: { id: 'n-2' } }).catch((x) => x);
    expect(again.code).toBe(-32603);
    expect(again.message).toMatch(/upstream MCP server is gone/);
    expect(events.some((x) => x.event === 'upstream.gone' && x.server === 'notes')).toBe(true);
    const metrics = await (await fetch(`${gw.url}/metrics`)).text();
    expect(metrics).toMatch(/pdp_gateway_upstream_errors_total\{server="notes",kind="closed"\} 1/);
    expect(metrics).toMatch(/pdp_gateway_upstream_errors_total\{server="notes",kind="gone"\} 2/);
  });

  test.each([
    ['exits at start', '/broken/mcp', /exited before completing initialize/],
    ['cannot be spawned', '/missing/mcp', /no-such-program ENOENT/],
  ])('an upstream process that %s: initialize answers 502, naming the failure', async (_what, p, why) => {
    const res = await fetch(gw.url + p, {
      method: 'POST',
      headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'initialize', params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 't', version: '1' } } }),
    });
    expect(res.status).toBe(502);
    const body = await res.json();
    expect(body.error.message).toMatch(/^upstream MCP server unavailable: /);
    expect(body.error.message).toMatch(why);
  });
});
