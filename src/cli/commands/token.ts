/**
 * `pdp token` — mint a signed token for local testing (never for production):
 *   pdp token --key ./keys/idp.private.pem --sub u-42 [--iss https://idp.example.com] [--aud pdp]
 *             [--kind user|agent|task|txn] [--act bot,planner] [--scope '{"tools":["billing/*"]}']
 *             [--tools a,b] [--data-domains billing] [--constraints '{"max_amount":200}']
 *             [--ttl 600 | --exp 1h] [--kid <kid>] [--alg ES256] [--typ <typ>] [--claim name=value]...
 * `--act` lists actors current-first and becomes nested RFC 8693 `act` claims. `--kind task` needs a scope;
 * `--kind txn` adds a `txn` id. The header's `typ` names the kind (user+jwt, agent+jwt, task+jwt,
 * txntoken+jwt; `--typ` overrides it). kid/alg default to the first key of the
 * `<name>.jwks.json` next to `<name>.private.pem`.
 */
import * as fs from 'fs';
import { randomUUID, createPrivateKey } from 'crypto';
import { SignJWT } from 'jose';
import { KIND_TYP } from '../../identity/verify';
import { toLowS } from '../../identity/ecdsa';
import type { TokenKind } from '../../identity/types';

export const summary = 'mint a signed user/agent/task/txn token for local testing (--sub, --act, --scope)';

const USAGE = `usage: pdp token --key <private.pem> --sub <subject> [--kind user|agent|task|txn|caller]
                 [--iss URL] [--aud AUD] [--act bot,planner] [--scope JSON] [--tools a,b]
                 [--data-domains d] [--constraints JSON] [--txn ID] [--ttl SECONDS | --exp 10m|1h|2d]
                 [--kid KID] [--alg ALG] [--jwks FILE] [--claim name=value]...
`;

/** Every option `pdp token` reads: any other is refused rather than silently ignored. */
const OPTIONS = new Set(['key', 'sub', 'kind', 'iss', 'aud', 'act', 'scope', 'tools', 'data-domains', 'constraints', 'txn', 'ttl', 'exp', 'kid', 'alg', 'jwks', 'claim']);

interface Parsed { opts: Record<string, string>; claims: [string, string][] }

function parse(args: string[]): Parsed | string {
  const opts: Record<string, string> = {};
  const claims: [string, string][] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('--')) return `unexpected argument ${a}`;
    let [k, v] = a.slice(2).split(/=(.*)/s, 2) as [string, string | undefined];
    if (!OPTIONS.has(k)) return `unknown option --${k}`;
    if (v === undefined) {
      if (i + 1 >= args.length) return `--${k} needs a value`;
      v = args[++i];
    }
    if (k === 'claim') {
      const eq = v.indexOf('=');
      if (eq <= 0) return `--claim must be name=value (got ${v})`;
      claims.push([v.slice(0, eq), v.slice(eq + 1)]);
    } else opts[k] = v;
  }
  return { opts, claims };
}

function jsonOrString(v: string): unknown {
  try {
    return JSON.parse(v);
  } catch {
    return v;
  }
}

const list = (v: string | undefined) => (v === undefined ? undefined : v.split(',').map((s) => s.trim()).filter(Boolean));

