/**
 * Seeded fuzzing of every decision endpoint over loopback: random and mangled JSON, wrong content types,
 * odd paths and bad tokens. The policy under test allows everything, so the only way to a deny is the
 * PDP refusing something: any allow for a request with a bad token, any 5xx or error without
 * `allow: false`, any non-JSON answer, or a changed answer to a known-good request afterwards is a bug.
 */
import * as fs from 'fs';
import * as path from 'path';
import { decisionBundle } from '../bundles/fixtures/make-bundle';
import { startWith, tmpDir } from '../server/helpers';
import type { PdpServer } from '../../src/server/server';
import { createIdentityResolver } from '../../src/identity';
import { makeKey, now, sign, signAs, writeJwks, b64url, alterSignature, tamperPayload, type TestKey } from '../identity/helpers';
import { prng } from '../helpers/prng';
import { deepNest, int, mangleText, mutate, pick, randJsonText, randString, randValue, type Rand } from './gen';

const ISS = 'https://idp.example.com';
let pdp: PdpServer;
let base: string;
let idp: TestKey;
let other: TestKey;
let goodToken: string;

beforeAll(async () => {
  idp = await makeKey('ES256', 'k1');
  other = await makeKey('ES256', 'k1');
  const dir = tmpDir();
  fs.writeFileSync(path.join(dir, 'mcp.tar.gz'), await decisionBundle('r1'));
  const resolver = createIdentityResolver({
    issuers: [{ issuer: ISS, audiences: ['pdp'], algorithms: ['ES256'], jwks_file: writeJwks(dir, 'idp', [idp]), use_for: ['user', 'agent', 'task', 'txn'] }],
  });
  pdp = await startWith([path.join(dir, 'mcp.tar.gz')], {}, { resolver });
  base = pdp.url();
  goodToken = await signAs(idp, 'user', { iss: ISS, aud: 'pdp', sub: 'alice', exp: now() + 3600 });
});

interface Answer { status: number; text: string; json: any; ct: string | null }

async function call(method: string, p: string, body?: string, headers: Record<string, string> = { 'content-type': 'application/json' }): Promise<Answer> {
  const res = await fetch(base + p, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await res.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, text, json, ct: res.headers.get('content-type') };
}

const ALLOWED = new Set([200, 400, 401, 404, 405, 413, 415, 422, 431, 500, 503]);

/** The invariants every answer keeps, whatever was sent. */
function checkAnswer(a: Answer, what: string): void {
  const ctx = `${what} → ${a.status} ${a.text.slice(0, 300)}`;
  if (!ALLOWED.has(a.status)) throw new Error(`status not allowed: ${ctx}`);
  if (a.json === undefined || a.json === null || typeof a.json !== 'object') throw new Error(`answer is not a JSON object: ${ctx}`);
  if (!/^application\/json/.test(a.ct ?? '')) throw new Error(`answer content type ${a.ct}: ${ctx}`);
  const isError = a.status >= 400 || a.json.error !== undefined;
  const authzen = 'decision' in a.json || 'evaluations' in a.json;
  if (isError && !authzen && a.json.allow !== false) throw new Error(`error answer without allow:false: ${ctx}`);
  if (isError && authzen && a.json.decision !== false) throw new Error(`AuthZEN error answer without decision:false: ${ctx}`);
}

const goodDecide = { tool: { name: 'refunds.create', server: 'billing' }, parameters: { amount: 5 }, user: { id: 'alice' } };
const goodEval = { subject: { type: 'user', id: 'alice' }, resource: { type: 'tool', id: 'billing/refunds.create' }, action: { name: 'tools/call' } };

