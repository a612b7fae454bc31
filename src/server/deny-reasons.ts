/**
 * `pdp_deny_reasons_total{code}`: why decisions are denied, with a bounded set of label values.
 *
 * Reason codes come from the policy, so their number is the policy author's choice (a code built with
 * sprintf from the input would be one series per request). The first DENY_REASON_CODES_MAX distinct
 * codes a process sees get their own series; every later one is counted as `other`. With several
 * workers each has its own first N, so the aggregated scrape holds at most N × workers codes.
 *
 * @example
 *   const codes = new BoundedLabel(50);
 *   counter.labels(codes.value(reason.code)).inc();
 */
import type { DecisionResult } from './types';

export const DENY_REASON_CODES_MAX = 50;
export const OTHER_LABEL = 'other';
/** longer codes are cut: a label value is not the place for a policy's prose */
const MAX_CODE_LENGTH = 100;

/** Maps values onto at most `max` distinct labels (first come), the rest onto OTHER_LABEL. */
export class BoundedLabel {
  private readonly seen = new Set<string>();
  constructor(readonly max: number) {}

  value(v: string): string {
    const s = v.length > MAX_CODE_LENGTH ? v.slice(0, MAX_CODE_LENGTH) : v;
    if (this.seen.has(s)) return s;
    if (s === OTHER_LABEL || this.seen.size >= this.max) return OTHER_LABEL;
    this.seen.add(s);
    return s;
  }
}

/** The reason codes of a decision that did not allow (errors included: they deny too). */
export function denyCodes(result: Pick<DecisionResult, 'allow' | 'reasons'>): string[] {
  if (result.allow) return [];
  const codes: string[] = [];
  for (const r of result.reasons ?? []) if (r && typeof r.code === 'string') codes.push(r.code);
  return codes.length > 0 ? codes : ['none'];
}
