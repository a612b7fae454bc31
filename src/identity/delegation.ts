/**
 * RFC 8693 delegation chains. An `act` claim names the current actor; a nested `act` inside it names the
 * actor before that, and so on. We flatten it into a list, current actor first. Only the first entry may
 * ever be granted anything; the rest is for audit (RFC 8693 §4.1: prior actors are informational).
 */
import { ActorLink } from './types';

/** Longer chains are refused: real delegation is a handful of hops, and depth is an easy DoS lever. */
export const MAX_DELEGATION_DEPTH = 16;

export type ChainResult = { ok: true; chain: ActorLink[] } | { ok: false; message: string };

/** Flatten an `act` claim (possibly absent) into a chain, current actor first. */
export function flattenAct(act: unknown): ChainResult {
  const chain: ActorLink[] = [];
  let cur: unknown = act;
  while (cur !== undefined) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur)) {
      return { ok: false, message: '"act" must be a JSON object' };
    }
    const obj = cur as Record<string, unknown>;
    if (typeof obj.sub !== 'string' || obj.sub.length === 0) {
      return { ok: false, message: `"act" at depth ${chain.length + 1} has no "sub"` };
    }
    if (chain.length >= MAX_DELEGATION_DEPTH) {
      return { ok: false, message: `delegation chain is deeper than ${MAX_DELEGATION_DEPTH}` };
    }
    const { act: nested, ...claims } = obj;
    chain.push({ sub: obj.sub, ...(typeof obj.iss === 'string' ? { iss: obj.iss } : {}), claims });
    cur = nested;
  }
  return { ok: true, chain };
}
