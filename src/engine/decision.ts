/**
 * Maps a decision entrypoint's result set to a decision. The policy returns `{allow, reasons,
 * obligations}` or a bare boolean; anything else fails closed with a reason saying why, because a
 * wrong "allow" is the worst bug this service can have.
 */
import type { Reason } from '../server/types';
import type { ResultSet } from './policy';

export interface MappedDecision {
  allow: boolean;
  reasons: Reason[];
  obligations: Record<string, unknown>;
  /**
   * The policy's value was already exactly this decision (just `allow`, `reasons` as objects with a
   * string `code` and string-or-absent `message`, `obligations`), so it serialises to the same text:
   * the decision log then keeps it once, as `result`.
   */
  asIs: boolean;
}

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** A reason the mapping keeps exactly as the policy wrote it. */
const keptAsIs = (v: unknown): boolean =>
  isObject(v) && typeof v.code === 'string' && (v.message === undefined || typeof v.message === 'string');

function toReason(v: unknown): Reason | undefined {
  if (typeof v === 'string') return { code: v };
  if (isObject(v) && typeof v.code === 'string') {
    const r: Reason = { ...v, code: v.code };
    if (r.message !== undefined && typeof r.message !== 'string') r.message = JSON.stringify(r.message);
    return r;
  }
  if (isObject(v) && typeof v.message === 'string') return { ...v, code: 'policy.reason', message: v.message };
  return undefined;
}

function reasonsOf(v: unknown): Reason[] {
  if (v === undefined) return [];
  // a Rego set or array arrives as an array; a partial object as code → message
  if (Array.isArray(v)) return v.map(toReason).filter((r): r is Reason => r !== undefined);
  if (isObject(v)) {
    return Object.entries(v).map(([code, m]) => (typeof m === 'string' ? { code, message: m } : { code }));
  }
  const r = toReason(v);
  return r ? [r] : [];
}

export function mapDecision(rs: ResultSet, entrypoint: string): MappedDecision {
  if (rs.length === 0) {
    return {
      allow: false,
      reasons: [{ code: 'policy.undefined', message: `the decision ${entrypoint} is undefined for this input` }],
      obligations: {},
      asIs: false,
    };
  }
  if (rs.length > 1) {
    return {
      allow: false,
      reasons: [{ code: 'policy.ambiguous', message: `the decision ${entrypoint} produced ${rs.length} results` }],
      obligations: {},
      asIs: false,
    };
  }
  const value = rs[0].result;
  if (typeof value === 'boolean') {
    return { allow: value, reasons: value ? [] : [{ code: 'policy.denied', message: `${entrypoint} is false` }], obligations: {}, asIs: false };
  }
  if (!isObject(value)) {
    return {
      allow: false,
      reasons: [{ code: 'policy.invalid_result', message: `${entrypoint} returned ${value === null ? 'null' : typeof value}, not an object or boolean` }],
      obligations: {},
      asIs: false,
    };
  }
  const reasons = reasonsOf(value.reasons);
  let obligations: Record<string, unknown> = {};
  if (value.obligations !== undefined) {
    if (!isObject(value.obligations)) {
      // obligations are duties of the enforcement point: if we cannot hand them over intact, deny
      return {
        allow: false,
        reasons: [...reasons, { code: 'policy.invalid_obligations', message: 'obligations must be an object' }],
        obligations: {},
        asIs: false,
      };
    }
    obligations = value.obligations;
  }
  if (typeof value.allow !== 'boolean') {
    return {
      allow: false,
      reasons: [
        ...reasons,
        {
          code: value.allow === undefined ? 'policy.allow_undefined' : 'policy.allow_not_boolean',
          message: value.allow === undefined ? `${entrypoint}.allow is undefined` : `${entrypoint}.allow is not a boolean`,
        },
      ],
      obligations,
      asIs: false,
    };
  }
  const asIs = Object.keys(value).length === 3 && isObject(value.obligations) && Array.isArray(value.reasons) && value.reasons.every(keptAsIs);
  return { allow: value.allow, reasons, obligations, asIs };
}
