/**
 * The gateway as an OAuth 2.1 protected resource, as the MCP authorization spec asks of an MCP server:
 * every MCP request must carry `Authorization: Bearer <access token>` issued for this endpoint by one of
 * the configured authorization servers, else HTTP 401 with a `WWW-Authenticate` challenge pointing at
 * the endpoint's OAuth Protected Resource Metadata (RFC 9728), served under `/.well-known/`.
 *
 * Only who the caller is gets checked here (signature, issuer, expiry, audience = this endpoint, scopes);
 * what the caller may do is still decided by the PDP per call, with the same token as `user.token`.
 *
 * @example
 * const guard = new ResourceGuard({ authorizationServers: [{ issuer: 'https://idp', jwks_uri: 'https://idp/jwks' }], scopes: ['mcp'] },
 *                                 'https://gw.example', ['/mcp']);
 * const r = await guard.check(req.headers.authorization, '/mcp');
 * if (!r.ok) res.writeHead(r.status, { 'www-authenticate': r.challenge });
 */
import { TokenVerifier } from '../../identity/verify';
import { ASYMMETRIC_ALGORITHMS, AsymmetricAlgorithm, TokenFailure } from '../../identity/types';

/** One authorization server whose access tokens the gateway accepts; exactly one key source. */
export interface AuthorizationServer {
  /** the issuer identifier (`iss` of its tokens, and what the metadata document names) */
  issuer: string;
  jwks_uri?: string;
  jwks_file?: string;
  /** PEM text of a public key, or a path to a .pem file */
  public_key_pem?: string;
  /** default: every asymmetric algorithm (HMAC and `none` are never accepted) */
  algorithms?: AsymmetricAlgorithm[];
}

export interface GatewayAuthOptions {
  authorizationServers: AuthorizationServer[];
  /** scopes every token must carry; advertised as `scopes_supported` and in each challenge's `scope` */
  scopes?: string[];
  /** `resource_name` of the metadata document */
  resourceName?: string;
  /** `resource_documentation` of the metadata document (a URL for people) */
  documentation?: string;
}

export const METADATA_PREFIX = '/.well-known/oauth-protected-resource';

export type GuardResult =
  | { ok: true }
  | { ok: false; status: 401 | 403 | 503; challenge?: string; error: string; description: string };

/** RFC 6750 §3: these characters only, in `error_description` and `scope` values. */
const QUOTABLE = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

export class ResourceGuard {
  private readonly verifier: TokenVerifier;
  private readonly scopes: string[];
  private readonly origin: string;

  /**
   * @param publicUrl the gateway's origin as agents reach it (scheme://host[:port])
   * @param paths the MCP endpoints' paths; each is its own resource, `<publicUrl><path>`
   */
  constructor(private readonly opts: GatewayAuthOptions, publicUrl: string, paths: string[]) {
    if (!opts.authorizationServers?.length) throw new Error('gateway auth: at least one authorization server is required');
    this.scopes = opts.scopes ?? [];
    for (const s of this.scopes) if (s === '' || /\s/.test(s) || !QUOTABLE.test(s)) throw new Error(`gateway auth: not a scope token: ${JSON.stringify(s)}`);
    const u = new URL(publicUrl);
    if (u.pathname !== '/' || u.search || u.hash || u.username || u.password) {
      throw new Error(`gateway auth: the public URL must be an origin only (scheme://host[:port]), got ${publicUrl}`);
    }
    this.origin = u.origin;
    this.verifier = new TokenVerifier({
      issuers: opts.authorizationServers.map((a) => ({
        issuer: a.issuer,
        jwks_uri: a.jwks_uri,
        jwks_file: a.jwks_file,
        public_key_pem: a.public_key_pem,
        algorithms: a.algorithms ?? [...ASYMMETRIC_ALGORITHMS],
        // any of our endpoints; check() then holds each token to the endpoint it is used at
        audiences: paths.map((p) => this.resource(p)),
        use_for: ['user'],
      })),
    });
  }

