/**
 * Verify one JWT for one slot (user / agent / task / txn / caller) against the trusted issuers.
 *
 * Order matters for clear, stable failure reasons and for safety: the unverified header and payload are
 * read only to pick the issuer and refuse early (untrusted issuer, issuer not allowed for this slot,
 * algorithm not allowed, a token of another kind: checkKind); the signature and every time/audience claim are then checked by
 * jose's `jwtVerify` with the issuer's own algorithm list, so nothing from the unverified read is trusted.
 *
 * @example
 *   const v = new TokenVerifier({ issuers: [...] });
 *   const r = await v.verify(jwt, 'user');
 *   if (!r.ok) console.log(r.reason, r.message);
 */
import { decodeJwt, decodeProtectedHeader, errors as joseErrors, jwtVerify, JWTPayload, ProtectedHeaderParameters } from 'jose';
import { createKeyResolver, IdentityConfigError, KeyResolver } from './key-sources';
import { isHighS } from './ecdsa';
import { IdentityConfig, IssuerConfig, TokenFailure, TokenKind, ASYMMETRIC_ALGORITHMS } from './types';

export const TXN_TOKEN_TYP = 'txntoken+jwt';

/**
 * The `typ` header that names each kind of token (RFC 8725 §3.11, explicit typing). An issuer trusted for
 * several kinds must type its tokens (or be given `kinds` rules), or nothing tells a user token carrying a
 * `scope` claim from a task grant. The caller kind has none: caller JWTs come from their own issuers.
 */
export const KIND_TYP: Partial<Record<TokenKind, string>> = { user: 'user+jwt', agent: 'agent+jwt', task: 'task+jwt', txn: TXN_TOKEN_TYP };

export type VerifyResult =
  | { ok: true; claims: JWTPayload & Record<string, unknown>; header: ProtectedHeaderParameters; issuer: string }
  | { ok: false; reason: TokenFailure; message: string };

interface TrustedIssuer {
  cfg: IssuerConfig;
  keys: KeyResolver;
}

const fail = (reason: TokenFailure, message: string): VerifyResult => ({ ok: false, reason, message });

/** Tokens larger than this are refused before any parsing (a JWT is a few KB; a 1 MB "token" is an attack). */
const MAX_TOKEN_LENGTH = 16 * 1024;

export class TokenVerifier {
  private readonly issuers = new Map<string, TrustedIssuer>();
  private readonly clockSkew: number;
  private readonly requireExp: boolean;
  private readonly requireLowS: boolean;

  constructor(config: IdentityConfig = {}, opts: { baseDir?: string; defaultUseFor?: TokenKind[] } = {}) {
    this.clockSkew = config.clock_skew_seconds ?? 30;
    this.requireExp = config.require_exp ?? true;
    this.requireLowS = config.require_low_s ?? false;
    for (const cfg of config.issuers ?? []) {
      const withDefaults: IssuerConfig = { ...cfg, use_for: cfg.use_for ?? opts.defaultUseFor ?? ['user', 'agent', 'task', 'txn'] };
      if (this.issuers.has(cfg.issuer)) throw new Error(`identity issuer ${cfg.issuer} is configured twice`);
      for (const k of Object.keys(cfg.kinds ?? {}) as TokenKind[]) {
        if (!withDefaults.use_for.includes(k)) throw new IdentityConfigError(`identity issuer ${cfg.issuer}: kinds.${k} is given but ${k} is not in use_for`);
      }
      this.issuers.set(cfg.issuer, { cfg: withDefaults, keys: createKeyResolver(withDefaults, opts.baseDir) });
    }
  }

  get issuerCount(): number {
    return this.issuers.size;
  }

  async verify(token: unknown, kind: TokenKind): Promise<VerifyResult> {
    if (typeof token !== 'string' || token.length === 0) return fail('malformed', 'token is not a non-empty string');
    if (token.length > MAX_TOKEN_LENGTH) return fail('malformed', `token is longer than ${MAX_TOKEN_LENGTH} characters`);
    const parts = token.split('.');
    if (parts.length !== 3) return fail('malformed', 'token is not a compact JWS (three dot-separated parts)');
    // Only the canonical base64url form (RFC 7515: no padding, no stray bits) is accepted: a decoder that is
    // lenient about "=" or the unused low bits of the last character would accept many spellings of one
    // token. That alone does not make the text unique: an ECDSA signature has a second valid form
    // (ecdsa.ts), refused only with require_low_s. Key any replay or deny list on `jti`, not on the text.
    for (const p of parts) {
      if (!/^[A-Za-z0-9_-]*$/.test(p) || Buffer.from(p, 'base64url').toString('base64url') !== p) {
        return fail('malformed', 'token is not canonical base64url (padding, stray characters or non-zero unused bits)');
      }
    }

    let header: ProtectedHeaderParameters;
    let unverified: JWTPayload;
    try {
      header = decodeProtectedHeader(token);
      unverified = decodeJwt(token);
    } catch (e) {
      return fail('malformed', `token cannot be decoded: ${(e as Error).message}`);
    }
    const alg = typeof header.alg === 'string' ? header.alg : '';
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      // `none` and every HMAC algorithm land here, whatever any issuer config says.
      return fail('algorithm_not_allowed', `algorithm ${JSON.stringify(header.alg ?? null)} is never accepted`);
    }
    if (header.crit !== undefined) return fail('malformed', 'token has a "crit" header, which is not supported');
    if (this.requireLowS && isHighS(alg, parts[2])) {
      return fail('malformed', 'ECDSA signature is not in low-S form (identity.require_low_s): s must be at most n/2');
    }

