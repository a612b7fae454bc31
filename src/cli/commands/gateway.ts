/**
 * `pdp gateway`: run the MCP gateway (a Streamable HTTP MCP proxy that asks the PDP before every
 * tool call). See docs/enforcement-points.md.
 */
import * as fs from 'fs';
import { startGateway, GatewayRoute } from '../../pep/gateway/gateway';
import type { IdentityHeaderNames } from '../../pep/gateway/identity';
import type { AuthorizationServer, GatewayAuthOptions } from '../../pep/gateway/oauth';

export const summary = 'run the MCP gateway: an MCP proxy that asks the PDP before every tool call';

const USAGE = `usage: pdp gateway --upstream <url | name=url> --pdp <url> [options]
       pdp gateway --upstream-command <'cmd args' | 'name=cmd args'> --pdp <url> [options]

  --upstream <url>          upstream MCP server (Streamable HTTP); agents connect to /mcp
  --upstream <name>=<url>   several upstreams: each at /<name>/mcp, tool.server = <name>
  --upstream-command <cmd>  upstream MCP server run as a process speaking stdio, one per agent
                            session ('name=cmd args' to name it); split like a shell would, but no
                            shell runs it; it gets PATH, HOME and the like, not the gateway's env
  --upstream-env NAME=value environment for --upstream-command processes (repeatable)
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
  --auth-server <issuer>    MCP authorization: require an access token from this authorization
                            server (repeatable); without one, 401 + WWW-Authenticate resource_metadata
  --auth-jwks <url|file>    the keys of the --auth-server just before it (required for each)
  --auth-scope <scope>      scope every token must carry, advertised in the metadata (repeatable)
  --public-url <origin>     the gateway's origin as agents reach it, e.g. https://gw.example.com
                            (names the resources; default http://<host>:<port>)
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
  auth?: GatewayAuthOptions;
  publicUrl?: string;
}

const NAME = /^([A-Za-z0-9][A-Za-z0-9_.-]*)=/;

export function parseGatewayArgs(args: string[], env: NodeJS.ProcessEnv = process.env): Parsed {
  const p: Parsed = { upstreams: [], port: 8080, host: '127.0.0.1', headers: {}, quiet: false, apiKey: env.PDP_API_KEY || undefined };
  const upstreamHeaders: Record<string, string> = {};
  const upstreamEnv: Record<string, string> = {};
  const authServers: AuthorizationServer[] = [];
  const scopes: string[] = [];
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
      case '--upstream-command': {
        const v = value();
        const m = NAME.exec(v);
        const words = splitCommand(m ? v.slice(m[0].length) : v);
        if (words.length === 0) throw new Error('--upstream-command: no command given');
        p.upstreams.push({ command: words[0], args: words.slice(1), ...(m ? { serverName: m[1] } : {}) });
        break;
      }
      case '--upstream-env': {
        const v = value();
        const idx = v.indexOf('=');
        if (idx <= 0 || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(v.slice(0, idx))) throw new Error(`--upstream-env must be NAME=value, got ${JSON.stringify(v)}`);
        upstreamEnv[v.slice(0, idx)] = v.slice(idx + 1);
        break;
      }
      case '--auth-server': {
        const v = value();
        try {
          new URL(v);
        } catch {
          throw new Error(`--auth-server: not a URL: ${v}`);
        }
        authServers.push({ issuer: v });
        break;
      }
      case '--auth-jwks': {
        const v = value();
        const last = authServers[authServers.length - 1];
        if (!last || last.jwks_uri || last.jwks_file) throw new Error('--auth-jwks goes right after its --auth-server (one each)');
        if (/^https?:\/\//.test(v)) last.jwks_uri = v;
        else if (fs.existsSync(v)) last.jwks_file = v;
        else throw new Error(`--auth-jwks: neither an http(s) URL nor a file: ${v}`);
        break;
      }
      case '--auth-scope':
        scopes.push(value());
        break;
      case '--public-url':
        p.publicUrl = value();
        break;
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
  if (p.upstreams.length === 0) throw new Error('--upstream or --upstream-command is required');
  if (!p.pdp) throw new Error('--pdp is required');
  if (serverName !== undefined) {
    if (p.upstreams.length !== 1 || p.upstreams[0].serverName) throw new Error('--server-name goes with a single upstream (use name=... for several)');
    p.upstreams[0].serverName = serverName;
  }
  if (p.upstreams.length > 1 && p.upstreams.some((u) => !u.serverName)) throw new Error('with several upstreams, name each one: --upstream name=url, --upstream-command name=cmd');
  if (Object.keys(upstreamHeaders).length) {
    if (p.upstreams.some((u) => u.command)) throw new Error('--upstream-header goes with HTTP upstreams only');
    for (const u of p.upstreams) u.headers = { ...upstreamHeaders };
  }
  if (Object.keys(upstreamEnv).length) {
    if (!p.upstreams.some((u) => u.command)) throw new Error('--upstream-env goes with --upstream-command');
    for (const u of p.upstreams) if (u.command) u.env = { ...upstreamEnv };
  }
  if (authServers.length) {
    const keyless = authServers.find((a) => !a.jwks_uri && !a.jwks_file);
    if (keyless) throw new Error(`--auth-server ${keyless.issuer} needs its --auth-jwks`);
    if (p.headers.userToken && p.headers.userToken !== 'authorization') throw new Error('--auth-server takes the token from Authorization: drop --user-token-header');
    p.auth = { authorizationServers: authServers, ...(scopes.length ? { scopes } : {}) };
  } else if (scopes.length) {
    throw new Error('--auth-scope goes with --auth-server');
  }
  return p;
}

/**
 * Splits a command line into words as a POSIX shell would for plain words, 'single' and "double"
 * quotes and backslash escapes; nothing is expanded ($VAR, globs, ~) and no shell ever runs it.
 */
export function splitCommand(line: string): string[] {
  const words: string[] = [];
  let word: string | undefined;
  let quote: '"' | "'" | undefined;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quote === "'") {
      if (c === "'") quote = undefined;
      else word += c;
    } else if (c === '\\' && i + 1 < line.length && (quote === undefined || '"\\$`'.includes(line[i + 1]))) {
      word = (word ?? '') + line[++i];
    } else if (quote === '"') {
      if (c === '"') quote = undefined;
      else word += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      word = word ?? '';
    } else if (/\s/.test(c)) {
      if (word !== undefined) words.push(word);
      word = undefined;
    } else {
      word = (word ?? '') + c;
    }
  }
  if (quote) throw new Error(`unterminated ${quote} quote in command: ${line}`);
  if (word !== undefined) words.push(word);
  return words;
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
      ...(parsed.auth ? { auth: parsed.auth } : {}),
      ...(parsed.publicUrl ? { publicUrl: parsed.publicUrl } : {}),
      log,
    });
  } catch (e) {
    process.stderr.write(`pdp gateway: cannot start: ${(e as Error).message}\n`);
    return 1;
  }
  for (const path of gw.paths) process.stdout.write(`pdp gateway: MCP endpoint ${gw.url}${path}\n`);
  process.stdout.write(`pdp gateway: health ${gw.url}/health, metrics ${gw.url}/metrics\n`);
  if (parsed.auth) process.stdout.write(`pdp gateway: requires access tokens from ${parsed.auth.authorizationServers.map((a) => a.issuer).join(', ')}\n`);
  process.stdout.write(`pdp gateway: deciding with ${parsed.pdp}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => resolve();
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
  });
  await gw.close();
  return 0;
}