  /** The resource identifier of an endpoint: the URL agents connect to. */
  resource(path: string): string {
    return this.origin + path;
  }

  /** Where the endpoint's metadata document is: the well-known prefix inserted before the path (RFC 9728 §3.1). */
  metadataUrl(path: string): string {
    return this.origin + metadataPath(path);
  }

  /** RFC 9728 §2 document for one endpoint. */
  metadata(path: string): Record<string, unknown> {
    return {
      resource: this.resource(path),
      authorization_servers: this.opts.authorizationServers.map((a) => a.issuer),
      ...(this.scopes.length ? { scopes_supported: this.scopes } : {}),
      bearer_methods_supported: ['header'],
      ...(this.opts.resourceName ? { resource_name: this.opts.resourceName } : {}),
      ...(this.opts.documentation ? { resource_documentation: this.opts.documentation } : {}),
    };
  }

  /** Checks the `Authorization` header of one request to the endpoint at `path`. */
  async check(authorization: string | string[] | undefined, path: string): Promise<GuardResult> {
    if (Array.isArray(authorization)) return this.refuse(path, 401, 'invalid_request', 'several Authorization headers');
    const m = /^Bearer[ ]+([A-Za-z0-9\-._~+/]+=*)[ ]*$/i.exec(authorization ?? '');
    // no bearer token at all: a bare challenge (RFC 6750 §3.1: no error code), which starts the OAuth flow
    if (!m) return authorization && /^Bearer\b/i.test(authorization) ? this.refuse(path, 401, 'invalid_token', 'malformed bearer token') : this.refuse(path, 401);
    const r = await this.verifier.verify(m[1], 'user');
    if (!r.ok) {
      // the keys could not be fetched: not the client's fault, and re-authorizing would not help
      if (r.reason === 'keys_unavailable') return { ok: false, status: 503, error: 'temporarily_unavailable', description: 'the authorization server keys are unavailable' };
      return this.refuse(path, 401, 'invalid_token', describe(r.reason));
    }
    const aud = r.claims.aud;
    const resource = this.resource(path);
    if (!(Array.isArray(aud) ? aud.includes(resource) : aud === resource)) return this.refuse(path, 401, 'invalid_token', describe('wrong_audience'));
    const granted = grantedScopes(r.claims);
    if (this.scopes.some((s) => !granted.has(s))) return this.refuse(path, 403, 'insufficient_scope', 'the access token lacks a required scope');
    return { ok: true };
  }

  private refuse(path: string, status: 401 | 403, error?: string, description?: string): GuardResult {
    const params = [`resource_metadata="${this.metadataUrl(path)}"`];
    if (this.scopes.length) params.push(`scope="${this.scopes.join(' ')}"`);
    if (error) params.push(`error="${error}"`, `error_description="${description}"`);
    return { ok: false, status, challenge: `Bearer ${params.join(', ')}`, error: error ?? 'unauthorized', description: description ?? 'an access token is required' };
  }
}

/** The path an endpoint's metadata is served at: the well-known prefix before the endpoint's path (RFC 9728 §3.1). */
export function metadataPath(path: string): string {
  return METADATA_PREFIX + path;
}

/** Fixed texts: nothing from the token is echoed into a response header. */
function describe(reason: TokenFailure): string {
  return `the access token is refused: ${reason.replace(/_/g, ' ')}`;
}

/** `scope` (space-separated, RFC 9068) or `scp` (string or array, common in IdPs). */
function grantedScopes(claims: Record<string, unknown>): Set<string> {
  const out = new Set<string>();
  for (const v of [claims.scope, claims.scp]) {
    if (typeof v === 'string') for (const s of v.split(' ')) if (s) out.add(s);
    if (Array.isArray(v)) for (const s of v) if (typeof s === 'string') out.add(s);
  }
  return out;
}
