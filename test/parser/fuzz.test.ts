/**
 * No input crashes the parser: thousands of random and mutated policies (mutations of the OPA conformance
 * modules), each of which must either parse or be refused with `file:line:col: message` errors.
 * Deterministic (seeded), so a failure reproduces.
 */
import { parseBody, parseModule, parseTerm } from '../../src/compiler/parser';
import { RegoError, RegoErrors } from '../../src/compiler/errors';
import { loadConformanceCases } from './corpus';
import { prng as rng } from '../helpers/prng';


const PIECES = [
  '{', '}', '[', ']', '(', ')', ':=', '=', '==', '!=', '<', '>=', '+', '-', '*', '/', '%', '&', '|', ',', ';', ':', '.',
  'if', 'else', 'contains', 'some', 'every', 'in', 'not', 'with', 'as', 'default', 'package', 'import', 'true', 'null',
  '"', '`', '"\\u12"', '"\\q"', '#', '# METADATA\n# title: [', '\n', '\t', ' ', 'x', '_', 'input', 'data', 'set()', '0', '01',
  '1e', '1e99999', '.5', '-', '$"', '\u0000', 'é', '😀', '\ud800', '\r\n', 'future.keywords.x', 'rego.v2',
];

const ALLOWED_CODES = new Set(['rego_parse_error', 'rego_compile_error', 'rego_type_error']);
const FILE = 'fuzz.rego';

function mutate(src: string, r: () => number): string {
  let s = src;
  const steps = 1 + Math.floor(r() * 4);
  for (let i = 0; i < steps; i++) {
    const at = Math.floor(r() * (s.length + 1));
    const len = Math.floor(r() * 12);
    switch (Math.floor(r() * 6)) {
      case 0: // delete a span
        s = s.slice(0, at) + s.slice(at + len);
        break;
      case 1: // insert a piece
        s = s.slice(0, at) + PIECES[Math.floor(r() * PIECES.length)] + s.slice(at);
        break;
      case 2: // duplicate a span
        s = s.slice(0, at) + s.slice(at, at + len) + s.slice(at);
        break;
      case 3: {
        // move a span elsewhere
        const span = s.slice(at, at + len);
        const rest = s.slice(0, at) + s.slice(at + len);
        const to = Math.floor(r() * (rest.length + 1));
        s = rest.slice(0, to) + span + rest.slice(to);
        break;
      }
      case 4: // truncate
        s = s.slice(0, at);
        break;
      default: // replace one character with a random code unit
        s = s.slice(0, at) + String.fromCharCode(Math.floor(r() * 0x3000)) + s.slice(at + 1);
    }
  }
  return s;
}

function soup(r: () => number): string {
  const n = 1 + Math.floor(r() * 40);
  const parts = ['package fuzz\n'];
  for (let i = 0; i < n; i++) parts.push(PIECES[Math.floor(r() * PIECES.length)], r() < 0.5 ? ' ' : '');
  return parts.join('');
}

/** Parses; returns 'ok' or 'error', and fails the test on anything that is not a clean RegoErrors. */
function attempt(fn: () => unknown, src: string): 'ok' | 'error' {
  try {
    const out = fn();
    JSON.stringify(out); // the AST is plain data
    return 'ok';
  } catch (e) {
    if (!(e instanceof RegoErrors)) throw new Error(`crash (${String(e)}) on input ${JSON.stringify(src)}`);
    if (e.errors.length === 0) throw new Error(`empty RegoErrors on ${JSON.stringify(src)}`);
    const maxLine = src.split('\n').length + 1;
    for (const err of e.errors) {
      if (!(err instanceof RegoError) || !ALLOWED_CODES.has(err.code)) throw new Error(`bad error ${String(err)} on ${JSON.stringify(src)}`);
      if (!/^fuzz\.rego:\d+:\d+: \S/.test(err.message)) throw new Error(`malformed message ${JSON.stringify(err.message)}`);
      if (err.loc.line < 1 || err.loc.line > maxLine || err.loc.col < 1) throw new Error(`location out of range: ${err.message}`);
    }
    return 'error';
  }
}

describe('fuzz: no input crashes the parser', () => {
  const corpus = loadConformanceCases().flatMap((c) => c.modules);
  const r = rng(20240601);

  test('mutated conformance modules', () => {
    const counts = { ok: 0, error: 0 };
    for (let i = 0; i < 4000; i++) {
      const src = mutate(corpus[Math.floor(r() * corpus.length)], r);
      counts[attempt(() => parseModule(src, FILE), src)]++;
    }
    // the mutations exercise both outcomes
    expect(counts.ok).toBeGreaterThan(100);
    expect(counts.error).toBeGreaterThan(1000);
  });

  test('random token soups as modules, queries and terms', () => {
    for (let i = 0; i < 1500; i++) {
      const src = soup(r);
      attempt(() => parseModule(src, FILE), src);
      const body = src.slice('package fuzz\n'.length);
      attempt(() => parseBody(body, FILE), body);
      attempt(() => parseTerm(body, FILE), body);
    }
  });

  test('pathological nesting and sizes are refused, not crashing', () => {
    const deep = [
      'package p\nx := ' + '['.repeat(5000),
      'package p\nx := ' + '['.repeat(3000) + ']'.repeat(3000),
      'package p\nx := ' + '('.repeat(3000) + '1' + ')'.repeat(3000),
      'package p\nx := ' + '{"a": '.repeat(3000) + '1' + '}'.repeat(3000),
      'package p\np if { ' + 'not '.repeat(3000) + 'x }',
      'package p\nx := ' + '1 + '.repeat(20000) + '1',
      'package p\nx := ' + '1 + '.repeat(300) + '1',
      'package p\nx := [' + '1, '.repeat(50000) + '1]',
      'package p\nx := ' + 'a.'.repeat(20000) + 'b',
      'package p\nx := ' + '[x | '.repeat(2000),
      'package p\np if { ' + 'every x in y { '.repeat(2000),
      // speculative re-reads of collections must stay linear (exponential without memoization)
      'package p\nx := ' + '{'.repeat(60) + '1' + '}+1'.repeat(60),
      'package p\nx := ' + '['.repeat(60) + '1' + ']+1'.repeat(60),
    ];
    for (const src of deep) attempt(() => parseModule(src, FILE), src);
    expect(attempt(() => parseModule(deep[1], FILE), deep[1])).toBe('error');
    expect(attempt(() => parseModule(deep[5], FILE), deep[5])).toBe('error');
    expect(attempt(() => parseModule(deep[6], FILE), deep[6])).toBe('ok');
    expect(attempt(() => parseModule(deep[7], FILE), deep[7])).toBe('ok');
    expect(attempt(() => parseModule(deep[11], FILE), deep[11])).toBe('ok');
    expect(attempt(() => parseModule(deep[12], FILE), deep[12])).toBe('ok');
  });
});
