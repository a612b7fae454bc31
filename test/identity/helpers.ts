/** Test keys and token minting. Keys are generated per run; nothing private is committed. */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { exportJWK, exportSPKI, generateKeyPair, SignJWT, JWTPayload, KeyLike } from 'jose';
import { KIND_TYP } from '../../src/identity/verify';

export interface TestKey {
  alg: 'ES256' | 'RS256';
  kid: string;
  privateKey: KeyLike;
  publicKey: KeyLike;
  publicJwk: Record<string, unknown>;
  publicPem: string;
}

export async function makeKey(alg: 'ES256' | 'RS256', kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, publicJwk, publicPem: await exportSPKI(publicKey) };
}

export function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-identity-'));
}

export function writeJwks(dir: string, name: string, keys: TestKey[]): string {
  const file = path.join(dir, `${name}.jwks.json`);
  fs.writeFileSync(file, JSON.stringify({ keys: keys.map((k) => k.publicJwk) }));
  return file;
}

export const now = () => Math.floor(Date.now() / 1000);

export async function sign(key: TestKey, claims: JWTPayload & Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: key.alg, kid: key.kid, ...header }).sign(key.privateKey);
}

/** A token of one kind, typed as the PDP expects from an issuer trusted for several kinds (KIND_TYP). */
export function signAs(key: TestKey, kind: 'user' | 'agent' | 'task' | 'txn', claims: JWTPayload & Record<string, unknown>, header: Record<string, unknown> = {}): Promise<string> {
  return sign(key, claims, { typ: KIND_TYP[kind], ...header });
}

export function b64url(s: string | Buffer): string {
  return Buffer.from(s).toString('base64url');
}

/** Replace the payload of a signed JWT, keeping its header and signature (a tampered token). */
export function tamperPayload(jwt: string, patch: Record<string, unknown>): string {
  const [h, p, s] = jwt.split('.');
  const payload = { ...JSON.parse(Buffer.from(p, 'base64url').toString()), ...patch };
  return [h, b64url(JSON.stringify(payload)), s].join('.');
}

/** Flip one character of the signature. */
export function alterSignature(jwt: string): string {
  const [h, p, s] = jwt.split('.');
  const c = s[5] === 'A' ? 'B' : 'A';
  return [h, p, s.slice(0, 5) + c + s.slice(6)].join('.');
}
