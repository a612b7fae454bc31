/**
 * Key sources for trusted issuers: a local JWKS file, a remote JWKS URI (jose's cached key set, with a
 * cooldown so an attacker sending unknown `kid`s cannot make us hammer the IdP), or one PEM public key.
 * Everything that can fail at configuration time fails here, at start, with a message naming the issuer.
 */
import * as fs from 'fs';
import * as path from 'path';
import { createPublicKey, KeyObject } from 'crypto';
import { createLocalJWKSet, createRemoteJWKSet, JSONWebKeySet, JWTVerifyGetKey } from 'jose';
import { IssuerConfig } from './types';

/** A key resolver as jose's `jwtVerify` accepts it: a KeyObject or a function of the protected header. */
export type KeyResolver = KeyObject | JWTVerifyGetKey;

export class IdentityConfigError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentityConfigError';
  }
}

/** RSA moduli below this are refused (NIST SP 800-131A; RFC 7518 §3.3 requires at least 2048 bits). */
export const MIN_RSA_BITS = 2048;

/** The modulus size of an RSA public key, undefined for other key types. */
function rsaBits(key: KeyObject): number | undefined {
  return key.asymmetricKeyType === 'rsa' || key.asymmetricKeyType === 'rsa-pss' ? key.asymmetricKeyDetails?.modulusLength : undefined;
}

/** Throws when `key` is an RSA key under MIN_RSA_BITS; `which` names it (issuer, file, kid). */
function assertRsaStrength(key: KeyObject, which: string): void {
  const bits = rsaBits(key);
  if (bits !== undefined && bits < MIN_RSA_BITS) {
    throw new IdentityConfigError(`${which} is a ${bits}-bit RSA key; at least ${MIN_RSA_BITS} bits are required`);
  }
}

function resolvePath(p: string, baseDir: string | undefined): string {
  return path.isAbsolute(p) ? p : path.resolve(baseDir ?? process.cwd(), p);
}

function loadJwksFile(file: string, issuer: string): JSONWebKeySet {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new IdentityConfigError(`identity issuer ${issuer}: cannot read jwks_file ${file}: ${(e as Error).message}`);
  }
  let jwks: unknown;
  try {
    jwks = JSON.parse(text);
  } catch (e) {
    throw new IdentityConfigError(`identity issuer ${issuer}: jwks_file ${file} is not JSON: ${(e as Error).message}`);
  }
  const keys = (jwks as { keys?: unknown }).keys;
  if (!Array.isArray(keys) || keys.length === 0) {
    throw new IdentityConfigError(`identity issuer ${issuer}: jwks_file ${file} has no "keys" array`);
  }
  keys.forEach((k, i) => {
    // A private or symmetric key in a trust store is a configuration mistake that would also leak secrets.
    if (k && typeof k === 'object' && ('d' in k || (k as { kty?: string }).kty === 'oct')) {
      throw new IdentityConfigError(
        `identity issuer ${issuer}: jwks_file ${file} contains a private or symmetric key; publish public keys only`,
      );
    }
    if (k && typeof k === 'object' && (k as { kty?: string }).kty === 'RSA') {
      const kid = typeof (k as { kid?: unknown }).kid === 'string' ? `kid ${JSON.stringify((k as { kid: string }).kid)}` : `keys[${i}]`;
      let key: KeyObject;
      try {
        key = createPublicKey({ key: k as import('crypto').JsonWebKey, format: 'jwk' });
      } catch (e) {
        throw new IdentityConfigError(`identity issuer ${issuer}: jwks_file ${file} ${kid} is not a valid RSA key: ${(e as Error).message}`);
      }
      assertRsaStrength(key, `identity issuer ${issuer}: jwks_file ${file} ${kid}`);
    }
  });
  return jwks as JSONWebKeySet;
}

function loadPem(value: string, issuer: string, baseDir: string | undefined): KeyObject {
  const text = value.includes('-----BEGIN') ? value : readPemFile(resolvePath(value, baseDir), issuer);
  let key: KeyObject;
  try {
    key = createPublicKey(text);
  } catch (e) {
    throw new IdentityConfigError(`identity issuer ${issuer}: public_key_pem is not a public key: ${(e as Error).message}`);
  }
  if (key.type !== 'public') throw new IdentityConfigError(`identity issuer ${issuer}: public_key_pem must be a public key`);
  assertRsaStrength(key, `identity issuer ${issuer}: public_key_pem${value.includes('-----BEGIN') ? '' : ` ${value}`}`);
  return key;
}

function readPemFile(file: string, issuer: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (e) {
    throw new IdentityConfigError(`identity issuer ${issuer}: cannot read public_key_pem file ${file}: ${(e as Error).message}`);
  }
}

/** Build the key resolver of one issuer. Throws IdentityConfigError on any configuration problem. */
export function createKeyResolver(cfg: IssuerConfig, baseDir?: string): KeyResolver {
  const sources = [cfg.jwks_file, cfg.jwks_uri, cfg.public_key_pem].filter((s) => s !== undefined);
  if (sources.length !== 1) {
    throw new IdentityConfigError(
      `identity issuer ${cfg.issuer}: give exactly one of jwks_file, jwks_uri, public_key_pem (got ${sources.length})`,
    );
  }
  if (cfg.jwks_file !== undefined) {
    return createLocalJWKSet(loadJwksFile(resolvePath(cfg.jwks_file, baseDir), cfg.issuer));
  }
  if (cfg.jwks_uri !== undefined) {
    let url: URL;
    try {
      url = new URL(cfg.jwks_uri);
    } catch {
      throw new IdentityConfigError(`identity issuer ${cfg.issuer}: jwks_uri is not a URL: ${cfg.jwks_uri}`);
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') {
      throw new IdentityConfigError(`identity issuer ${cfg.issuer}: jwks_uri must be http(s)`);
    }
    const remote = createRemoteJWKSet(url, {
      cooldownDuration: (cfg.jwks_cooldown_seconds ?? 30) * 1000,
      cacheMaxAge: (cfg.jwks_cache_max_age_seconds ?? 600) * 1000,
      timeoutDuration: cfg.jwks_timeout_ms ?? 5000,
    });
    // remote keys arrive after the start: a weak one is refused when a token picks it
    return async (header, token) => {
      const key = await remote(header, token);
      if (key instanceof KeyObject) assertRsaStrength(key, `identity issuer ${cfg.issuer}: jwks_uri key ${JSON.stringify(header.kid ?? null)}`);
      return key;
    };
  }
  return loadPem(cfg.public_key_pem as string, cfg.issuer, baseDir);
}
