/**
 * Caller (PEP) authentication: who is asking the PDP. Modes:
 *  - `none`: anonymous callers, allowed only when the server listens on a loopback address (refused at
 *    construction otherwise) and logged as a warning at start.
 *  - `api_key`: `Authorization: Bearer <key>` or the bare key (as AuthZEN interop clients send it);
 *    keys are stored in config only as `sha256:<hex>` hashes and compared in constant time.
 *  - `jwt`: client-credentials JWTs verified with jose against trusted issuers (same issuer shape as
 *    `identity.issuers`).
 *  - `mtls`: the TLS peer certificate, verified by the TLS layer against `tls.client_ca_file`.
 * `mode` may be one mode or a list; the first that accepts the request wins. Failures are 401 with a
 * `WWW-Authenticate` challenge.
 *
 * @example
 *   const auth = createCallerAuth({ mode: 'api_key', api_keys: [{ id: 'gw', hash: hashApiKey(k) }] },
 *                                 { address: '0.0.0.0', tls: false });
 *   const r = await auth.authenticate(req);  // { ok: true, caller } | { ok: false, status: 401, … }
 */
import { createHash, timingSafeEqual } from 'crypto';
import type { IncomingMessage } from 'http';
import type { TLSSocket } from 'tls';
import { TokenVerifier } from '../identity/verify';
import { issuerSchema, assertValid } from '../identity/schema';
import type { CallerIdentity, IssuerConfig } from '../identity/types';
import type { CallerAuth, CallerAuthResult } from './types';

export type AuthMode = 'none' | 'api_key' | 'jwt' | 'mtls';

export interface AuthenticationConfig {
  mode?: AuthMode | AuthMode[];
  api_keys?: { id: string; hash: string }[];
  jwt?: { issuers: IssuerConfig[]; clock_skew_seconds?: number };
  mtls?: { allowed_subjects?: string[] };
}

export const authenticationConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    mode: {
      anyOf: [
        { enum: ['none', 'api_key', 'jwt', 'mtls'] },
        { type: 'array', minItems: 1, uniqueItems: true, items: { enum: ['none', 'api_key', 'jwt', 'mtls'] } },
      ],
    },
    api_keys: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['id', 'hash'],
        properties: {
          id: { type: 'string', minLength: 1 },
          hash: { type: 'string', pattern: '^sha256:[0-9a-f]{64}$' },
        },
      },
    },
    jwt: {
      type: 'object',
      additionalProperties: false,
      required: ['issuers'],
      properties: {
        issuers: { type: 'array', minItems: 1, items: issuerSchema },
        clock_skew_seconds: { type: 'number', minimum: 0, maximum: 600 },
      },
    },
    mtls: {
      type: 'object',
      additionalProperties: false,
      properties: { allowed_subjects: { type: 'array', items: { type: 'string', minLength: 1 } } },
    },
  },
} as const;

/** The stored form of an API key: `sha256:<hex>`. Keys are random, so a fast hash is enough. */
export function hashApiKey(key: string): string {
  return 'sha256:' + createHash('sha256').update(key, 'utf8').digest('hex');
}

/** True for addresses only this host can reach. */
export function isLoopbackAddress(address: string): boolean {
  const a = address.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return a === 'localhost' || a === '::1' || /^127\.\d+\.\d+\.\d+$/.test(a) || /^::ffff:127\.\d+\.\d+\.\d+$/.test(a);
}

