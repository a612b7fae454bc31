/**
 * The upstream side of a gateway session: which MCP server, and the SDK client transport that reaches
 * it. This is the only place that knows whether an upstream speaks Streamable HTTP or runs as a local
 * process on stdio; the session above decides every request the same way for both.
 *
 * @example
 * const client = await connectUpstream({ command: 'node', args: ['server.js'], serverName: 'files' }, onExit);
 */
import { AsyncLocalStorage } from 'async_hooks';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { getDefaultEnvironment, StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import { ErrorCode, McpError } from '@modelcontextprotocol/sdk/types.js';

export const GATEWAY_VERSION = '0.1.0';

/** One upstream MCP server behind the gateway: exactly one of `url` (Streamable HTTP) or `command` (stdio). */
export interface UpstreamRoute {
  /** Streamable HTTP URL of the upstream MCP server */
  url?: string;
  /** a program to spawn per agent session, speaking MCP on its stdin/stdout (no shell is involved) */
  command?: string;
  args?: string[];
  /** added to the child's environment, which is otherwise only the SDK's safe set (PATH, HOME, …): never the gateway's secrets */
  env?: Record<string, string>;
  cwd?: string;
  /** `tool.server` in decision inputs; default: the upstream's `serverInfo.name` */
  serverName?: string;
  /** HTTP only: static headers sent upstream (e.g. the gateway's own credential); the agent's Authorization is not forwarded */
  headers?: Record<string, string>;
}

/** Checks a route's shape at start, so a mistake fails there and not on the first agent. */
export function checkUpstream(r: UpstreamRoute): void {
  if ((r.url === undefined) === (r.command === undefined)) throw new Error('gateway: an upstream needs exactly one of url or command');
  if (r.url !== undefined) {
    const u = new URL(r.url); // throws "Invalid URL"
    if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error(`gateway: upstream ${r.url} is not an http(s) URL`);
  } else if (r.command!.trim() === '') {
    throw new Error('gateway: an upstream command must not be empty');
  } else if (r.headers && Object.keys(r.headers).length) {
    throw new Error(`gateway: upstream headers go with an HTTP upstream, not with the command ${r.command}`);
  }
}

/** How the upstream is named in logs and metrics when it has no server name (yet). */
export function describeUpstream(r: UpstreamRoute): string {
  return r.url ?? [r.command, ...(r.args ?? [])].join(' ');
}

/**
 * The Txn-Token of the upstream request being sent, if any. The SDK client has no per-request headers, so
 * the call that forwards a tools/call runs inside this scope and the HTTP transport's fetch adds the
 * header: only that one request carries it, never the session's other traffic. A stdio upstream has no
 * headers and gets no Txn-Token.
 */
const txnTokenScope = new AsyncLocalStorage<string>();

export function withTxnToken<T>(token: string | undefined, run: () => Promise<T>): Promise<T> {
  return token === undefined ? run() : txnTokenScope.run(token, run);
}

const fetchWithTxnToken: typeof fetch = (url, init) => {
  const token = txnTokenScope.getStore();
  if (token === undefined) return fetch(url, init);
  const headers = new Headers(init?.headers);
  headers.set('txn-token', token);
  return fetch(url, { ...init, headers });
};

function transportFor(r: UpstreamRoute): Transport {
  if (r.url !== undefined) {
    return new StreamableHTTPClientTransport(new URL(r.url), { requestInit: { headers: r.headers ?? {} }, fetch: fetchWithTxnToken });
  }
  // stderr is inherited: the upstream's own diagnostics land next to the gateway's log
  return new StdioClientTransport({ command: r.command!, args: r.args ?? [], env: { ...getDefaultEnvironment(), ...r.env }, ...(r.cwd ? { cwd: r.cwd } : {}), stderr: 'inherit' });
}

/**
 * An SDK Client connected (initialized) to the upstream. `onGone` runs once if the connection ends
 * without the gateway closing it (the process exited, the HTTP stream failed for good).
 */
export async function connectUpstream(r: UpstreamRoute, onGone: () => void): Promise<Client> {
  const client = new Client({ name: 'pdp-gateway', version: GATEWAY_VERSION }, { capabilities: {} });
  client.onclose = onGone;
  try {
    await client.connect(transportFor(r));
  } catch (e) {
    // the SDK's "Connection closed" says little; for a process it means the program ended (or closed stdout) first
    if (r.command !== undefined && e instanceof McpError && e.code === ErrorCode.ConnectionClosed) {
      throw new Error(`the upstream process (${describeUpstream(r)}) exited before completing initialize; see its stderr`);
    }
    throw e;
  }
  return client;
}
