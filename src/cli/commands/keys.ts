/**
 * `pdp keys` — local key material for development:
 *   pdp keys gen [--alg ES256] [--kid <kid>] [--name idp] [--out ./keys] [--force]
 *       a signing key pair: <out>/<name>.private.pem (PKCS#8, mode 0600) and <out>/<name>.jwks.json (public)
 *   pdp keys apikey [--id <caller-id>]
 *       a random API key for a PEP and the `sha256:` hash to put in `authentication.api_keys`
 *   pdp keys hash <key>
 *       the stored hash of an existing API key
 */
import * as fs from 'fs';
import * as path from 'path';
import { randomBytes, randomUUID } from 'crypto';
import { exportJWK, exportPKCS8, generateKeyPair } from 'jose';
import { hashApiKey } from '../../server/caller-auth';
import { ASYMMETRIC_ALGORITHMS } from '../../identity/types';

export const summary = 'generate a signing key pair + JWKS (gen) or a caller API key and its hash (apikey, hash)';

function flags(args: string[]): { pos: string[]; opts: Record<string, string | true> } {
  const pos: string[] = [];
  const opts: Record<string, string | true> = {};
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (a.startsWith('--')) {
      const [k, v] = a.slice(2).split('=', 2);
      if (v !== undefined) opts[k] = v;
      else if (i + 1 < args.length && !args[i + 1].startsWith('--')) opts[k] = args[++i];
      else opts[k] = true;
    } else pos.push(a);
  }
  return { pos, opts };
}

const USAGE = `usage:
  pdp keys gen [--alg ES256] [--kid <kid>] [--name idp] [--out ./keys] [--force]
  pdp keys apikey [--id <caller-id>]
  pdp keys hash <key>`;

/** The options each sub-command takes (anything else is refused, not ignored). */
const OPTIONS: Record<string, string[]> = { gen: ['alg', 'kid', 'name', 'out', 'force'], apikey: ['id'], hash: [] };

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const { pos, opts } = flags(args);
  const sub = pos[0];
  const unknown = sub in OPTIONS ? Object.keys(opts).find((k) => !OPTIONS[sub].includes(k)) : undefined;
  const stray = args.find((a) => a.startsWith('-') && !a.startsWith('--'));
  if (unknown !== undefined || stray !== undefined) {
    process.stderr.write(`pdp keys: unknown option ${stray ?? `--${unknown}`}\n${USAGE}\n`);
    return 2;
  }
  if (sub === 'gen') {
    const alg = typeof opts.alg === 'string' ? opts.alg : 'ES256';
    if (!(ASYMMETRIC_ALGORITHMS as readonly string[]).includes(alg)) {
      process.stderr.write(`pdp keys gen: --alg must be one of ${ASYMMETRIC_ALGORITHMS.join(', ')}\n`);
      return 2;
    }
    const name = typeof opts.name === 'string' ? opts.name : 'idp';
    if (!/^[A-Za-z0-9._-]+$/.test(name)) {
      process.stderr.write('pdp keys gen: --name may hold letters, digits, ".", "_" and "-" only\n');
      return 2;
    }
    const out = path.resolve(typeof opts.out === 'string' ? opts.out : './keys');
    const kid = typeof opts.kid === 'string' ? opts.kid : `${name}-${randomUUID().slice(0, 8)}`;
    const privFile = path.join(out, `${name}.private.pem`);
    const jwksFile = path.join(out, `${name}.jwks.json`);
    if (!opts.force && (fs.existsSync(privFile) || fs.existsSync(jwksFile))) {
      process.stderr.write(`pdp keys gen: ${privFile} or ${jwksFile} exists; pass --force to overwrite\n`);
      return 1;
    }
    const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true, ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}) });
    const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
    fs.mkdirSync(out, { recursive: true });
    fs.writeFileSync(privFile, await exportPKCS8(privateKey), { mode: 0o600 });
    fs.writeFileSync(jwksFile, JSON.stringify({ keys: [jwk] }, null, 2) + '\n');
    process.stdout.write(
      `wrote ${privFile} (private, keep it secret)\nwrote ${jwksFile} (public)\n\n` +
        `config:\n  identity:\n    issuers:\n      - issuer: https://idp.example.com\n        audiences: [pdp]\n` +
        `        jwks_file: ${path.relative(process.cwd(), jwksFile) || jwksFile}\n        algorithms: [${alg}]\n        use_for: [user, agent, task, txn]\n` +
        // the same key pair can be the PDP's own (approvals, transaction tokens: docs/approvals.md)
        `\nor, as the PDP's own signing key:\n  signing:\n    key_file: ${path.relative(process.cwd(), privFile) || privFile}\n`,
    );
    return 0;
  }
  if (sub === 'apikey') {
    const id = typeof opts.id === 'string' ? opts.id : 'pep-1';
    const key = 'pdpk_' + randomBytes(24).toString('base64url');
    process.stdout.write(
      `api key (give it to the enforcement point; it is not stored anywhere):\n  ${key}\n\n` +
        `config:\n  authentication:\n    mode: api_key\n    api_keys:\n      - id: ${id}\n        hash: ${hashApiKey(key)}\n`,
    );
    return 0;
  }
  if (sub === 'hash') {
    if (!pos[1]) {
      process.stderr.write(`${USAGE}\n`);
      return 2;
    }
    process.stdout.write(hashApiKey(pos[1]) + '\n');
    return 0;
  }
  process.stderr.write(`${USAGE}\n`);
  return 2;
}
