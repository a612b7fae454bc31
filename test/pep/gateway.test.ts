/**
 * End to end with the SDK's real pieces: SDK Client → gateway → SDK McpServer (the demo servers),
 * with a fake PDP answering from a table so the gateway's behaviour is tested on its own.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { McpError, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import { startDemoMcpServer, RunningDemoServer } from '../../src/pep/demo-server';
import { startGateway, RunningGateway } from '../../src/pep/gateway/gateway';
import { allow, deny, FakePdp, startFakePdp } from './fake-pdp';

/** The table: what the fake PDP says for each tool (by name), for calls and listings. */
function policy(body: any): any {
  const name = body.tool.name;
  if (name === 'contacts.delete') return deny('access.destructive_not_granted', 'contacts.delete needs a destructive grant').body;
  if (body.tool.method === 'tools/list') return name === 'contacts.export' ? allow({ watermark: true }).body : allow().body;
  if (name === 'contacts.search') return allow({ redact_fields: ['email', 'phone'] }).body;
  if (name === 'contacts.export') return allow({ watermark: true }).body;
  if (name === 'contacts.update') {
    // as the real PDP: an approval counts only when the PDP itself verified it and says so in the answer
    const verified = body.approval?.token === 'good.approval.token';
    return { ...allow({ require_approval: { reasons: ['writes need approval'] } }).body, ...(verified ? { approval: { verified: true, jti: 'appr-1', approved_by: 'u-alice' } } : {}) };
  }
  if (body.parameters?.query === 'forbidden') return deny('params.query', 'query not allowed').body;
  return allow().body;
}

