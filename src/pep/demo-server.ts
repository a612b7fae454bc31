/**
 * A demo MCP server (built on the SDK's `McpServer`) with the billing, crm and support tools of the
 * default policy's catalog (rego/estate/catalog). Each server is mounted at `/<server>/mcp`. It
 * returns canned data that includes personal fields (email, phone, iban, card_last4, customer_email)
 * so redaction is visible; each tool's catalog `pii_fields` must name exactly the personal fields its
 * answer carries (test/policy/catalog-pii.test.ts checks both directions).
 * Used by `npm run demo` and by the gateway's end-to-end tests.
 */
import * as http from 'http';
import type { AddressInfo } from 'net';
import { randomUUID } from 'crypto';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { verifyTxnToken, type TxnTokenResult, type TxnTokenVerifyOptions } from './txn-token-verify';

export interface ToolCallSeen {
  server: string;
  tool: string;
  arguments: Record<string, unknown>;
  /** with `txnToken` configured: what verifying the call's Txn-Token found (a refused call did not run) */
  txn?: TxnTokenResult;
}

type Access = 'read' | 'write' | 'destructive';
interface DemoTool {
  description: string;
  access: Access;
  input: Record<string, z.ZodType>;
  answer: (args: Record<string, any>) => Record<string, unknown>;
}

const str = () => z.string();
const num = () => z.number();

