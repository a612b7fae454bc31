/**
 * uuid.parse: the forms Go's google/uuid Parse accepts (36 characters with dashes, the same in braces,
 * `urn:uuid:` + 36, or 32 hex digits) and the fields OPA reports: version and variant always; time,
 * clock sequence, node id and its MAC flags for versions 1 and 2; id and domain for version 2. A string
 * that is not a UUID makes the call undefined, as in OPA.
 */
import type { Impls } from './types';
import { exactInt, str, Value } from './values';

function uuidBytes(s: string): Buffer | undefined {
  let t = s;
  if (t.length === 45 && t.slice(0, 9).toLowerCase() === 'urn:uuid:') t = t.slice(9);
  else if (t.length === 38 && t[0] === '{' && t[37] === '}') t = t.slice(1, 37);
  if (t.length === 36) {
    if (t[8] !== '-' || t[13] !== '-' || t[18] !== '-' || t[23] !== '-') return undefined;
    t = t.slice(0, 8) + t.slice(9, 13) + t.slice(14, 18) + t.slice(19, 23) + t.slice(24);
  }
  if (!/^[0-9a-fA-F]{32}$/.test(t)) return undefined;
  return Buffer.from(t, 'hex');
}

function variant(b: number): string {
  if ((b & 0xc0) === 0x80) return 'RFC4122';
  if ((b & 0xe0) === 0xc0) return 'Microsoft';
  if ((b & 0xe0) === 0xe0) return 'Future';
  return 'Reserved';
}

function macVariables(b: number): string {
  if ((b & 3) === 3) return 'local:multicast';
  if ((b & 1) === 1) return 'global:multicast';
  if ((b & 2) === 2) return 'local:unicast';
  return 'global:unicast';
}

/** 100 ns intervals between 1582-10-15 (the UUID epoch) and 1970-01-01. */
const UUID_EPOCH_OFFSET = 122192928000000000n;

export function parseUuid(s: string): Value | undefined {
  const u = uuidBytes(s);
  if (!u) return undefined;
  const version = u[6] >> 4;
  const out: { [k: string]: Value } = { version, variant: variant(u[8]) };
  if (version === 1 || version === 2) {
    const t = BigInt(u.readUInt32BE(0)) | (BigInt(u.readUInt16BE(4)) << 32n) | (BigInt(u.readUInt16BE(6) & 0xfff) << 48n);
    out.time = exactInt((t - UUID_EPOCH_OFFSET) * 100n);
    out.clocksequence = u.readUInt16BE(8) & 0x3fff;
    const node = u.subarray(10, 16);
    out.nodeid = [...node].map((b) => b.toString(16).padStart(2, '0')).join('-');
    out.macvariables = macVariables(node[0]);
    if (version === 2) {
      out.id = u.readUInt32BE(0);
      out.domain = ['Person', 'Group', 'Org'][u[9]] ?? `Domain${u[9]}`;
    }
  }
  return out;
}

export const uuidImpls: Impls = {
  'uuid.parse': ([s]) => parseUuid(str('uuid.parse', s, 1)),
};
