/**
 * `pdp gateway`: run the MCP gateway (a Streamable HTTP MCP proxy that asks the PDP before every
 * tool call). See docs/enforcement-points.md.
 */
import { startGateway, GatewayRoute } from '../../pep/gateway/gateway';
import type { IdentityHeaderNames } from '../../pep/gateway/identity';

export const summary = 'run the MCP gateway: an MCP proxy that asks the PDP before every tool call';

const USAGE = `usage: pdp gateway --upstream <url | name=url> --pdp <url> [options]

  --upstream <url>          upstream MCP server (Streamable HTTP); agents connect to /mcp
  --upstream <name>=<url>   several upstreams: each at /<name>/mcp, tool.server = <name>
  --server-name <name>      tool.server for a single --upstream <url>
                            (default: the upstream's serverInfo.name)
  --pdp <url>               the PDP base URL, e.g. http://localhost:8181
  --pdp-api-key <key>       the gateway's credential for the PDP (or env PDP_API_KEY)
  --pdp-timeout-ms <n>      budget per decision, retries included (default 2000)
  --port <n>                listen port (default 8080); --host <addr> (default 127.0.0.1)
  --upstream-header 'Name: value'   static header sent upstream (repeatable)
  --user-token-header <h>   default authorization (Bearer)
  --agent-token-header <h>  default x-agent-token
  --task-token-header <h>   default x-task-token
  --approval-header <h>     default x-pdp-approval: a person's approval token, verified by the PDP
  --quiet                   no decision log lines on stderr
`;

interface Parsed {
  upstreams: GatewayRoute[];
  pdp?: string;
  apiKey?: string;
  timeoutMs?: number;
  port: number;
  host: string;
  headers: Partial<IdentityHeaderNames>;
  quiet: boolean;
}

export function parseGatewayArgs(args: string[], env: NodeJS.ProcessEnv = process.env): Parsed {
  const p: Parsed = { upstreams: [], port: 8080, host: '127.0.0.1', headers: {}, quiet: false, apiKey: env.PDP_API_KEY || undefined };
  const upstreamHeaders: Record<string, string> = {};
  let serverName: string | undefined;
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string => {
      const v = inline ?? args[++i];
      if (v === undefined || v === '') throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--upstream': {
        const v = value();
        const m = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=(https?:\/\/.+)$/.exec(v);
        const url = m ? m[2] : v;
        try {
          const u = new URL(url);
          if (u.protocol !== 'http:' && u.protocol !== 'https:') throw new Error();
        } catch {
          throw new Error(`--upstream: not an http(s) URL: ${url}`);
        }
        p.upstreams.push(m ? { url, serverName: m[1] } : { url });
        break;
      }
      case '--server-name':
        serverName = value();
        break;
      case '--pdp':
        p.pdp = value();
        break;
      case '--pdp-api-key':
        p.apiKey = value();
        break;
      case '--pdp-timeout-ms': {
        const n = Number(value());
        if (!Number.isInteger(n) || n <= 0) throw new Error('--pdp-timeout-ms must be a positive integer');
        p.timeoutMs = n;
        break;
      }
      case '--port': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new Error('--port must be 0..65535');
        p.port = n;
        break;
      }
      case '--host':
        p.host = value();
        break;
      case '--upstream-header': {
        const v = value();
        const idx = v.indexOf(':');
        if (idx <= 0) throw new Error(`--upstream-header must be 'Name: value', got ${JSON.stringify(v)}`);
        upstreamHeaders[v.slice(0, idx).trim().toLowerCase()] = v.slice(idx + 1).trim();
        break;
      }
      case '--user-token-header':
        p.headers.userToken = value().toLowerCase();
        break;
      case '--agent-token-header':
        p.headers.agentToken = value().toLowerCase();
        break;
      case '--task-token-header':
        p.headers.taskToken = value().toLowerCase();
        break;
      case '--approval-header':
        p.headers.approval = value().toLowerCase();
        break;
      case '--quiet':
        p.quiet = true;
        break;
      default:
        throw new Error(`unknown option ${a}`);
    }
  }
  if (p.upstreams.length === 0) throw new Error('--upstream is required');
  if (!p.pdp) throw new Error('--pdp is required');
  if (serverName !== undefined) {
    if (p.upstreams.length !== 1 || p.upstreams[0].serverName) throw new Error('--server-name goes with a single --upstream <url> (use name=url for several)');
    p.upstreams[0].serverName = serverName;
  }
  if (p.upstreams.length > 1 && p.upstreams.some((u) => !u.serverName)) throw new Error('with several upstreams, name each one: --upstream name=url');
  if (Object.keys(upstreamHeaders).length) for (const u of p.upstreams) u.headers = { ...upstreamHeaders };
  return p;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  let parsed: Parsed;
  try {
    parsed = parseGatewayArgs(args);
  } catch (e) {
    process.stderr.write(`pdp gateway: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  const log = parsed.quiet ? undefined : (ev: Record<string, unknown>) => process.stderr.write(JSON.stringify({ time: new Date().toISOString(), ...ev }) + '\n');
  let gw;
  try {
    gw = await startGateway({
      upstreams: parsed.upstreams,
      pdp: { url: parsed.pdp!, apiKey: parsed.apiKey, timeoutMs: parsed.timeoutMs },
      port: parsed.port,
      host: parsed.host,
      headers: parsed.headers,
      log,
    });
  } catch (e) {
    process.stderr.write(`pdp gateway: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  for (const path of gw.paths) process.stdout.write(`pdp gateway: MCP endpoint ${gw.url}${path}\n`);
  process.stdout.write(`pdp gateway: deciding with ${parsed.pdp}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await gw.close();
  return 0;
}