    const iss = unverified.iss;
    if (typeof iss !== 'string') return fail('missing_claim', 'token has no "iss" claim');
    const trusted = this.issuers.get(iss);
    if (!trusted) return fail('untrusted_issuer', `issuer ${JSON.stringify(iss)} is not trusted`);
    if (!(trusted.cfg.use_for ?? []).includes(kind)) {
      return fail('issuer_not_allowed_for_kind', `issuer ${iss} may not sign ${kind} tokens`);
    }
    if (!(trusted.cfg.algorithms as string[]).includes(alg)) {
      return fail('algorithm_not_allowed', `algorithm ${alg} is not allowed for issuer ${iss}`);
    }
    const wrongKind = checkKind(trusted.cfg, kind, header, unverified);
    if (wrongKind) return wrongKind;

    const required = this.requireExp ? ['exp'] : [];
    if (kind === 'task') required.push('sub', 'jti', 'exp');
    if (kind === 'txn') required.push('txn');
    try {
      const { payload } = await jwtVerify(token, trusted.keys as Parameters<typeof jwtVerify>[1], {
        issuer: iss,
        audience: acceptedAudiences(trusted.cfg),
        algorithms: trusted.cfg.algorithms as string[],
        clockTolerance: this.clockSkew,
        requiredClaims: [...new Set(required)],
      });
      // jose checks iat only against maxTokenAge: a token issued in the future (beyond the skew) is
      // refused here, as nbf is (docs/identity.md: not_yet_valid)
      if (typeof payload.iat === 'number' && payload.iat > Math.floor(Date.now() / 1000) + this.clockSkew) {
        return fail('not_yet_valid', 'token was issued in the future (iat)');
      }
      return { ok: true, claims: payload as JWTPayload & Record<string, unknown>, header, issuer: iss };
    } catch (e) {
      return mapJoseError(e, iss);
    }
  }
}

/** What tells one kind of token from the others at one issuer; every part given must match. */
interface KindRule {
  /** accepted `typ` values, normalised (lower case, no "application/") */
  typ?: string[];
  claim?: { name: string; value: string | number | boolean };
  audience?: string;
}

