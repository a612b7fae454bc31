/**
 * The obligations the MCP gateway knows how to carry out. An allow whose obligations are not all
 * understood and valid is a deny: the gateway never forwards a call with a duty left undone.
 *
 * - `redact_fields: string[]` — remove these fields from the tool's result before the agent sees it.
 *   A name without a dot removes that key at any depth; a dotted path (`customer.email`) removes it
 *   from the top of the result object (arrays on the way are walked element by element).
 * - `require_approval: true | { … }` — the call goes through only when the PDP verified an approval of
 *   this very call (the answer's `approval`, docs/approvals.md); `false` means no approval is needed. A
 *   header alone never satisfies it: whoever can set a header could approve anything.
 */
import { unknownObligations, unsupportedObligationReason } from '../obligations';
import type { Decision, Reason } from '../types';
import { hasKey, setKey } from '../../util/own-keys';

export const UNDERSTOOD = ['redact_fields', 'require_approval'] as const;

export type CallDuties = { ok: true; redact: string[] } | { ok: false; reasons: Reason[] };

/** Checks an allowed call's obligations against what the gateway can do for this request. */
export function callDuties(decision: Decision): CallDuties {
  const approved = decision.approval?.verified === true;
  const unknown = unknownObligations(decision, UNDERSTOOD);
  if (unknown.length) return { ok: false, reasons: [unsupportedObligationReason(unknown)] };
  const o = decision.obligations;
  let redact: string[] = [];
  if ('redact_fields' in o) {
    const v = o.redact_fields;
    if (!Array.isArray(v) || !v.every((f) => typeof f === 'string' && f.length > 0)) {
      return { ok: false, reasons: [{ code: 'obligation.invalid', message: 'redact_fields must be a list of field names' }] };
    }
    redact = v as string[];
  }
  if ('require_approval' in o) {
    const v = o.require_approval;
    const needed = v === true || (typeof v === 'object' && v !== null && !Array.isArray(v));
    if (!needed && v !== false) {
      return { ok: false, reasons: [{ code: 'obligation.invalid', message: 'require_approval must be true, false or an object' }] };
    }
    if (needed && !approved) {
      const why = typeof v === 'object' && v !== null && typeof (v as { reason?: unknown }).reason === 'string' ? `: ${(v as { reason: string }).reason}` : '';
      return { ok: false, reasons: [{ code: 'approval.required', message: `this call needs human approval${why}` }] };
    }
  }
  return { ok: true, redact };
}

/** Whether a listing allow may show the tool: every obligation must be one the gateway can meet at call time. */
export function listable(decision: Decision): boolean {
  return decision.allow === true && unknownObligations(decision, UNDERSTOOD).length === 0;
}

type Json = unknown;

/**
 * Removes the fields from an MCP tool result (structuredContent and JSON text blocks). Content the
 * gateway cannot inspect for fields (plain text, binary resources, unknown block types) makes the
 * whole result unredactable: the caller withholds it rather than leak.
 */
export function redactResult(result: Record<string, unknown>, fields: string[]): { ok: true; result: Record<string, unknown> } | { ok: false; message: string } {
  if (fields.length === 0) return { ok: true, result };
  const out: Record<string, unknown> = { ...result };
  if (out.structuredContent !== undefined) out.structuredContent = redactValue(out.structuredContent, fields);
  if (out.content !== undefined) {
    if (!Array.isArray(out.content)) return { ok: false, message: 'result content is not a list' };
    const blocks: unknown[] = [];
    for (const block of out.content) {
      const r = redactBlock(block, fields);
      if (!r.ok) return r;
      blocks.push(r.block);
    }
    out.content = blocks;
  }
  return { ok: true, result: out };
}

function redactBlock(block: unknown, fields: string[]): { ok: true; block: unknown } | { ok: false; message: string } {
  if (typeof block !== 'object' || block === null) return { ok: false, message: 'a content block is not an object' };
  const b = block as Record<string, unknown>;
  switch (b.type) {
    case 'image':
    case 'audio':
    case 'resource_link':
      return { ok: true, block };
    case 'text': {
      const t = redactJsonText(b.text, fields);
      return t.ok ? { ok: true, block: { ...b, text: t.text } } : t;
    }
    case 'resource': {
      const res = b.resource as Record<string, unknown> | undefined;
      if (!res || typeof res !== 'object' || typeof res.text !== 'string') return { ok: false, message: 'an embedded resource without text cannot be redacted' };
      const t = redactJsonText(res.text, fields);
      return t.ok ? { ok: true, block: { ...b, resource: { ...res, text: t.text } } } : t;
    }
    default:
      return { ok: false, message: `content of type ${JSON.stringify(b.type)} cannot be redacted` };
  }
}

function redactJsonText(text: unknown, fields: string[]): { ok: true; text: string } | { ok: false; message: string } {
  if (typeof text !== 'string') return { ok: false, message: 'a text block has no text' };
  let parsed: Json;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { ok: false, message: 'a text block is not JSON, so its fields cannot be redacted' };
  }
  return { ok: true, text: JSON.stringify(redactValue(parsed, fields)) };
}

/** A copy of `value` without the fields; the input is not modified. */
export function redactValue(value: Json, fields: string[]): Json {
  let v = value;
  for (const f of fields) {
    const path = f.split('.');
    v = path.length === 1 ? dropEverywhere(v, f) : dropPath(v, path);
  }
  return v;
}

function dropEverywhere(v: Json, key: string): Json {
  if (Array.isArray(v)) return v.map((x) => dropEverywhere(x, key));
  if (typeof v !== 'object' || v === null) return v;
  // keys of a tool's result are data (util/own-keys.ts): a "__proto__" field is copied as a field
  const out: Record<string, Json> = {};
  for (const [k, x] of Object.entries(v)) if (k !== key) setKey(out, k, dropEverywhere(x, key));
  return out;
}

function dropPath(v: Json, path: string[]): Json {
  if (Array.isArray(v)) return v.map((x) => dropPath(x, path));
  if (typeof v !== 'object' || v === null) return v;
  const [head, ...rest] = path;
  const out: Record<string, Json> = { ...(v as Record<string, Json>) };
  if (!hasKey(out, head)) return v;
  if (rest.length === 0) delete out[head];
  else setKey(out, head, dropPath(out[head], rest));
  return out;
}
