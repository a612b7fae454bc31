/**
 * Obligations: duties an allow comes with. An enforcement point must carry out every obligation of
 * an allow or refuse the call, so each PEP declares what it understands and anything else is a deny.
 */
import type { Decision, Reason } from './types';

/** The names of obligations in `decision` that are not in `understood`, sorted. */
export function unknownObligations(decision: Decision, understood: Iterable<string>): string[] {
  const known = new Set(understood);
  return Object.keys(decision.obligations)
    .filter((k) => !known.has(k))
    .sort();
}

/** The reason given when an allow is refused because of obligations the PEP cannot carry out. */
export function unsupportedObligationReason(names: string[]): Reason {
  return {
    code: 'obligation.unsupported',
    message: `the enforcement point cannot carry out obligation(s) ${names.join(', ')}; denied`,
    obligations: names,
  };
}
