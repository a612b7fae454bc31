/**
 * The PDP's signing key and approvals as units: loading the key as `pdp keys gen` writes it, the binding of
 * an approval to one call, token-type separation, and hostile input (non-JSON parameters, huge calls).
 */
import * as fs from 'fs';
import * as path from 'path';
import { generateKeyPairSync } from 'crypto';
import { fileTree } from '../helpers/file-tree';
import { PdpSigner } from '../../src/identity/pdp-signer';
import { Approvals, APPROVAL_TYP } from '../../src/identity/approvals';
import { IdentityConfigError } from '../../src/identity/key-sources';
import { createPdpServer } from '../../src/server/server';
import { defaultConfig } from '../../src/server/config';

function keyDir(withJwks: boolean): string {
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const files: Record<string, string> = { 'pdp.private.pem': privateKey.export({ type: 'pkcs8', format: 'pem' }) as string };
  if (withJwks) files['pdp.jwks.json'] = JSON.stringify({ keys: [{ kty: 'EC', kid: 'pdp-1', alg: 'ES256' }] });
  return fileTree(files, 'pdp-signer-');
}

const input = (amount: number, user = 'u-bob') => ({
  user: { id: user, verified: true }, agent: { id: 'billing-bot' }, task: { id: 't-7' },
  tool: { server: 'billing', name: 'refunds.create', method: 'tools/call' }, parameters: { customer_id: 'c-1001', amount, currency: 'EUR' },
});

describe('PdpSigner', () => {
  test('reads kid and alg from the JWKS beside the key, else uses the key\'s thumbprint', () => {
    const listed = PdpSigner.load({ key_file: 'pdp.private.pem' }, keyDir(true));
    expect(listed.kid).toBe('pdp-1');
    expect(listed.jwks().keys[0]).toMatchObject({ kid: 'pdp-1', alg: 'ES256', kty: 'EC', use: 'sig' });
    expect(listed.jwks().keys[0]).not.toHaveProperty('d');
    const bare = PdpSigner.load({ key_file: 'pdp.private.pem', issuer: 'https://pdp.test' }, keyDir(false));
    expect(bare.kid).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(bare.issuer).toBe('https://pdp.test');
  });

  test('the PDP does not start with approval settings but no key, or with a key it cannot read', () => {
    const cfg = { ...defaultConfig(), decision_logs: { output: 'off', mask: [], buffer_size_limit_events: 10 } };
    expect(() => createPdpServer({ ...cfg, txn_tokens: { ttl_seconds: 30 } }, { log: () => undefined, watch: false, defaultMetrics: false })).toThrow(/need the PDP's own key/);
    expect(() => createPdpServer({ ...cfg, signing: { key_file: '/nonexistent/pdp.private.pem' } }, { log: () => undefined, watch: false, defaultMetrics: false })).toThrow(/signing\.key_file/);
  });

  test('a missing or non-key file stops the start, naming the file', () => {
    const dir = keyDir(false);
    expect(() => PdpSigner.load({ key_file: 'nope.pem' }, dir)).toThrow(IdentityConfigError);
    fs.writeFileSync(path.join(dir, 'junk.pem'), 'not a key');
    expect(() => PdpSigner.load({ key_file: 'junk.pem' }, dir)).toThrow(/junk\.pem/);
  });
});

describe('Approvals', () => {
  const approvals = new Approvals(PdpSigner.load({ key_file: 'pdp.private.pem' }, keyDir(true)), { ttl_seconds: 60 });

  async function approvedToken(amount: number): Promise<string> {
    const req = await approvals.request(input(amount), 'refund', 'd-1', 'http://pdp');
    const read = await approvals.readRequest(req.url.split('/approvals/')[1]);
    if (!read.ok) throw new Error(read.message);
    return (await approvals.approve(read.request, 'u-bob')).token;
  }

  test('an approval verifies for its call only', async () => {
    const token = await approvedToken(150);
    expect(await approvals.verify(token, input(150))).toMatchObject({ verified: true, approved_by: 'u-bob' });
    expect(await approvals.verify(token, input(151))).toMatchObject({ verified: false, error: { reason: 'digest_mismatch' } });
    expect(await approvals.verify(token, { ...input(150), parameters: { amount: 150, currency: 'EUR', customer_id: 'c-1001' } })).toMatchObject({ verified: true });
  });

  test('only the call\'s user can be the approver', async () => {
    const req = await approvals.request(input(150), 'refund', 'd-1', 'http://pdp');
    const read = await approvals.readRequest(req.url.split('/approvals/')[1]);
    if (!read.ok) throw new Error(read.message);
    await expect(approvals.approve(read.request, 'u-alice')).rejects.toThrow(/only u-bob/);
    const noUser = await approvals.request({ ...input(150), user: undefined }, 'refund', 'd-1', 'http://pdp');
    const r2 = await approvals.readRequest(noUser.url.split('/approvals/')[1]);
    if (!r2.ok) throw new Error(r2.message);
    await expect(approvals.approve(r2.request, 'u-bob')).rejects.toThrow();
  });

  test('a request is not an approval and an approval is not a request', async () => {
    const req = await approvals.request(input(150), 'refund', 'd-1', 'http://pdp');
    const requestToken = req.url.split('/approvals/')[1];
    expect(await approvals.verify(requestToken, input(150))).toMatchObject({ verified: false, error: { reason: 'wrong_kind' } });
    const read = await approvals.readRequest(await approvedToken(150));
    expect(read).toMatchObject({ ok: false, reason: 'wrong_kind' });
    expect(JSON.parse(Buffer.from((await approvedToken(150)).split('.')[0], 'base64url').toString()).typ).toBe(APPROVAL_TYP);
  });

  test('hostile input is refused, never thrown', async () => {
    for (const bad of [undefined, 42, '', 'a.b', 'x'.repeat(70_000)]) {
      expect(await approvals.verify(bad, input(150))).toMatchObject({ verified: false });
    }
    const token = await approvedToken(150);
    expect(await approvals.verify(token, { ...input(150), parameters: { s: 'lone \ud800 surrogate' } })).toMatchObject({ verified: false, error: { reason: 'malformed' } });
    expect(await approvals.readRequest('garbage')).toMatchObject({ ok: false });
  });

  test('a call too large for a link cannot get one', async () => {
    await expect(approvals.request({ ...input(150), parameters: { note: 'x'.repeat(20_000) } }, 'refund', 'd-1', 'http://pdp')).rejects.toThrow(/too large for an approval link/);
  });
});
