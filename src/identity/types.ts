/**
 * Types at the identity boundary: the `identity` config section, what the policy sees for each identity,
 * and the caller (PEP) identity. The service helper's src/server/types.ts may re-export these; until then
 * this file is the source of truth for identity shapes.
 */

/** Which token slot an issuer may sign for. `caller` is the PEP's own client-credentials JWT. */
import type { CallerIdentity as ServerCallerIdentity } from '../server/types';

export type TokenKind = 'user' | 'agent' | 'task' | 'txn' | 'caller';

/** Asymmetric JWS algorithms we accept. HMAC (`HS*`) and `none` are never allowed: a PDP must not share secrets. */
export const ASYMMETRIC_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA',
] as const;
export type AsymmetricAlgorithm = (typeof ASYMMETRIC_ALGORITHMS)[number];

/** One trusted token issuer. Exactly one key source: `jwks_file`, `jwks_uri` or `public_key_pem`. */
export interface IssuerConfig {
  issuer: string;
  audiences: string[];
  algorithms: AsymmetricAlgorithm[];
  use_for: TokenKind[];
  jwks_file?: string;
  jwks_uri?: string;
  /** PEM text of an SPKI public key, or a path to a .pem file. */
  public_key_pem?: string;
  /** Remote JWKS only: minimum seconds between refetches when an unknown kid shows up (default 30). */
  jwks_cooldown_seconds?: number;
  /** Remote JWKS only: seconds a fetched key set is trusted before refetching (default 600). */
  jwks_cache_max_age_seconds?: number;
  /** Remote JWKS only: HTTP timeout in ms (default 5000). */
  jwks_timeout_ms?: number;
  /**
   * How this issuer's tokens of each kind are told apart, for IdPs that cannot set our `typ` values
   * (docs/identity.md, "Token kinds"). Default: each kind's own `typ` (verify.ts KIND_TYP).
   */
  kinds?: Partial<Record<TokenKind, KindRuleConfig>>;
}

/** One `kinds` entry: every part given must match (`typ` any of the list). */
export interface KindRuleConfig {
  typ?: string | string[];
  claim?: { name: string; value: string | number | boolean };
  audience?: string;
}

export interface IdentityConfig {
  issuers?: IssuerConfig[];
  clock_skew_seconds?: number;
  /** Require `exp` on every token (default true). A token that never expires is a standing credential. */
  require_exp?: boolean;
  /** Refuse ES* tokens whose signature is not low-S (default false: most signers do not normalise; ecdsa.ts). */
  require_low_s?: boolean;
}

export type Assurance = 'verified' | 'asserted' | 'invalid';

/** One link of a delegation chain (RFC 8693 `act`), current actor first. */
export interface ActorLink {
  sub: string;
  iss?: string;
  /** Every other claim of this `act` object except the nested `act`. */
  claims: Record<string, unknown>;
}

/**
 * How the caller (PEP) was authenticated. Goes into `input.caller` and the decision log. Extends the
 * service's seam type (src/server/types.ts) with certificate facts for mTLS.
 * `method`: 'anonymous' (authentication `none`, loopback only) | 'api_key' | 'jwt' | 'mtls'.
 */
export interface CallerIdentity extends ServerCallerIdentity {
  certificate?: { subject: string; issuer: string; fingerprint256: string; san?: string; serial?: string };
}

/** Stable reasons a token is refused; the deny code is always `identity.invalid_token`. */
export type TokenFailure =
  | 'malformed'
  | 'expired'
  | 'not_yet_valid'
  | 'bad_signature'
  | 'untrusted_issuer'
  | 'wrong_audience'
  | 'algorithm_not_allowed'
  | 'issuer_not_allowed_for_kind'
  | 'unknown_kid'
  | 'wrong_kind'
  | 'missing_claim'
  | 'invalid_claim'
  | 'subject_mismatch'
  | 'actor_mismatch'
  | 'principal_mismatch'
  | 'ambiguous_delegation'
  | 'invalid_scope'
  | 'keys_unavailable';

export interface IdentityDeny {
  code: 'identity.invalid_token';
  message: string;
  /** Which token failed. */
  token: 'user' | 'agent' | 'task' | 'txn';
  /** Stable machine reason. */
  reason: TokenFailure;
}

export interface ResolveResult {
  input: Record<string, unknown>;
  deny?: IdentityDeny;
}

export type HeaderBag = Record<string, string | string[] | undefined>;
