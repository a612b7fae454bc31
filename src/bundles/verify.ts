/**
 * `.signatures.json` verification with OPA's rules:
 * - signatures present, no key configured → reject; key configured, no signatures → reject;
 * - exactly one JWT; key id from the source's `signing.keyid`, else the JWT header `kid`, else the
 *   deprecated payload `keyid`; the JWS is verified with the configured key and its algorithm;
 * - scope (source's, else key's) must equal the payload's;
 * - every file read from the bundle must be listed with a matching digest, and every listed file
 *   must be present (the sets match exactly, minus `exclude_files`).
 * JSON/YAML files are hashed over a canonical form (parsed, object keys sorted, compact), so the
 * signature does not depend on whitespace; everything else over its raw bytes.
 */
import * as crypto from 'crypto';
import YAML from 'yaml';
import { compactVerify, decodeProtectedHeader, importSPKI, importX509, importPKCS8, type KeyLike } from 'jose';

export class SignatureError extends Error {
  readonly code = 'bundle_signature_error';
}

export interface KeyConfig {
  algorithm?: string;
  key: string;
  scope?: string;
}

export interface SigningConfig {
  keyid?: string;
  scope?: string;
  exclude_files?: string[];
}

const HASHES: Record<string, string> = {
  MD5: 'md5',
  'SHA-1': 'sha1',
  'SHA-224': 'sha224',
  'SHA-256': 'sha256',
  'SHA-384': 'sha384',
  'SHA-512': 'sha512',
  'SHA-512-224': 'sha512-224',
  'SHA-512-256': 'sha512-256',
};

const ALGS = new Set(['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'HS256', 'HS384', 'HS512']);

/** Compact JSON with object keys sorted at every level (the form OPA hashes structured files in). */
export function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return '[' + v.map(canonicalJson).join(',') + ']';
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return '{' + Object.keys(o).sort().map((k) => JSON.stringify(k) + ':' + canonicalJson(o[k])).join(',') + '}';
  }
  return JSON.stringify(v);
}

const strip = (name: string) => name.replace(/^\/+/, '');

function isStructured(name: string): boolean {
  return /\.(json|ya?ml)$/i.test(name);
}

/** The hex digest of one bundle file, as OPA computes it. */
export function fileDigest(name: string, raw: Buffer, algorithm: string): string {
  const h = HASHES[algorithm];
  if (!h) throw new SignatureError(`unsupported hashing algorithm: ${algorithm}`);
  const hash = crypto.createHash(h);
  if (isStructured(name)) {
    let value: unknown;
    try {
      value = name.toLowerCase().endsWith('.json') ? JSON.parse(raw.toString('utf8')) : YAML.parse(raw.toString('utf8'));
    } catch (err) {
      throw new SignatureError(`${name}: cannot parse for hashing: ${(err as Error).message}`);
    }
    hash.update(canonicalJson(value), 'utf8');
  } else {
    hash.update(raw);
  }
  return hash.digest('hex');
}

async function importKey(cfg: KeyConfig, alg: string): Promise<KeyLike | Uint8Array> {
  if (alg.startsWith('HS')) return new TextEncoder().encode(cfg.key);
  const pem = cfg.key.trim();
  try {
    if (pem.includes('BEGIN CERTIFICATE')) return await importX509(pem, alg);
    if (pem.includes('BEGIN PRIVATE KEY')) return await importPKCS8(pem, alg);
    if (pem.includes('BEGIN PUBLIC KEY')) return await importSPKI(pem, alg);
    if (pem.includes('BEGIN RSA PUBLIC KEY')) {
      const der = crypto.createPublicKey({ key: pem, format: 'pem', type: 'pkcs1' }).export({ format: 'pem', type: 'spki' });
      return await importSPKI(der.toString(), alg);
    }
  } catch (err) {
    throw new SignatureError(`verification key cannot be used with ${alg}: ${(err as Error).message}`);
  }
  throw new SignatureError(`verification key for ${alg} must be a PEM public key or certificate`);
}