/** RFC 7515 §4.1.9: "application/" may be left out of `typ`, and media types are case-insensitive. */
const normTyp = (t: unknown): string | undefined => (typeof t === 'string' ? t.toLowerCase().replace(/^application\//, '') : undefined);

/**
 * The rule a token of `kind` from this issuer must match: the issuer's `kinds` entry if configured;
 * otherwise the kind's own `typ` when the issuer signs several kinds (or for Txn-Tokens, which are
 * always typed); otherwise none (a single-purpose issuer's tokens cannot be mistaken for another kind).
 */
function ruleFor(cfg: IssuerConfig, kind: TokenKind): KindRule | undefined {
  const configured = cfg.kinds?.[kind];
  if (configured) {
    const typ = configured.typ === undefined ? undefined : (Array.isArray(configured.typ) ? configured.typ : [configured.typ]).map((t) => normTyp(t) as string);
    return { typ, claim: configured.claim, audience: configured.audience };
  }
  const typ = KIND_TYP[kind];
  if (typ && (kind === 'txn' || (cfg.use_for ?? []).length > 1)) return { typ: [typ] };
  return undefined;
}

function matches(rule: KindRule, typ: string | undefined, payload: JWTPayload): boolean {
  if (rule.typ && (typ === undefined || !rule.typ.includes(typ))) return false;
  if (rule.claim) {
    const v = (payload as Record<string, unknown>)[rule.claim.name];
    if (!(v === rule.claim.value || (Array.isArray(v) && v.includes(rule.claim.value)))) return false;
  }
  if (rule.audience !== undefined) {
    const aud = payload.aud;
    if (!(aud === rule.audience || (Array.isArray(aud) && aud.includes(rule.audience)))) return false;
  }
  return true;
}

function describe(rule: KindRule): string {
  const parts: string[] = [];
  if (rule.typ) parts.push(`typ ${rule.typ.map((t) => JSON.stringify(t)).join(' or ')}`);
  if (rule.claim) parts.push(`claim ${rule.claim.name}=${JSON.stringify(rule.claim.value)}`);
  if (rule.audience !== undefined) parts.push(`audience ${JSON.stringify(rule.audience)}`);
  return parts.join(' and ');
}

/** How many parts a rule checks: of two rules a token matches, the one that checks more is meant. */
const specificity = (rule: KindRule | undefined): number => (rule ? Number(!!rule.typ) + Number(!!rule.claim) + Number(rule.audience !== undefined) : 0);

/**
 * Token kinds told apart (docs/identity.md, "Token kinds"). A token is accepted in the `kind` slot only
 * if it matches that kind's rule, is not typed as another kind, and matches no other kind's rule of the
 * same issuer that is as specific or more (e.g. `typ: JWT` + a `token_use` claim beats `typ: JWT` alone;
 * a tie is refused, never guessed).
 */
function checkKind(cfg: IssuerConfig, kind: TokenKind, header: ProtectedHeaderParameters, payload: JWTPayload): VerifyResult | undefined {
  const typ = normTyp(header.typ);
  const got = JSON.stringify(header.typ ?? null);
  const own = ruleFor(cfg, kind);
  if (own && !matches(own, typ, payload)) {
    return fail('wrong_kind', `a ${kind} token of issuer ${cfg.issuer} must have ${describe(own)} (typ is ${got})`);
  }
  for (const [other, t] of Object.entries(KIND_TYP)) {
    if (other !== kind && typ === t && !own?.typ?.includes(t)) return fail('wrong_kind', `a token typed ${got} is for the ${other} slot, not the ${kind} slot`);
  }
  for (const other of cfg.use_for ?? []) {
    const rule = other === kind ? undefined : ruleFor(cfg, other);
    if (rule && specificity(rule) >= specificity(own) && matches(rule, typ, payload)) return fail('wrong_kind', `the token matches the ${other} kind of issuer ${cfg.issuer} (${describe(rule)}), not only the ${kind} kind`);
  }
  return undefined;
}

/** The issuer's audiences, plus any audience its `kinds` rules name (such a token is for this PDP too). */
function acceptedAudiences(cfg: IssuerConfig): string[] {
  const extra = Object.values(cfg.kinds ?? {}).flatMap((r) => (r?.audience !== undefined ? [r.audience] : []));
  return extra.length === 0 ? cfg.audiences : [...new Set([...cfg.audiences, ...extra])];
}

/** Turn jose's typed errors into our stable reasons. Anything unrecognised is a refusal, never a pass. */
export function mapJoseError(e: unknown, iss: string): VerifyResult {
  if (e instanceof joseErrors.JWTExpired) return fail('expired', 'token has expired');
  // a weak key from a remote key set (key-sources.ts): the keys are unusable, never a pass
  if (e instanceof IdentityConfigError) return fail('keys_unavailable', e.message);
  if (e instanceof joseErrors.JWTClaimValidationFailed) {
    const claim = e.claim;
    if (claim === 'aud') return fail('wrong_audience', 'token audience is not accepted by this PDP');
    if (claim === 'nbf') return fail('not_yet_valid', 'token is not valid yet (nbf)');
    if (claim === 'iat') return fail('not_yet_valid', 'token was issued in the future (iat)');
    if (claim === 'iss') return fail('untrusted_issuer', 'token issuer does not match');
    if (e.reason === 'missing') return fail('missing_claim', `token has no "${claim}" claim`);
    return fail('invalid_claim', `token claim "${claim}" is invalid: ${e.message}`);
  }
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return fail('bad_signature', 'token signature does not verify');
  if (e instanceof joseErrors.JWKSNoMatchingKey) return fail('unknown_kid', `no key of issuer ${iss} matches the token's kid/alg`);
  if (e instanceof joseErrors.JWKSMultipleMatchingKeys) {
    return fail('unknown_kid', `several keys of issuer ${iss} match and the token names no kid`);
  }
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return fail('algorithm_not_allowed', 'token algorithm is not allowed');
  if (e instanceof joseErrors.JWKSTimeout) return fail('keys_unavailable', `fetching the keys of issuer ${iss} timed out`);
  if (e instanceof joseErrors.JWKSInvalid) return fail('keys_unavailable', `the key set of issuer ${iss} is invalid`);
  if (e instanceof joseErrors.JWTInvalid || e instanceof joseErrors.JWSInvalid) {
    return fail('malformed', `token is malformed: ${(e as Error).message}`);
  }
  if (e instanceof joseErrors.JOSENotSupported) return fail('algorithm_not_allowed', `unsupported: ${(e as Error).message}`);
  if (e instanceof TypeError) {
    // jose raises TypeError when the key does not suit the algorithm (e.g. an RSA key for ES256).
    return fail('bad_signature', `key does not suit the token algorithm: ${e.message}`);
  }
  const msg = e instanceof Error ? e.message : String(e);
  if (/fetch|ECONNREFUSED|ENOTFOUND|status code|Expected 200/i.test(msg)) {
    return fail('keys_unavailable', `the keys of issuer ${iss} could not be fetched: ${msg}`);
  }
  return fail('bad_signature', `token could not be verified: ${msg}`);
}