describe('MCP gateway (fake PDP)', () => {
  let pdp: FakePdp;
  let demo: RunningDemoServer;
  let gw: RunningGateway;
  const clients: Client[] = [];

  async function connect(path: string, headers: Record<string, string> = { authorization: 'Bearer user.jwt.sig' }): Promise<Client> {
    const c = new Client({ name: 'test-agent', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(gw.url + path), { requestInit: { headers } }));
    clients.push(c);
    return c;
  }
  const decideCalls = () => pdp.seen.filter((s) => s.path === '/v1/decide');
  const batchCalls = () => pdp.seen.filter((s) => s.path === '/v1/decide/batch');

  async function rejection(p: Promise<unknown>): Promise<McpError> {
    try {
      await p;
    } catch (e) {
      return e as McpError;
    }
    throw new Error('expected the call to fail');
  }

  beforeAll(async () => {
    pdp = await startFakePdp((path, body) =>
      path === '/v1/decide/batch' ? { status: 200, body: { results: body.items.map(policy) } } : { status: 200, body: policy(body) },
    );
    demo = await startDemoMcpServer();
    gw = await startGateway({
      upstreams: [
        { url: demo.endpoint('crm'), serverName: 'crm' },
        { url: demo.endpoint('billing'), path: '/auto/mcp' }, // server name learnt from the upstream
      ],
      pdp: { url: pdp.url, apiKey: 'gw-key', timeoutMs: 1000 },
    });
  });
  afterAll(async () => {
    await Promise.allSettled(clients.map((c) => c.close()));
    await gw.close();
    await demo.close();
    await pdp.close();
  });
  beforeEach(() => {
    pdp.seen.length = 0;
    demo.calls.length = 0;
  });

  test('tools/list shows only permitted tools, with one batch decision', async () => {
    const c = await connect('/crm/mcp');
    const { tools } = await c.listTools();
    expect(tools.map((t) => t.name).sort()).toEqual(['contacts.search', 'contacts.update']);
    expect(batchCalls()).toHaveLength(1);
    const items = batchCalls()[0].body.items;
    expect(items).toHaveLength(4);
    expect(items.find((i: any) => i.tool.name === 'contacts.delete').tool).toEqual({
      server: 'crm',
      name: 'contacts.delete',
      method: 'tools/list',
      annotations: { readOnlyHint: false, destructiveHint: true },
    });
    expect(items[0].user).toEqual({ token: 'user.jwt.sig' });
    expect(batchCalls()[0].headers.authorization).toBe('Bearer gw-key');
  });

  test('an allowed call returns the tool result; the decision input is built from the request', async () => {
    const c = await connect('/crm/mcp', {
      authorization: 'Bearer user.jwt.sig',
      'x-agent-token': 'agent.jwt.sig',
      'x-task-token': 'task.jwt.sig',
      'x-request-id': 'req-77',
    });
    const r: any = await c.callTool({ name: 'tickets.none', arguments: {} }).catch((e) => e);
    expect(r).toBeInstanceOf(McpError); // not a crm tool: input cannot be built
    expect(r.code).toBe(-32602);
    pdp.seen.length = 0;
    const ok: any = await c.callTool({ name: 'contacts.delete', arguments: { contact_id: 'ct-1' } }).catch((e) => e);
    expect(ok.code).toBe(-32001);
    const res: any = await c.callTool({ name: 'contacts.search', arguments: { query: 'ada' } });
    expect(res.structuredContent.contacts[0]).toEqual({ id: 'ct-1', name: 'Ada Lovelace' }); // redacted
    const body = decideCalls()[1].body;
    expect(body).toEqual({
      user: { token: 'user.jwt.sig' },
      agent: { token: 'agent.jwt.sig' },
      task: { token: 'task.jwt.sig' },
      context: { request_id: 'req-77', mcp_session_id: expect.any(String) },
      tool: { server: 'crm', name: 'contacts.search', method: 'tools/call', annotations: { readOnlyHint: true, destructiveHint: false } },
      parameters: { query: 'ada' },
      issue_txn_token: true,
    });
    expect(decideCalls()[1].headers['x-request-id']).toBe('req-77');
  });

  test('a plain allowed call reaches the server and returns its result unchanged', async () => {
    const c = await connect('/auto/mcp');
    const res: any = await c.callTool({ name: 'refunds.lookup', arguments: { customer_id: 'c-1' } });
    expect(res.structuredContent).toEqual({ customer_id: 'c-1', refunds: [{ id: 'rf-1', amount: 40, currency: 'EUR', iban: 'DE89370400440532013000' }] });
    expect(JSON.parse(res.content[0].text)).toEqual(res.structuredContent);
    expect(demo.calls).toEqual([{ server: 'billing', tool: 'refunds.lookup', arguments: { customer_id: 'c-1' } }]);
    expect(decideCalls()[0].body.tool.server).toBe('billing'); // learnt from the upstream's serverInfo
  });

  test('a denied call answers -32001 with the reasons and never reaches the server', async () => {
    const c = await connect('/auto/mcp');
    const e = await rejection(c.callTool({ name: 'refunds.lookup', arguments: { customer_id: 'c-1', query: 'forbidden' } }));
    expect(e).toBeInstanceOf(McpError);
    expect(e.code).toBe(-32001);
    expect(e.message).toContain('params.query: query not allowed');
    expect(e.data).toEqual({ reasons: [{ code: 'params.query', message: 'query not allowed' }], decision_id: 'd-deny' });
    expect(demo.calls).toHaveLength(0);
  });

  test('redact_fields removes the fields from structured and text content', async () => {
    const c = await connect('/crm/mcp');
    const res: any = await c.callTool({ name: 'contacts.search', arguments: { query: 'ada' } });
    expect(JSON.parse(res.content[0].text)).toEqual({ query: 'ada', contacts: [{ id: 'ct-1', name: 'Ada Lovelace' }] });
    expect(JSON.stringify(res)).not.toContain('ada@example.com');
    expect(demo.calls).toHaveLength(1);
  });

  test('an obligation the gateway does not understand turns the allow into a deny', async () => {
    const c = await connect('/crm/mcp');
    const e = await rejection(c.callTool({ name: 'contacts.export', arguments: { tenant: 'acme', max_records: 5 } }));
    expect(e.code).toBe(-32001);
    expect((e.data as any).reasons[0]).toMatchObject({ code: 'obligation.unsupported', obligations: ['watermark'] });
    expect(demo.calls).toHaveLength(0);
  });

  test('require_approval: a header is not an approval; one the PDP verified is', async () => {
    const args = { contact_id: 'ct-1', fields: { name: 'Ada' } };
    const plain = await connect('/crm/mcp');
    const e = await rejection(plain.callTool({ name: 'contacts.update', arguments: args }));
    expect(e.code).toBe(-32001);
    expect((e.data as any).reasons[0].code).toBe('approval.required');
    // whatever an agent puts in the header, only the PDP's verification counts
    const claimed = await connect('/crm/mcp', { authorization: 'Bearer user.jwt.sig', 'x-pdp-approval': 'i.approve.myself' });
    expect((await rejection(claimed.callTool({ name: 'contacts.update', arguments: args }))).code).toBe(-32001);
    expect(pdp.seen.some((r) => r.body?.approval?.token === 'i.approve.myself')).toBe(true);
    expect(demo.calls).toHaveLength(0);
    const approved = await connect('/crm/mcp', { authorization: 'Bearer user.jwt.sig', 'x-pdp-approval': 'good.approval.token' });
    const res: any = await approved.callTool({ name: 'contacts.update', arguments: args });
    expect(res.structuredContent).toEqual({ contact_id: 'ct-1', updated: ['name'] });
    expect(demo.calls).toHaveLength(1);
  });

  test('input that cannot be built: -32602, the PDP is not asked', async () => {
    const basic = await connect('/crm/mcp', { authorization: 'Basic dTpw' });
    const e = await rejection(basic.callTool({ name: 'contacts.search', arguments: { query: 'x' } }));
    expect(e.code).toBe(-32602);
    const c = await connect('/crm/mcp');
    const e2 = await rejection(c.request({ method: 'tools/call', params: { name: 'contacts.search', arguments: ['x'] } } as any, ResultSchema));
    expect(e2.code).toBe(-32602);
    expect(decideCalls()).toHaveLength(0);
    expect(demo.calls).toHaveLength(0);
  });

  test('unknown methods are denied; ping passes through', async () => {
    const c = await connect('/crm/mcp');
    await expect(c.ping()).resolves.toEqual({});
    const e = await rejection(c.request({ method: 'resources/list', params: {} } as any, ResultSchema));
    expect(e.code).toBe(-32001);
    expect((e.data as any).reasons[0].code).toBe('gateway.method_not_allowed');
  });

  test('the agent does not see the upstream through the gateway for anything but tools', async () => {
    const c = await connect('/crm/mcp');
    expect(c.getServerCapabilities()?.tools).toBeDefined();
    expect(c.getServerCapabilities()?.resources).toBeUndefined();
    expect(c.getServerVersion()?.name).toBe('crm');
  });
});

