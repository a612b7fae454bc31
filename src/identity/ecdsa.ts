/**
 * ECDSA signature malleability. For an ECDSA signature (r, s), (r, n − s) verifies too (n: the curve's
 * order), so anyone holding one token can write a second, different text of it without the key. The
 * "low-S" form (s ≤ n/2) picks one of the two. Most JOSE signers (OpenSSL, jose, Go, Java) do not
 * normalise, so about half of their ES* tokens are high-S: refusing those is an opt-in
 * (`identity.require_low_s`), and `pdp token` always signs low-S.
 */

/** Curve orders of the JWS ECDSA algorithms (RFC 7518 §3.4: P-256, P-384, P-521). */
export const CURVE_ORDER: Record<'ES256' | 'ES384' | 'ES512', bigint> = {
  ES256: BigInt('0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551'),
  ES384: BigInt('0xFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFC7634D81F4372DDF581A0DB248B0A77AECEC196ACCC52973'),
  ES512: BigInt(
    '0x01FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFA51868783BF2F966B7FCC0148F709A5D03BB5C9B8899C47AEBB6FB71E91386409',
  ),
};

function split(alg: string, sig: Buffer): { n: bigint; s: bigint; half: number } | undefined {
  const n = (CURVE_ORDER as Record<string, bigint>)[alg];
  // JWS ECDSA signatures are r || s, each of the curve's size (RFC 7518 §3.4); anything else is jose's to refuse
  if (n === undefined || sig.length === 0 || sig.length % 2 !== 0) return undefined;
  const half = sig.length / 2;
  return { n, s: BigInt('0x' + sig.subarray(half).toString('hex')), half };
}

/**
 * Whether a JWS signature (base64url) of an ES* algorithm has s > n/2. False for other algorithms.
 *
 * @example
 *   if (isHighS(header.alg, token.split('.')[2])) refuse();
 */
export function isHighS(alg: string, signatureB64: string): boolean {
  const p = split(alg, Buffer.from(signatureB64, 'base64url'));
  return p !== undefined && p.s > p.n >> 1n;
}

/** The low-S form of a compact JWS of an ES* algorithm (unchanged when already low-S or not ES*). */
export function toLowS(alg: string, jws: string): string {
  const [h, p, sig] = jws.split('.');
  const bytes = Buffer.from(sig, 'base64url');
  const parts = split(alg, bytes);
  if (!parts || parts.s <= parts.n >> 1n) return jws;
  const s = (parts.n - parts.s).toString(16).padStart(parts.half * 2, '0');
  return `${h}.${p}.${Buffer.concat([bytes.subarray(0, parts.half), Buffer.from(s, 'hex')]).toString('base64url')}`;
}
