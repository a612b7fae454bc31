/**
 * The catalog's `pii_fields` against what the demo MCP servers (src/pep/demo-server.ts) really return:
 * every field the catalog names must occur in that tool's result (a name that matches nothing redacts
 * nothing), and every personal-looking field a result carries must be named (or it leaks). Then the
 * redaction is followed end to end through the policy and the gateway's redactor.
 */
import * as fs from 'fs';
import * as path from 'path';
import { DEMO_TOOLS } from '../../src/pep/demo-server';
import { redactValue } from '../../src/pep/gateway/obligations';
import { compilePolicyPaths, type CompiledPolicy } from '../../src/testing/evaluate';

const REGO = path.join(__dirname, '..', '..', 'rego');

interface CatalogTool {
  pii_fields?: unknown;
}

function catalog(server: string): Record<string, CatalogTool> {
  const file = path.join(REGO, 'estate', 'catalog', server, 'data.json');
  return JSON.parse(fs.readFileSync(file, 'utf8')).tools;
}

// Arguments that make each demo tool answer (the demo ignores their values beyond echoing them).
const SAMPLE_ARGS: Record<string, Record<string, unknown>> = {
  'refunds.lookup': { customer_id: 'c-1001' },
  'refunds.create': { customer_id: 'c-1001', amount: 20, currency: 'EUR' },
  'invoices.export': { tenant: 'acme', max_records: 10 },
  'contacts.search': { query: 'ada' },
  'contacts.update': { contact_id: 'ct-1', fields: { phone: '+1' } },
  'contacts.export': { tenant: 'acme', max_records: 10 },
  'contacts.delete': { contact_id: 'ct-1' },
  'tickets.read': { ticket_id: 'T-100' },
  'tickets.reply': { ticket_id: 'T-100', body: 'done' },
  'kb.search': { query: 'refunds' },
};

// Keys that hold personal or payment data wherever they appear in a result.
const PERSONAL_KEY = /(e-?mail|phone|iban|card|address|birth|ssn|passport)/i;

/** Every key at any depth of a JSON value. */
function keysDeep(v: unknown, out = new Set<string>()): Set<string> {
  if (Array.isArray(v)) for (const x of v) keysDeep(x, out);
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      out.add(k);
      keysDeep(x, out);
    }
  }
  return out;
}

const cases = Object.entries(DEMO_TOOLS).flatMap(([server, tools]) => Object.keys(tools).map((tool) => [server, tool] as const));

describe('catalog pii_fields match the demo servers', () => {
  it('the catalog and the demo servers have the same tools', () => {
    for (const server of Object.keys(DEMO_TOOLS)) {
      expect(Object.keys(catalog(server)).sort()).toEqual(Object.keys(DEMO_TOOLS[server]).sort());
    }
  });

  it.each(cases)('%s/%s: named fields exist in the result, personal fields are named', (server, tool) => {
    const spec = catalog(server)[tool];
    expect(Array.isArray(spec.pii_fields)).toBe(true);
    const fields = spec.pii_fields as string[];
    const result = DEMO_TOOLS[server][tool].answer(SAMPLE_ARGS[tool]);
    const keys = keysDeep(result);
    for (const f of fields) expect(keys).toContain(f);
    const personal = [...keys].filter((k) => PERSONAL_KEY.test(k));
    expect(fields).toEqual(expect.arrayContaining(personal));
    // and the gateway's redactor, given exactly these fields, leaves none of them behind
    const left = keysDeep(redactValue(result, fields));
    for (const f of fields) expect(left).not.toContain(f);
  });
});

describe('a support agent looking up refunds (the demo gap)', () => {
  let policy: CompiledPolicy;
  beforeAll(async () => {
    policy = await compilePolicyPaths([REGO], 'mcp/authz/decision');
  });

  const future = '2099-12-31T23:59:59Z';
  const input = (roles: string[]) => ({
    user: { id: 'u-alice', verified: true, assurance: 'verified', claims: { sub: 'u-alice', tenant: 'acme', roles, may_act: { sub: 'support-bot' } } },
    agent: { id: 'support-bot', verified: true, assurance: 'verified', claims: { sub: 'support-bot' }, delegation: [] },
    tool: { server: 'billing', name: 'refunds.lookup', method: 'tools/call', annotations: { readOnlyHint: true } },
    parameters: { customer_id: 'c-1001' },
    task: { id: 't-7', assurance: 'verified', scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: {}, grants: [], expires_at: future } },
  });

  it('is allowed with a redact_fields obligation that removes the IBAN from the demo result', () => {
    const d = policy.evaluate(input(['support_agent'])) as { allow: boolean; obligations: { redact_fields?: string[] } };
    expect(d.allow).toBe(true);
    expect(d.obligations.redact_fields).toEqual(['iban']);
    const result = DEMO_TOOLS.billing['refunds.lookup'].answer({ customer_id: 'c-1001' });
    expect(JSON.stringify(result)).toContain('DE89');
    const shown = redactValue(result, d.obligations.redact_fields!);
    expect(JSON.stringify(shown)).not.toContain('DE89');
    expect(shown).toEqual({ customer_id: 'c-1001', refunds: [{ id: 'rf-1', amount: 40, currency: 'EUR' }] });
  });
});
