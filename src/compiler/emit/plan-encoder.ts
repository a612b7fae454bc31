/**
 * Encodes an IR Program (../ir.ts) as the runtime's binary plan (src/runtime/plan.ts describes the
 * layout; the opcodes below must match it). The plan is validated while encoding: a bad local index,
 * argument count or break depth would make the runtime read or write outside a frame, so it is an
 * internal error here rather than memory corruption at evaluation time.
 */
import type { Block, Const, Program, Stmt } from '../ir';
import { HOST_FALLBACK, NATIVE_IDS, DECIMAL_ARITH, DECIMAL_HOST } from './natives';

export interface HostBuiltinInfo { arity: number; result?: 'set' | 'any' }
export interface EmitOptions { hostBuiltin(name: string): HostBuiltinInfo | undefined }

const OP = {
  const: 1, assign: 2, assign_once: 3, reset: 4, dot: 5, len: 6, equal: 7, not_equal: 8, is_defined: 9,
  is_undefined: 10, is_array: 11, is_object: 12, is_set: 13, truthy: 14, make_array: 15, array_append: 16,
  make_object: 17, object_insert: 18, object_insert_once: 19, make_set: 20, set_add: 21, object_merge: 22,
  call: 23, call_native: 24, call_host: 25, scan: 26, block: 27, not: 28, break: 29, upsert: 30, result_add: 31,
} as const;

const MAGIC = 0x31504450;
const HEADER_WORDS = 14;
export const MAX_HOST_ARGS = 4;

const NUMBER_RE = /^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?$/;

/** The constant as Rego value text (JSON plus `set()` / `{a, b}` sets), parsed once by the runtime. */
export function constText(c: Const): string {
  switch (c.t) {
    case 'null': return 'null';
    case 'bool': return c.v ? 'true' : 'false';
    case 'num': return numberText(c.v);
    case 'str': return JSON.stringify(c.v);
    case 'arr': return `[${c.v.map(constText).join(',')}]`;
    case 'obj': return `{${c.v.map(([k, v]) => `${constText(k)}:${constText(v)}`).join(',')}}`;
    case 'set': return c.v.length === 0 ? 'set()' : `{${c.v.map(constText).join(',')}}`;
  }
}

function numberText(v: string): string {
  const problem = numberRangeProblem(v);
  if (problem) throw new Error(problem);
  return v;
}

/**
 * Why the runtime cannot hold the number literal `v` exactly (undefined when it can). The runtime keeps
 * integers of any size and decimals as exact digits (as OPA keeps a number's text), so only malformed
 * literals and exponents beyond the runtime's bound (±100000) are refused.
 */
export function numberRangeProblem(v: string): string | undefined {
  if (!NUMBER_RE.test(v)) return `number literal ${JSON.stringify(v)} is not a valid number`;
  const key = decimalKey(v);
  const exp = key === '0' ? 0n : BigInt(key.slice(key.indexOf('e') + 1));
  if (exp > 100000n || exp < -100000n) return `number ${v} is outside the supported range (exponent beyond ±100000)`;
  return undefined;
}

/** A canonical text for the decimal value of a number literal: sign, significant digits, exponent. */
function decimalKey(text: string): string {
  const m = /^(-?)([0-9]*)(?:\.([0-9]*))?(?:[eE]([+-]?[0-9]+))?$/.exec(text);
  if (!m) return text;
  const all = (m[2] ?? '') + (m[3] ?? '');
  const lead = all.search(/[1-9]/);
  if (lead < 0) return '0';
  const digits = all.slice(lead).replace(/0+$/, '');
  // value = 0.digits × 10^exp
  const exp = BigInt(m[4] ?? '0') + BigInt((m[2] ?? '').length - lead);
  return `${m[1]}0.${digits}e${exp}`;
}

export interface EncodedPlan {
  bytes: Uint8Array;
  /** builtins() of the module: host built-in name → id */
  hostBuiltins: Record<string, number>;
}