/** A known-good round: the answers with per-call ids removed. */
async function snapshot(): Promise<unknown[]> {
  const strip = (j: any) => JSON.parse(JSON.stringify(j, (k, v) => (k === 'decision_id' ? undefined : v)));
  const d = await call('POST', '/v1/decide', JSON.stringify({ ...goodDecide, user: { id: 'alice', token: goodToken } }));
  const b = await call('POST', '/v1/decide/batch', JSON.stringify({ items: [goodDecide, goodDecide] }));
  const dp = await call('POST', '/v1/data/mcp/authz/echo', JSON.stringify({ input: { a: [1, 'x'] } }));
  const dg = await call('GET', '/v1/data/mcp/authz/echo?input=' + encodeURIComponent('{"b":2}'));
  const dd = await call('GET', '/v1/data/rev');
  const e = await call('POST', '/access/v1/evaluation', JSON.stringify(goodEval));
  const es = await call('POST', '/access/v1/evaluations', JSON.stringify({ ...goodEval, evaluations: [{}, { resource: { type: 'doc', id: 'd' } }] }));
  const out = [d, b, dp, dg, dd, e, es].map((a) => ({ status: a.status, body: strip(a.json) }));
  expect(out[0]).toEqual({ status: 200, body: expect.objectContaining({ allow: true }) });
  return out;
}

/** Tokens that must never verify. */
async function badToken(r: Rand): Promise<string> {
  switch (int(r, 9)) {
    case 0: return randString(r) || 'x';
    case 1: return goodToken.slice(0, 1 + int(r, goodToken.length - 2));
    case 2: return `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ iss: ISS, aud: 'pdp', sub: 'alice', exp: now() + 60 }))}.`;
    case 3: return alterSignature(goodToken);
    case 4: return tamperPayload(goodToken, { sub: 'mallory' });
    case 5: return sign(other, { iss: ISS, aud: 'pdp', sub: 'alice', exp: now() + 3600 });
    case 6: return sign(idp, { iss: ISS, aud: 'pdp', sub: 'alice', exp: now() - 3600 });
    case 7: return `${b64url(JSON.stringify({ alg: 'HS256', kid: 'k1' }))}.${b64url(JSON.stringify({ iss: ISS, aud: 'pdp', sub: 'alice', exp: now() + 60 }))}.${b64url('sig')}`;
    default: {
      const at = int(r, 3);
      return goodToken.split('.').map((p, i) => (i === at ? p + pick(r, ['A', '=', '.', '!', '~']) : p)).join('.') + (int(r, 2) ? '' : '.x');
    }
  }
}

let before: unknown[];
beforeAll(async () => {
  before = await snapshot();
});
afterAll(async () => {
  // nothing any fuzz case sent changed what a known-good request is answered
  expect(await snapshot()).toEqual(before);
  expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  await pdp.close();
});

