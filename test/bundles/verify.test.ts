import { CompactSign } from 'jose';
import { verifyBundle, fileDigest } from '../../src/bundles/verify';

const files = new Map<string, Buffer>([
  ['/.manifest', Buffer.from('{"revision":"r1"}')],
  ['/data.json', Buffer.from('{ "b": 1,   "a": [1, 2] }')],
  ['/policy.wasm', Buffer.from([0, 97, 115, 109])],
]);
const secret = 'bundle-signing-secret-that-is-long-enough';
const keys = { k1: { algorithm: 'HS256', key: secret } };

async function sign(payload: object, kid = 'k1'): Promise<{ signatures: string[] }> {
  const jws = await new CompactSign(Buffer.from(JSON.stringify(payload))).setProtectedHeader({ alg: 'HS256', kid }).sign(new TextEncoder().encode(secret));
  return { signatures: [jws] };
}
const listed = (fs: Map<string, Buffer>) => [...fs].map(([name, raw]) => ({ name: name.slice(1), hash: fileDigest(name, raw, 'SHA-256'), algorithm: 'SHA-256' }));

test('a correctly signed bundle verifies; structured files hash independently of whitespace', async () => {
  expect(fileDigest('/data.json', Buffer.from('{"a":[1,2],"b":1}'), 'SHA-256')).toBe(fileDigest('/data.json', files.get('/data.json')!, 'SHA-256'));
  await expect(verifyBundle(files, await sign({ files: listed(files) }), keys, undefined)).resolves.toBeUndefined();
});

test("OPA's rules: signed without keys, keys without signature, tampered file, unlisted file, wrong key", async () => {
  const sig = await sign({ files: listed(files) });
  await expect(verifyBundle(files, sig, undefined, undefined)).rejects.toThrow(/no verification key/);
  await expect(verifyBundle(files, undefined, keys, undefined)).rejects.toThrow(/not signed/);
  const tampered = new Map(files).set('/data.json', Buffer.from('{"a":[1,2],"b":2}'));
  await expect(verifyBundle(tampered, sig, keys, undefined)).rejects.toThrow(/digest mismatch/);
  const extra = new Map(files).set('/x/data.json', Buffer.from('{}'));
  await expect(verifyBundle(extra, sig, keys, undefined)).rejects.toThrow(/not included in bundle signature/);
  await expect(verifyBundle(files, sig, { k1: { algorithm: 'HS256', key: 'another-secret-another-secret-xx' } }, undefined)).rejects.toThrow(/verification failed/);
  await expect(verifyBundle(files, await sign({ files: listed(files), scope: 'write' }), keys, undefined)).rejects.toThrow(/scope mismatch/);
});