export function encodePlan(program: Program, opts: EmitOptions): EncodedPlan {
  const words: number[] = new Array(HEADER_WORDS).fill(0);
  const hostIds = new Map<string, number>();
  const hostId = (name: string): number => {
    let id = hostIds.get(name);
    if (id === undefined) { id = hostIds.size; hostIds.set(name, id); }
    return id;
  };
  const nConsts = program.constants.length;

  // tables first (bodies are appended after them and patched in)
  const funcTable = words.length;
  for (let i = 0; i < program.funcs.length; i++) words.push(0, 0, 0, 0, 0, 0);
  const planTable = words.length;
  for (let i = 0; i < program.plans.length; i++) words.push(0, 0, 0);

  let frame = 0;
  let where = '';
  const fail = (msg: string): never => { throw new Error(`internal error in the compiled plan (${where}): ${msg}`); };
  const local = (l: number): number => {
    if (!Number.isInteger(l) || l < 0 || l >= frame) fail(`local ${l} outside the frame of ${frame}`);
    return l;
  };

  const block = (body: Block, depth: number): void => {
    const at = words.length;
    words.push(0);
    for (const s of body) stmt(s, depth);
    words[at] = words.length - at - 1;
  };

  const stmt = (s: Stmt, depth: number): void => {
    switch (s.op) {
      case 'const':
        if (!Number.isInteger(s.c) || s.c < 0 || s.c >= nConsts) fail(`constant ${s.c} out of range`);
        words.push(OP.const, local(s.dst), s.c); return;
      case 'assign': words.push(OP.assign, local(s.dst), local(s.src)); return;
      case 'assign_once': words.push(OP.assign_once, local(s.dst), local(s.src), s.kind === 'rule' ? 0 : 1); return;
      case 'reset': words.push(OP.reset, local(s.dst)); return;
      case 'dot': words.push(OP.dot, local(s.dst), local(s.src), local(s.key)); return;
      case 'len': words.push(OP.len, local(s.dst), local(s.src)); return;
      case 'equal': case 'not_equal': words.push(OP[s.op], local(s.a), local(s.b)); return;
      case 'is_defined': case 'is_undefined': case 'is_array': case 'is_object': case 'is_set': case 'truthy':
        words.push(OP[s.op], local(s.a)); return;
      case 'make_array': words.push(OP.make_array, local(s.dst), Math.max(0, Math.min(s.cap | 0, 1 << 20))); return;
      case 'array_append': words.push(OP.array_append, local(s.arr), local(s.val)); return;
      case 'make_object': words.push(OP.make_object, local(s.dst)); return;
      case 'object_insert': case 'object_insert_once':
        words.push(OP[s.op], local(s.obj), local(s.key), local(s.val)); return;
      case 'make_set': words.push(OP.make_set, local(s.dst)); return;
      case 'set_add': words.push(OP.set_add, local(s.set), local(s.val)); return;
      case 'object_merge': words.push(OP.object_merge, local(s.dst), local(s.a), local(s.b)); return;
      case 'call': {
        const f = program.funcs[s.func];
        if (!f) fail(`call to unknown function ${s.func}`);
        if (s.args.length !== f.params) fail(`call to ${f.name} with ${s.args.length} arguments, expected ${f.params}`);
        words.push(OP.call, local(s.dst), s.func, s.args.length, ...s.args.map(local));
        return;
      }
      case 'call_builtin': {
        const native = NATIVE_IDS.get(s.name);
        if (native && native.arity === s.args.length) {
          // arithmetic carries the id of the host's exact decimal arithmetic instead (runtime builtins.ts)
          const fallback = DECIMAL_ARITH.has(s.name)
            ? (opts.hostBuiltin(DECIMAL_HOST) ? hostId(DECIMAL_HOST) : -1)
            : HOST_FALLBACK.has(s.name) && opts.hostBuiltin(s.name) ? hostId(s.name) : -1;
          words.push(OP.call_native, local(s.dst), native.id, fallback, s.args.length, ...s.args.map(local));
          return;
        }
        const host = opts.hostBuiltin(s.name);
        if (!host) throw new Error(`built-in function ${s.name}`);
        if (s.args.length > MAX_HOST_ARGS) throw new Error(`built-in function ${s.name}: too many built-in call arguments (at most ${MAX_HOST_ARGS})`);
        words.push(OP.call_host, local(s.dst), hostId(s.name), host.result === 'set' ? 1 : 0, s.args.length, ...s.args.map(local));
        return;
      }
      case 'scan':
        words.push(OP.scan, local(s.src), local(s.key), local(s.value));
        block(s.body, depth + 1);
        return;
      case 'block': case 'not':
        words.push(OP[s.op]);
        block(s.body, depth + 1);
        return;
      case 'break':
        if (!Number.isInteger(s.levels) || s.levels < 0 || s.levels >= depth) fail(`break ${s.levels} at depth ${depth}`);
        words.push(OP.break, s.levels);
        return;
      case 'upsert':
        words.push(OP.upsert, local(s.dst), local(s.src), local(s.val), s.path.length, ...s.path.map(local));
        return;
      case 'result_add': words.push(OP.result_add, local(s.val)); return;
      default: fail(`unknown statement ${(s as { op: string }).op}`);
    }
  };

  program.funcs.forEach((f, i) => {
    where = `function ${f.name}`;
    if (f.params < 2 || f.locals < f.params) fail('bad frame size');
    frame = f.locals;
    local(f.result);
    const start = words.length;
    for (const s of f.body) stmt(s, 1);
    const e = funcTable + i * 6;
    words[e] = f.params; words[e + 1] = f.locals; words[e + 2] = f.result; words[e + 3] = f.memo ? 1 : 0;
    words[e + 4] = start * 4; words[e + 5] = words.length * 4;
  });
  program.plans.forEach((p, i) => {
    where = `plan ${p.name}`;
    frame = Math.max(2, p.locals);
    const start = words.length;
    for (const s of p.body) stmt(s, 1);
    const e = planTable + i * 3;
    words[e] = frame; words[e + 1] = start * 4; words[e + 2] = words.length * 4;
  });

  const enc = new TextEncoder();
  const constBytes = enc.encode(`[${program.constants.map(constText).join(',')}]`);
  const hostBuiltins: Record<string, number> = {};
  for (const [n, id] of hostIds) hostBuiltins[n] = id;
  const builtinBytes = enc.encode(JSON.stringify(hostBuiltins));
  const entrypoints: Record<string, number> = {};
  program.plans.forEach((p, i) => { entrypoints[p.name] = i; });
  const epBytes = enc.encode(JSON.stringify(entrypoints));

  const wordBytes = words.length * 4;
  const total = wordBytes + constBytes.length + builtinBytes.length + epBytes.length;
  const header = [MAGIC, total, wordBytes, constBytes.length, program.funcs.length, funcTable * 4,
    program.plans.length, planTable * 4, program.strictBuiltinErrors ? 1 : 0,
    wordBytes + constBytes.length, builtinBytes.length,
    wordBytes + constBytes.length + builtinBytes.length, epBytes.length, nConsts];
  header.forEach((v, i) => { words[i] = v; });

  const bytes = new Uint8Array(total);
  const view = new DataView(bytes.buffer);
  words.forEach((v, i) => view.setInt32(i * 4, v, true));
  bytes.set(constBytes, wordBytes);
  bytes.set(builtinBytes, wordBytes + constBytes.length);
  bytes.set(epBytes, wordBytes + constBytes.length + builtinBytes.length);
  return { bytes, hostBuiltins };
}