describe('POST /v1/decide and /v1/decide/batch', () => {
  test('random JSON bodies', async () => {
    const r = prng(101);
    for (let i = 0; i < 250; i++) {
      const text = int(r, 3) === 0 ? `{"tool":{"name":"t"},"parameters":${randJsonText(r)}}` : randJsonText(r);
      const p = int(r, 4) === 0 ? '/v1/decide/batch' : '/v1/decide';
      checkAnswer(await call('POST', p, text), `#${i} ${p} ${text.slice(0, 200)}`);
    }
  });

  test('mutated valid requests and mangled JSON', async () => {
    const r = prng(202);
    for (let i = 0; i < 250; i++) {
      const batch = int(r, 3) === 0;
      const valid = batch ? { items: [goodDecide, { tool: { name: 'x' } }], defaults: { context: { ip: '1.2.3.4' } } } : goodDecide;
      const m = mutate(r, valid);
      let text = m === undefined ? '' : JSON.stringify(m);
      if (int(r, 4) === 0) text = mangleText(r, text);
      checkAnswer(await call('POST', batch ? '/v1/decide/batch' : '/v1/decide', text), `#${i} ${text.slice(0, 200)}`);
    }
  });

  test('deep nesting, huge and odd bodies, wrong content types', async () => {
    const r = prng(303);
    const bodies = [
      `{"tool":{"name":"t"},"parameters":{"p":${deepNest(5000, 'array')}}}`,
      `{"tool":{"name":"t"},"parameters":${deepNest(5000, 'object')}}`,
      `{"tool":{"name":"t"},"parameters":{"n":[1e400,-1e400,1e-400,-0,12345678901234567890,0.12345678901234567890123]}}`,
      `{"tool":{"name":"t"},"parameters":{"s":"\\ud800","t":"\\udfff\\ud800"}}`,
      `{"tool":{"name":"t"},"tool":{"name":"u"},"parameters":{"__proto__":{"polluted":1},"constructor":{"prototype":{"polluted":1}}}}`,
      `{"tool":{"name":"t","__proto__":{"polluted":1}},"user":{"__proto__":{"verified":true,"id":"root"}},"__proto__":{"user":{"verified":true}}}`,
      `{"items":[${Array(2000).fill('{"tool":{"name":"t"}}').join(',')}]}`,
      '\ufeff{"tool":{"name":"t"}}',
      'null', '[]', '""', '0', 'true', ' ', '{"tool":{"name":"t"}} x', '{"tool":{"name":"t"}}{}',
    ];
    for (const [i, b] of bodies.entries()) {
      for (const p of ['/v1/decide', '/v1/decide/batch']) checkAnswer(await call('POST', p, b), `odd #${i} ${p} ${b.slice(0, 120)}`);
    }
    const cts = ['', 'text/plain', 'application/x-www-form-urlencoded', 'application/jsonx', 'application/json; charset=latin1', 'APPLICATION/JSON', 'multipart/form-data; boundary=x', 'application/problem+json', '*/*'];
    for (let i = 0; i < 60; i++) {
      const h: Record<string, string> = {};
      const ct = pick(r, cts);
      if (ct) h['content-type'] = ct;
      if (int(r, 4) === 0) h['x-request-id'] = randString(r).replace(/[^\x20-\x7e]/g, '').slice(0, 400) || 'x';
      if (int(r, 5) === 0) h['content-encoding'] = pick(r, ['gzip', 'br', 'identity', 'bogus']);
      const body = int(r, 2) ? JSON.stringify(goodDecide) : randJsonText(r);
      checkAnswer(await call('POST', pick(r, ['/v1/decide', '/v1/decide/batch']), body, h), `ct #${i} ${JSON.stringify(h)}`);
    }
    // a body over the limit (1 MiB by default)
    checkAnswer(await call('POST', '/v1/decide', JSON.stringify({ tool: { name: 't' }, parameters: { s: 'x'.repeat(1_100_000) } })), 'huge');
  });

  test('a bad token is never an allow', async () => {
    const r = prng(404);
    for (let i = 0; i < 200; i++) {
      const tok = await badToken(r);
      const slot = pick(r, ['user', 'agent', 'task'] as const);
      const body: Record<string, unknown> = { tool: { name: 't' }, user: { id: 'alice' } };
      body[slot] = { ...(body[slot] as object), token: tok };
      if (int(r, 3) === 0) body.context = { txn: tok };
      const batch = int(r, 3) === 0;
      const text = batch ? JSON.stringify({ items: [{ tool: { name: 'ok' } }, body] }) : JSON.stringify(body);
      const a = await call('POST', batch ? '/v1/decide/batch' : '/v1/decide', text);
      const what = `#${i} ${slot} token ${tok}`;
      checkAnswer(a, what);
      const decision = batch ? a.json.results?.[1] : a.json;
      if (a.status === 200 && decision?.allow !== false) throw new Error(`bad token allowed: ${what} → ${a.text.slice(0, 300)}`);
    }
  });
});