export const DEMO_TOOLS: Record<string, Record<string, DemoTool>> = {
  billing: {
    'refunds.lookup': {
      description: 'Refunds of a customer',
      access: 'read',
      input: { customer_id: str(), view: str().optional() },
      answer: (a) => ({ customer_id: a.customer_id, refunds: [{ id: 'rf-1', amount: 40, currency: 'EUR', iban: 'DE89370400440532013000' }] }),
    },
    'refunds.create': {
      description: 'Refund a customer',
      access: 'write',
      input: { customer_id: str(), amount: num(), currency: str(), reason: str().optional() },
      answer: (a) => ({ refund_id: `rf-${Math.floor(a.amount * 100)}`, status: 'created', customer_id: a.customer_id, amount: a.amount, currency: a.currency }),
    },
    'invoices.export': {
      description: 'Export invoices of a tenant',
      access: 'read',
      input: { tenant: str(), max_records: num(), format: str().optional(), since: str().optional() },
      answer: (a) => ({ tenant: a.tenant, invoices: [{ id: 'inv-1', total: 120, iban: 'DE89370400440532013000', card_last4: '4242' }] }),
    },
  },
  crm: {
    'contacts.search': {
      description: 'Search customer contacts',
      access: 'read',
      input: { query: str(), limit: num().optional() },
      answer: (a) => ({ query: a.query, contacts: [{ id: 'ct-1', name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000' }] }),
    },
    'contacts.update': {
      description: 'Update a contact',
      access: 'write',
      input: { contact_id: str(), fields: z.record(z.string(), z.unknown()) },
      answer: (a) => ({ contact_id: a.contact_id, updated: Object.keys(a.fields ?? {}) }),
    },
    'contacts.export': {
      description: 'Export contacts of a tenant',
      access: 'read',
      input: { tenant: str(), max_records: num(), format: str().optional() },
      answer: (a) => ({ tenant: a.tenant, contacts: [{ id: 'ct-1', name: 'Ada Lovelace', email: 'ada@example.com', phone: '+44 20 7946 0000' }] }),
    },
    'contacts.delete': {
      description: 'Delete a contact',
      access: 'destructive',
      input: { contact_id: str() },
      answer: (a) => ({ contact_id: a.contact_id, deleted: true }),
    },
  },
  support: {
    'tickets.read': {
      description: 'Read a support ticket',
      access: 'read',
      input: { ticket_id: str() },
      answer: (a) => ({ ticket_id: a.ticket_id, subject: 'Refund not received', customer_email: 'ada@example.com' }),
    },
    'tickets.reply': {
      description: 'Reply to a support ticket',
      access: 'write',
      input: { ticket_id: str(), body: str(), visibility: str().optional() },
      answer: (a) => ({ ticket_id: a.ticket_id, reply_id: 'rp-1', visibility: a.visibility ?? 'public' }),
    },
    'kb.search': {
      description: 'Search the public help centre',
      access: 'read',
      input: { query: str() },
      answer: (a) => ({ query: a.query, articles: [{ id: 'kb-7', title: 'How refunds work' }] }),
    },
  },
};

/**
 * An McpServer for one demo server name; `onCall` sees every call that reaches a tool. With `txnToken`,
 * every call must come with a valid Txn-Token for it (src/pep/txn-token-verify.ts), or the tool refuses.
 */
export function createDemoMcpServer(server: string, onCall: (c: ToolCallSeen) => void = () => undefined, txnToken?: TxnTokenVerifyOptions): McpServer {
  const tools = DEMO_TOOLS[server];
  if (!tools) throw new Error(`no demo server ${server}; have ${Object.keys(DEMO_TOOLS).join(', ')}`);
  const mcp = new McpServer({ name: server, version: '1.0.0' }, { instructions: `Demo ${server} tools (canned data).` });
  for (const [name, t] of Object.entries(tools)) {
    mcp.registerTool(
      name,
      {
        description: t.description,
        inputSchema: t.input,
        annotations: { readOnlyHint: t.access === 'read', destructiveHint: t.access === 'destructive' },
      },
      async (args: Record<string, unknown>, extra: { requestInfo?: { headers: Record<string, string | string[] | undefined> } }) => {
        if (txnToken) {
          const txn = await verifyTxnToken(extra.requestInfo?.headers['txn-token'], { server, name, arguments: args }, txnToken);
          onCall({ server, tool: name, arguments: args, txn });
          if (!txn.ok) return { isError: true, content: [{ type: 'text' as const, text: `refused: Txn-Token ${txn.reason}: ${txn.message}` }] };
        } else onCall({ server, tool: name, arguments: args });
        const out = t.answer(args);
        return { content: [{ type: 'text' as const, text: JSON.stringify(out) }], structuredContent: out };
      },
    );
  }
  return mcp;
}

export interface RunningDemoServer {
  url: string;
  /** `${url}/<server>/mcp` */
  endpoint(server: string): string;
  calls: ToolCallSeen[];
  close(): Promise<void>;
}

/** Serves every demo server (or the listed ones) on one port, at `/<server>/mcp`, stateful sessions. */
export async function startDemoMcpServer(
  opts: { port?: number; host?: string; servers?: string[]; txnToken?: TxnTokenVerifyOptions; onCall?: (c: ToolCallSeen) => void } = {},
): Promise<RunningDemoServer> {
  const names = opts.servers ?? Object.keys(DEMO_TOOLS);
  const calls: ToolCallSeen[] = [];
  const sessions = new Map<string, { transport: StreamableHTTPServerTransport; mcp: McpServer }>();
  const httpServer = http.createServer(async (req, res) => {
    try {
      const path = new URL(req.url ?? '/', 'http://demo').pathname;
      const m = /^\/([a-z]+)\/mcp$/.exec(path);
      if (!m || !names.includes(m[1])) {
        res.writeHead(404).end();
        return;
      }
      let body: unknown;
      if (req.method === 'POST') {
        const chunks: Buffer[] = [];
        for await (const c of req) chunks.push(c as Buffer);
        body = JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null');
      }
      const sid = req.headers['mcp-session-id'];
      const existing = typeof sid === 'string' ? sessions.get(sid) : undefined;
      if (existing) {
        await existing.transport.handleRequest(req, res, body);
        return;
      }
      if (sid || !isInitializeRequest(body)) {
        res.writeHead(sid ? 404 : 400, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ jsonrpc: '2.0', id: null, error: { code: -32000, message: 'no valid session' } }));
        return;
      }
      const mcp = createDemoMcpServer(m[1], (c) => {
        calls.push(c);
        opts.onCall?.(c);
      }, opts.txnToken);
      const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
        sessionIdGenerator: () => randomUUID(),
        onsessioninitialized: (id) => void sessions.set(id, { transport, mcp }),
      });
      transport.onclose = () => {
        if (transport.sessionId) sessions.delete(transport.sessionId);
      };
      await mcp.connect(transport);
      await transport.handleRequest(req, res, body);
    } catch (e) {
      if (!res.headersSent) res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error: String((e as Error).message) }));
    }
  });
  await new Promise<void>((r) => httpServer.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => r()));
  const url = `http://${opts.host ?? '127.0.0.1'}:${(httpServer.address() as AddressInfo).port}`;
  return {
    url,
    endpoint: (server) => `${url}/${server}/mcp`,
    calls,
    async close() {
      await Promise.allSettled([...sessions.values()].map((s) => s.mcp.close()));
      sessions.clear();
      httpServer.closeAllConnections();
      await new Promise<void>((r) => httpServer.close(() => r()));
    },
  };
}