const REALM = 'realm="pdp"';
const quote = (s: string) => s.replace(/["\\]/g, "'");

export function createCallerAuth(
  config: AuthenticationConfig | undefined,
  listen: { address: string; tls: boolean },
  log: (msg: string) => void = (m) => process.stderr.write(m + '\n'),
): CallerAuth {
  const cfg: AuthenticationConfig = config ?? {};
  assertValid(authenticationConfigSchema, cfg, 'authentication');
  const modes: AuthMode[] = cfg.mode === undefined ? ['none'] : Array.isArray(cfg.mode) ? cfg.mode : [cfg.mode];

  if (modes.includes('none')) {
    if (modes.length > 1) throw new Error('authentication: mode "none" cannot be combined with other modes');
    if (!isLoopbackAddress(listen.address)) {
      throw new Error(
        `authentication: mode "none" is allowed only when listening on a loopback address (127.0.0.1, ::1), ` +
          `not ${listen.address}; configure api_key, jwt or mtls authentication`,
      );
    }
    log(`warning: caller authentication is "none": any local process can ask for decisions (listening on ${listen.address})`);
  }
  if (modes.includes('api_key') && !(cfg.api_keys && cfg.api_keys.length > 0)) {
    throw new Error('authentication: mode "api_key" needs at least one entry in authentication.api_keys');
  }
  if (modes.includes('jwt') && !cfg.jwt) throw new Error('authentication: mode "jwt" needs authentication.jwt.issuers');
  if (modes.includes('mtls') && !listen.tls) {
    throw new Error('authentication: mode "mtls" needs the server to listen with TLS (server.tls with client_ca_file)');
  }

  const keys = (cfg.api_keys ?? []).map((k) => ({ id: k.id, digest: Buffer.from(k.hash.slice('sha256:'.length), 'hex') }));
  const jwtVerifier = cfg.jwt
    ? new TokenVerifier({ issuers: cfg.jwt.issuers, clock_skew_seconds: cfg.jwt.clock_skew_seconds }, { defaultUseFor: ['caller'] })
    : undefined;
  const bearerModes = modes.includes('api_key') || modes.includes('jwt');
  const challenge = (error?: string, description?: string): string => {
    const scheme = bearerModes ? 'Bearer' : 'MutualTLS';
    return error ? `${scheme} ${REALM}, error="${error}", error_description="${quote(description ?? '')}"` : `${scheme} ${REALM}`;
  };
  const deny = (message: string, error?: string): CallerAuthResult => ({
    ok: false, status: 401, wwwAuthenticate: challenge(error, message), message,
  });

  function fromCertificate(req: IncomingMessage): CallerIdentity | { error: string } | undefined {
    const sock = req.socket as TLSSocket;
    if (!sock || !(sock as { encrypted?: boolean }).encrypted || typeof sock.getPeerCertificate !== 'function') return undefined;
    const cert = sock.getPeerCertificate();
    if (!cert || Object.keys(cert).length === 0) return undefined;
    if (!sock.authorized) return { error: `client certificate rejected: ${String(sock.authorizationError ?? 'not trusted')}` };
    const subject = Object.entries(cert.subject ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const issuer = Object.entries(cert.issuer ?? {}).map(([k, v]) => `${k}=${v}`).join(',');
    const cn = (cert.subject as { CN?: string } | undefined)?.CN;
    const id = cn ?? subject;
    const allowed = cfg.mtls?.allowed_subjects;
    if (allowed && !allowed.includes(id) && !allowed.includes(subject)) {
      return { error: `client certificate subject ${id} is not allowed` };
    }
    return {
      method: 'mtls', id,
      certificate: { subject, issuer, fingerprint256: cert.fingerprint256, san: cert.subjectaltname, serial: cert.serialNumber },
    };
  }

  async function authenticate(req: IncomingMessage): Promise<CallerAuthResult> {
    if (modes.includes('none')) return { ok: true, caller: { method: 'anonymous', id: 'anonymous' } };

    let certError: string | undefined;
    if (modes.includes('mtls')) {
      const c = fromCertificate(req);
      if (c && 'method' in c) return { ok: true, caller: c };
      if (c) certError = c.error;
    }

    const header = req.headers.authorization;
    if (bearerModes && typeof header === 'string' && header.trim() !== '') {
      const m = /^Bearer\s+(.+)$/i.exec(header.trim());
      const credential = (m ? m[1] : header).trim();
      const looksLikeJwt = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(credential);
      if (looksLikeJwt && jwtVerifier) {
        const r = await jwtVerifier.verify(credential, 'caller');
        if (!r.ok) return deny(`caller token rejected (${r.reason}): ${r.message}`, 'invalid_token');
        const c = r.claims as Record<string, unknown>;
        const id = [c.client_id, c.azp, c.sub].find((v) => typeof v === 'string' && v !== '') as string | undefined;
        if (!id) return deny('caller token names no client (client_id, azp or sub)', 'invalid_token');
        return { ok: true, caller: { method: 'jwt', id, claims: c } };
      }
      if (keys.length > 0) {
        const digest = createHash('sha256').update(credential, 'utf8').digest();
        let found: string | undefined;
        // Compare against every key (no early exit) so timing does not reveal which prefix matched.
        for (const k of keys) if (timingSafeEqual(digest, k.digest) && found === undefined) found = k.id;
        if (found !== undefined) return { ok: true, caller: { method: 'api_key', id: found } };
        return deny('API key is not valid', 'invalid_token');
      }
      return deny('credentials are not valid for the configured authentication', 'invalid_token');
    }
    if (certError) return deny(certError, 'invalid_client');
    return deny('authentication required');
  }

  return { authenticate };
}

/** `server.tls` config: the files are PEM; client_ca_file enables client certificates (mTLS). */
export interface TlsConfig {
  cert_file: string;
  key_file: string;
  client_ca_file?: string;
  /** refuse the TLS handshake without a valid client certificate (default true when client_ca_file is set) */
  require_client_cert?: boolean;
}

export const tlsConfigSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['cert_file', 'key_file'],
  properties: {
    cert_file: { type: 'string', minLength: 1 },
    key_file: { type: 'string', minLength: 1 },
    client_ca_file: { type: 'string', minLength: 1 },
    require_client_cert: { type: 'boolean' },
  },
} as const;

/**
 * Options for `https.createServer` from `server.tls`. With `client_ca_file`, client certificates are
 * requested and verified against it; `require_client_cert: false` lets certificate-less clients reach
 * caller authentication (which then answers 401 unless another mode accepts them).
 *
 * @example
 *   const server = https.createServer(tlsServerOptions(cfg.server.tls, configDir), app);
 */
export function tlsServerOptions(tls: TlsConfig, baseDir?: string): import('https').ServerOptions {
  assertValid(tlsConfigSchema, tls, 'server.tls');
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
  const read = (f: string, what: string) => {
    const p = path.isAbsolute(f) ? f : path.resolve(baseDir ?? process.cwd(), f);
    try {
      return fs.readFileSync(p);
    } catch (e) {
      throw new Error(`server.tls.${what}: cannot read ${p}: ${(e as Error).message}`);
    }
  };
  const opts: import('https').ServerOptions = { cert: read(tls.cert_file, 'cert_file'), key: read(tls.key_file, 'key_file'), minVersion: 'TLSv1.2' };
  if (tls.client_ca_file) {
    opts.ca = read(tls.client_ca_file, 'client_ca_file');
    opts.requestCert = true;
    opts.rejectUnauthorized = tls.require_client_cert ?? true;
  }
  return opts;
}