/**
 * Verify a bundle's signature. `keys` empty/undefined and no signatures → nothing to check.
 * Throws SignatureError with OPA-like messages on any failure.
 */
export async function verifyBundle(
  files: Map<string, Buffer>,
  signatures: unknown,
  keys: Record<string, KeyConfig> | undefined,
  signing: SigningConfig | undefined,
): Promise<void> {
  const configured = signing !== undefined || (keys !== undefined && Object.keys(keys).length > 0);
  if (signatures === undefined) {
    if (configured) throw new SignatureError('bundle is not signed (no .signatures.json) but signature verification is configured');
    return;
  }
  if (!configured) throw new SignatureError('bundle is signed (.signatures.json) but no verification key is configured');
  const sigs = (signatures as { signatures?: unknown }).signatures;
  if (!Array.isArray(sigs) || sigs.length === 0) throw new SignatureError('.signatures.json: missing JWT (expected exactly one)');
  if (sigs.length > 1) throw new SignatureError('.signatures.json: multiple JWTs not supported (expected exactly one)');
  const token = sigs[0];
  if (typeof token !== 'string') throw new SignatureError('.signatures.json: the signature must be a compact JWT string');

  let header: ReturnType<typeof decodeProtectedHeader>;
  let claimed: { files?: unknown; scope?: unknown; keyid?: unknown };
  try {
    header = decodeProtectedHeader(token);
    claimed = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8'));
  } catch (err) {
    throw new SignatureError(`.signatures.json: malformed JWT: ${(err as Error).message}`);
  }
  const keyId = signing?.keyid || (typeof header.kid === 'string' ? header.kid : '') || (typeof claimed.keyid === 'string' ? claimed.keyid : '');
  if (!keyId) throw new SignatureError('verification key ID is empty');
  const keyCfg = keys?.[keyId];
  if (!keyCfg) throw new SignatureError(`verification key ${keyId} is not configured`);
  const alg = keyCfg.algorithm ?? 'RS256';
  if (!ALGS.has(alg)) throw new SignatureError(`unsupported signing algorithm ${alg} for key ${keyId}`);
  const key = await importKey(keyCfg, alg);
  let payload: { files?: unknown; scope?: unknown };
  try {
    const res = await compactVerify(token, key, { algorithms: [alg] });
    payload = JSON.parse(new TextDecoder().decode(res.payload));
  } catch (err) {
    throw new SignatureError(`bundle signature verification failed: ${(err as Error).message}`);
  }
  const scope = signing?.scope || keyCfg.scope || '';
  if ((payload.scope ?? '') !== scope) throw new SignatureError('scope mismatch');
  if (!Array.isArray(payload.files)) throw new SignatureError('.signatures.json: the JWT payload has no files list');

  const listed = new Map<string, { hash: string; algorithm: string }>();
  for (const f of payload.files as Array<Record<string, unknown>>) {
    if (!f || typeof f.name !== 'string' || typeof f.hash !== 'string') throw new SignatureError('.signatures.json: malformed files entry');
    listed.set(strip(f.name), { hash: f.hash.toLowerCase(), algorithm: typeof f.algorithm === 'string' ? f.algorithm : '' });
  }
  const excluded = new Set((signing?.exclude_files ?? []).map(strip));
  for (const [name, raw] of files) {
    const n = strip(name);
    if (n === '.signatures.json' || excluded.has(n)) continue;
    const entry = listed.get(n);
    if (!entry) throw new SignatureError(`file ${n} not included in bundle signature`);
    if (!entry.algorithm) throw new SignatureError(`no hashing algorithm provided for file ${n}`);
    const got = fileDigest(n, raw, entry.algorithm);
    if (got !== entry.hash) throw new SignatureError(`${n}: digest mismatch (want: ${entry.hash}, got: ${got})`);
    listed.delete(n);
  }
  for (const n of excluded) listed.delete(n);
  if (listed.size > 0) throw new SignatureError(`file(s) listed in the bundle signature are missing from the bundle: ${[...listed.keys()].join(', ')}`);
}