/** Seconds from "600", "90s", "15m", "1h" or "2d" (negative: an already expired token); else undefined. */
export function durationSeconds(v: string): number | undefined {
  const m = /^(-?\d+)([smhd]?)$/.exec(v.trim());
  if (!m) return undefined;
  return Number(m[1]) * { '': 1, s: 1, m: 60, h: 3600, d: 86400 }[m[2] as '' | 's' | 'm' | 'h' | 'd'];
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const p = parse(args);
  if (typeof p === 'string') {
    process.stderr.write(`pdp token: ${p}\n${USAGE}`);
    return 2;
  }
  const { opts, claims: extra } = p;
  const kind = opts.kind ?? 'user';
  if (!['user', 'agent', 'task', 'txn', 'caller'].includes(kind)) {
    process.stderr.write('pdp token: --kind must be user, agent, task, txn or caller\n');
    return 2;
  }
  if (!opts.key || !opts.sub) {
    process.stderr.write('pdp token: --key <private.pem> and --sub <subject> are required\n');
    return 2;
  }
  let keyPem: string;
  try {
    keyPem = fs.readFileSync(opts.key, 'utf8');
  } catch (e) {
    process.stderr.write(`pdp token: cannot read --key ${opts.key}: ${(e as Error).message}\n`);
    return 1;
  }
  let kid = opts.kid;
  let alg = opts.alg;
  const jwksPath = opts.jwks ?? opts.key.replace(/\.private\.pem$/, '.jwks.json');
  if ((!kid || !alg) && jwksPath !== opts.key && fs.existsSync(jwksPath)) {
    const first = (JSON.parse(fs.readFileSync(jwksPath, 'utf8')).keys ?? [])[0] ?? {};
    kid = kid ?? first.kid;
    alg = alg ?? first.alg;
  }
  alg = alg ?? 'ES256';

  const payload: Record<string, unknown> = { sub: opts.sub, jti: randomUUID() };
  const actors = list(opts.act);
  if (actors && actors.length > 0) {
    let act: Record<string, unknown> | undefined;
    for (const sub of [...actors].reverse()) act = act ? { sub, act } : { sub };
    payload.act = act;
  }
  let scope: unknown;
  if (opts.scope !== undefined) scope = jsonOrString(opts.scope);
  if (opts.tools !== undefined || opts['data-domains'] !== undefined || opts.constraints !== undefined) {
    const s: Record<string, unknown> = typeof scope === 'object' && scope !== null ? { ...(scope as object) } : {};
    if (opts.tools !== undefined) s.tools = list(opts.tools);
    if (opts['data-domains'] !== undefined) s.data_domains = list(opts['data-domains']);
    if (opts.constraints !== undefined) s.constraints = jsonOrString(opts.constraints);
    scope = s;
  }
  if (kind === 'task' && (typeof scope !== 'object' || scope === null)) {
    process.stderr.write('pdp token: --kind task needs --scope <json> or --tools/--data-domains/--constraints\n');
    return 2;
  }
  if (scope !== undefined) payload.scope = scope;
  if (kind === 'txn') payload.txn = opts.txn ?? randomUUID();
  for (const [k, v] of extra) payload[k] = jsonOrString(v);

  if (opts.ttl !== undefined && opts.exp !== undefined) {
    process.stderr.write('pdp token: give --ttl or --exp, not both (they set the same expiry)\n');
    return 2;
  }
  const lifetime = opts.exp ?? opts.ttl;
  const ttl = lifetime === undefined ? 600 : durationSeconds(lifetime);
  if (ttl === undefined) {
    process.stderr.write(`pdp token: --${opts.exp !== undefined ? 'exp' : 'ttl'} must be seconds or a duration like 90s, 15m, 1h, 2d (got ${lifetime})\n`);
    return 2;
  }
  // each kind's own typ (docs/identity.md, "Token kinds"): an issuer trusted for several kinds needs it
  const header: Record<string, unknown> = { alg, ...(kid ? { kid } : {}), typ: opts.typ ?? KIND_TYP[kind as TokenKind] ?? 'JWT' };
  try {
    const jwt = await new SignJWT(payload)
      .setProtectedHeader(header as { alg: string })
      .setIssuer(opts.iss ?? 'https://idp.example.com')
      .setAudience(opts.aud ?? 'pdp')
      .setIssuedAt()
      .setExpirationTime(Math.floor(Date.now() / 1000) + ttl)
      .sign(createPrivateKey(keyPem));
    // one text per token: low-S, so it passes identity.require_low_s too (src/identity/ecdsa.ts)
    process.stdout.write(toLowS(alg, jwt) + '\n');
    return 0;
  } catch (e) {
    process.stderr.write(`pdp token: cannot sign: ${(e as Error).message}\n`);
    return 1;
  }
}