describe('MCP gateway with the PDP stopped', () => {
  test('calls and listings fail closed with -32603 and nothing reaches the server', async () => {
    const pdp = await startFakePdp(() => allow());
    const demo = await startDemoMcpServer({ servers: ['support'] });
    const gw = await startGateway({ upstreams: [{ url: demo.endpoint('support'), serverName: 'support' }], pdp: { url: pdp.url, timeoutMs: 500, retries: 0 } });
    const c = new Client({ name: 't', version: '1' });
    try {
      await c.connect(new StreamableHTTPClientTransport(new URL(gw.url + '/mcp')));
      const before: any = await c.callTool({ name: 'kb.search', arguments: { query: 'refund' } });
      expect(before.structuredContent.query).toBe('refund');
      await pdp.close();
      const e: any = await c.callTool({ name: 'kb.search', arguments: { query: 'refund' } }).catch((x) => x);
      expect(e).toBeInstanceOf(McpError);
      expect(e.code).toBe(-32603);
      expect(e.data.reasons[0].code).toBe('pdp.unavailable');
      const l: any = await c.listTools().catch((x) => x);
      expect(l.code).toBe(-32603);
      expect(demo.calls).toHaveLength(1); // only the call made while the PDP was up
    } finally {
      await c.close();
      await gw.close();
      await demo.close();
    }
  });

  test('an upstream that is down refuses the session with a clear error', async () => {
    const pdp = await startFakePdp(() => allow());
    const gw = await startGateway({ upstreams: [{ url: 'http://127.0.0.1:1/mcp', serverName: 'x' }], pdp: { url: pdp.url } });
    const c = new Client({ name: 't', version: '1' });
    try {
      await expect(c.connect(new StreamableHTTPClientTransport(new URL(gw.url + '/mcp')))).rejects.toThrow(/upstream MCP server unavailable/);
    } finally {
      await c.close();
      await gw.close();
      await pdp.close();
    }
  });
});
