/**
 * The PDP's own signing key: it signs approval requests, approvals and transaction tokens, and publishes
 * the public half at /.well-known/jwks.json so gateways and tool servers can verify them.
 *
 * The key comes from config (`signing.key_file`, a PKCS#8 PEM as `pdp keys gen --name pdp` writes it);
 * its kid and alg from the JWKS file next to it (`pdp.jwks.json`), else the key's RFC 7638 thumbprint and
 * ES256. Tokens it signs carry `typ` (approval+jwt, txntoken+jwt, …) and are verified with that typ, so one
 * kind of token can never stand in for another even though one key signs them all.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createHash, createPrivateKey, createPublicKey, KeyObject } from 'crypto';
import { JWK, JWTPayload, jwtVerify, SignJWT } from 'jose';
import { canonicalJson } from './jcs';
import { IdentityConfigError } from './key-sources';
import { mapJoseError, VerifyResult } from './verify';
import { ASYMMETRIC_ALGORITHMS } from './types';

export interface SigningConfig {
  /** PKCS#8 PEM private key (path; relative to the config file) */
  key_file: string;
  /** the public JWKS written next to it by `pdp keys gen` (default: <name>.jwks.json beside <name>.private.pem) */
  jwks_file?: string;
  /** `iss` of every token the PDP signs (default "urn:agent-tool-pdp") */
  issuer?: string;
}

export const DEFAULT_PDP_ISSUER = 'urn:agent-tool-pdp';

export class PdpSigner {
  private constructor(
    private readonly privateKey: KeyObject,
    private readonly publicKey: KeyObject,
    readonly publicJwk: JWK,
    readonly alg: string,
    readonly kid: string,
    readonly issuer: string,
    /** seconds of clock skew tolerated when verifying its own tokens */
    private readonly clockSkew: number,
  ) {}

  /** Read the key named by the `signing` config section. Throws IdentityConfigError naming the file. */
  static load(cfg: SigningConfig, baseDir?: string, clockSkew = 30): PdpSigner {
    const keyFile = path.resolve(baseDir ?? process.cwd(), cfg.key_file);
    let privateKey: KeyObject;
    try {
      privateKey = createPrivateKey(fs.readFileSync(keyFile, 'utf8'));
    } catch (e) {
      throw new IdentityConfigError(`signing.key_file ${keyFile}: not a readable private key: ${(e as Error).message}`);
    }
    const publicKey = createPublicKey(privateKey);
    const jwksFile = cfg.jwks_file
      ? path.resolve(baseDir ?? process.cwd(), cfg.jwks_file)
      : keyFile.replace(/\.private\.pem$/, '.jwks.json');
    let listed: { kid?: string; alg?: string } = {};
    if (jwksFile !== keyFile && fs.existsSync(jwksFile)) {
      try {
        listed = (JSON.parse(fs.readFileSync(jwksFile, 'utf8')).keys ?? [])[0] ?? {};
      } catch (e) {
        throw new IdentityConfigError(`signing.jwks_file ${jwksFile} is not JSON: ${(e as Error).message}`);
      }
    }
    const jwk = publicKey.export({ format: 'jwk' }) as JWK;
    const alg = listed.alg ?? (jwk.kty === 'EC' && jwk.crv === 'P-256' ? 'ES256' : undefined);
    if (!alg || !(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      throw new IdentityConfigError(`signing: cannot tell the algorithm of ${keyFile}; list it ("alg") in ${jwksFile}`);
    }
    const kid = listed.kid ?? thumbprint(jwk);
    return new PdpSigner(privateKey, publicKey, { ...jwk, kid, alg, use: 'sig' }, alg, kid, cfg.issuer ?? DEFAULT_PDP_ISSUER, clockSkew);
  }

  /** What /.well-known/jwks.json serves. */
  jwks(): { keys: JWK[] } {
    return { keys: [this.publicJwk] };
  }

  /** Sign `claims` as a JWT of this `typ`, valid for `ttlSeconds` from now. */
  async sign(claims: JWTPayload & Record<string, unknown>, opts: { typ: string; audience: string | string[]; ttlSeconds: number }): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return new SignJWT(claims)
      .setProtectedHeader({ alg: this.alg, kid: this.kid, typ: opts.typ })
      .setIssuer(this.issuer)
      .setAudience(opts.audience)
      .setIssuedAt(now)
      .setExpirationTime(now + opts.ttlSeconds)
      .sign(this.privateKey);
  }

  /** Verify a token this PDP signed: signature, `typ`, `iss`, `aud`, `exp` (required). */
  async verify(token: unknown, opts: { typ: string; audience: string; requiredClaims?: string[] }): Promise<VerifyResult> {
    if (typeof token !== 'string' || token.length === 0) return { ok: false, reason: 'malformed', message: 'token is not a non-empty string' };
    if (token.length > 64 * 1024) return { ok: false, reason: 'malformed', message: 'token is too long' };
    try {
      const { payload, protectedHeader } = await jwtVerify(token, this.publicKey, {
        issuer: this.issuer,
        audience: opts.audience,
        algorithms: [this.alg],
        typ: opts.typ,
        clockTolerance: this.clockSkew,
        requiredClaims: ['exp', ...(opts.requiredClaims ?? [])],
      });
      return { ok: true, claims: payload as JWTPayload & Record<string, unknown>, header: protectedHeader, issuer: this.issuer };
    } catch (e) {
      // jose says "unexpected "typ" JWT header value" as a claim failure on "typ"
      if (e instanceof Error && (e as { claim?: string }).claim === 'typ') {
        return { ok: false, reason: 'wrong_kind', message: `token is not of type ${opts.typ}` };
      }
      return mapJoseError(e, this.issuer);
    }
  }
}

/** RFC 7638 JWK thumbprint: SHA-256 of the required members in canonical (sorted, compact) JSON. */
function thumbprint(jwk: JWK): string {
  const members: Record<string, string[]> = { EC: ['crv', 'kty', 'x', 'y'], RSA: ['e', 'kty', 'n'], OKP: ['crv', 'kty', 'x'] };
  const names = members[jwk.kty ?? ''] ?? [];
  const picked: Record<string, unknown> = {};
  for (const n of names) picked[n] = (jwk as unknown as Record<string, unknown>)[n];
  return createHash('sha256').update(canonicalJson(picked)).digest('base64url');
}