describe('/v1/data', () => {
  test('random inputs by POST and GET', async () => {
    const r = prng(505);
    const paths = ['/v1/data/mcp/authz/echo', '/v1/data/mcp/authz/decision', '/v1/data', '/v1/data/', '/v1/data/rev', '/v1/data/nope'];
    for (let i = 0; i < 250; i++) {
      const p = pick(r, paths);
      const a = int(r, 2)
        ? await call('POST', p, int(r, 2) ? `{"input":${randJsonText(r)}}` : mangleText(r, randJsonText(r)))
        : await call('GET', `${p}?input=${encodeURIComponent(int(r, 3) ? randJsonText(r) : mangleText(r, randJsonText(r)))}`);
      checkAnswer(a, `#${i} ${p}`);
    }
  });

  test('odd paths', async () => {
    const r = prng(606);
    const odd = [
      '/v1/data/%2e%2e/', '/v1/data/%2e%2e/%2e%2e/etc/passwd', '/v1/data/..', '/v1/data/mcp%2fauthz%2fecho', '/v1/data/%', '/v1/data/%E0%A4%A',
      '/v1/data/%ff%fe', '/v1/data/%00', '/v1/data//mcp//authz//echo', '/v1/data/__proto__', '/v1/data/constructor/prototype', '/v1/data/rev/__proto__',
      '/v1/data/rev/length', '/v1/data/' + 'a/'.repeat(3000), '/v1/data/' + 'x'.repeat(7000), '/v1/data?input=%', '/v1/data/mcp/authz/echo?input=%E0%A4%A',
      '/v1/data/mcp/authz/echo?input=1e400', '/v1/data/mcp/authz/echo?input=%22%5Cud800%22', '/v1/data/mcp/authz/echo?input=' + deepNest(3000, 'array'),
      '/v1/data/mcp/authz/echo?input={"a":1}&input=2', '/v1/data/mcp/authz/echo#frag', '/v1/data/toString', '/v1/data/hasOwnProperty',
    ];
    for (let i = 0; i < 40; i++) odd.push('/v1/data/' + Array.from({ length: 1 + int(r, 4) }, () => encodeURIComponent(randString(r).slice(0, 30).replace(/[\ud800-\udfff]/g, '?'))).join('/'));
    for (const p of odd) {
      for (const m of ['GET', 'POST']) checkAnswer(await call(m, p, m === 'POST' ? '{"input":{}}' : undefined), `${m} ${p.slice(0, 150)}`);
    }
  });
});

describe('AuthZEN', () => {
  test('random and mutated evaluation(s) requests', async () => {
    const r = prng(707);
    for (let i = 0; i < 250; i++) {
      const many = int(r, 2) === 0;
      const valid = many ? { ...goodEval, evaluations: [{}, { action: { name: 'x' } }], options: { evaluations_semantic: 'execute_all' } } : goodEval;
      let text: string;
      switch (int(r, 3)) {
        case 0: text = randJsonText(r); break;
        case 1: { const m = mutate(r, valid); text = m === undefined ? '' : JSON.stringify(m); break; }
        default: text = mangleText(r, JSON.stringify(mutate(r, valid) ?? {}));
      }
      const p = many ? '/access/v1/evaluations' : '/access/v1/evaluation';
      checkAnswer(await call('POST', p, text), `#${i} ${p} ${text.slice(0, 200)}`);
    }
  });

  test('a bad token is never a permit', async () => {
    const r = prng(808);
    for (let i = 0; i < 120; i++) {
      const tok = await badToken(r);
      const subject = { type: 'user', id: 'alice', properties: { token: int(r, 8) === 0 ? randValue(r) : tok } };
      const many = int(r, 2) === 0;
      const body = many ? { evaluations: [{ ...goodEval, subject }] } : { ...goodEval, subject };
      const a = await call('POST', many ? '/access/v1/evaluations' : '/access/v1/evaluation', JSON.stringify(body));
      const what = `#${i} token ${JSON.stringify(subject.properties.token)}`;
      checkAnswer(a, what);
      const decision = many ? a.json.evaluations?.[0] : a.json;
      if (a.status === 200 && decision?.decision !== false) throw new Error(`bad token permitted: ${what} → ${a.text.slice(0, 300)}`);
    }
  });
});
