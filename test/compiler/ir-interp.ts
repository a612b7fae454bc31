/**
 * A reference interpreter of the IR (test-only). It runs the planner's output without the wasm runtime,
 * so planner bugs and runtime bugs can be told apart (differential tests). Not a product path.
 */
import type { Block, Const, Program, Stmt } from '../../src/compiler/ir';

export type V = null | boolean | number | string | V[] | VObj | VSet;
export class VObj { m = new Map<string, [V, V]>(); }
export class VSet { m = new Map<string, V>(); }

export function keyOf(v: V): string {
  if (v === null) return 'n';
  if (typeof v === 'boolean') return v ? 't' : 'f';
  if (typeof v === 'number') return 'd' + String(v);
  if (typeof v === 'string') return 's' + JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(keyOf).join(',') + ']';
  if (v instanceof VSet) return '<' + [...v.m.keys()].sort().join(',') + '>';
  return '{' + [...v.m.entries()].sort((a, b) => (a[0] < b[0] ? -1 : 1)).map(([k, [, x]]) => k + ':' + keyOf(x)).join(',') + '}';
}

export function fromJSON(j: unknown): V {
  if (j === null || typeof j === 'boolean' || typeof j === 'number' || typeof j === 'string') return j;
  if (Array.isArray(j)) return j.map(fromJSON);
  const o = new VObj();
  for (const [k, x] of Object.entries(j as object)) o.m.set(keyOf(k), [k, fromJSON(x)]);
  return o;
}

export function toJSON(v: V): unknown {
  if (Array.isArray(v)) return v.map(toJSON);
  if (v instanceof VSet) return [...v.m.values()].map(toJSON);
  if (v instanceof VObj) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v.m.values()) o[typeof k === 'string' ? k : JSON.stringify(toJSON(k))] = toJSON(x);
    return o;
  }
  return v;
}

function constVal(c: Const): V {
  switch (c.t) {
    case 'null': return null;
    case 'bool': return c.v;
    case 'num': return Number(c.v);
    case 'str': return c.v;
    case 'arr': return c.v.map(constVal);
    case 'set': { const s = new VSet(); for (const x of c.v) { const y = constVal(x); s.m.set(keyOf(y), y); } return s; }
    case 'obj': { const o = new VObj(); for (const [k, x] of c.v) { const kk = constVal(k); o.m.set(keyOf(kk), [kk, constVal(x)]); } return o; }
  }
}

export class Abort extends Error {}
class Fail { constructor(public levels: number, public brk = false) {} }

const cmp = (a: V, b: V): number => { const x = keyOf(a), y = keyOf(b); return x < y ? -1 : x > y ? 1 : 0; };
const num = (v: V): number => { if (typeof v !== 'number') throw new Fail(0); return v; };
const BUILTINS: Record<string, (...a: V[]) => V | undefined> = {
  plus: (a, b) => num(a) + num(b), minus: (a, b) => {
    if (a instanceof VSet && b instanceof VSet) { const s = new VSet(); for (const [k, x] of a.m) if (!b.m.has(k)) s.m.set(k, x); return s; }
    return num(a) - num(b);
  },
  mul: (a, b) => num(a) * num(b), div: (a, b) => (num(b) === 0 ? undefined : num(a) / num(b)), rem: (a, b) => num(a) % num(b),
  lt: (a, b) => typeof a === typeof b && typeof a !== 'object' ? (a as any) < (b as any) : undefined,
  gt: (a, b) => typeof a === typeof b && typeof a !== 'object' ? (a as any) > (b as any) : undefined,
  lte: (a, b) => typeof a === typeof b && typeof a !== 'object' ? (a as any) <= (b as any) : undefined,
  gte: (a, b) => typeof a === typeof b && typeof a !== 'object' ? (a as any) >= (b as any) : undefined,
  count: (a) => (typeof a === 'string' ? [...a].length : Array.isArray(a) ? a.length : a instanceof VObj || a instanceof VSet ? a.m.size : undefined),
  concat: (sep, xs) => (Array.isArray(xs) ? xs.join(sep as string) : undefined),
  startswith: (a, b) => (a as string).startsWith(b as string),
  sort: (a) => (Array.isArray(a) ? [...a].sort(cmp) : a instanceof VSet ? [...a.m.values()].sort(cmp) : undefined),
  sum: (a) => (Array.isArray(a) ? a.reduce((s: number, x) => s + num(x), 0) : a instanceof VSet ? [...a.m.values()].reduce((s: number, x) => s + num(x), 0) : undefined),
};


export function runPlan(p: Program, planName: string, input: unknown, data: unknown): unknown[] {
  const plan = p.plans.find((x) => x.name === planName);
  if (!plan) throw new Error('no plan ' + planName);
  const memo = new Map<number, V | undefined>();
  const inV = input === undefined ? undefined : fromJSON(input);
  const dataV = fromJSON(data ?? {});
  const results = new VSet();
  const call = (fid: number, args: Array<V | undefined>): V | undefined => {
    const f = p.funcs[fid];
    const own = args[0] === inV && args[1] === dataV;
    if (f.memo && own && memo.has(fid)) return memo.get(fid);
    const fr: Array<V | undefined> = new Array(f.locals).fill(undefined);
    args.forEach((a, i) => (fr[i] = a));
    runBlock(f.body, fr);
    const r = fr[f.result];
    if (f.memo && own) memo.set(fid, r);
    return r;
  };
  const def = (fr: Array<V | undefined>, l: number): V => { const v = fr[l]; if (v === undefined) throw new Fail(0); return v; };
  const runBlock = (b: Block, fr: Array<V | undefined>): void => { for (const s of b) step(s, fr); };
  const sub = (b: Block, fr: Array<V | undefined>): Fail | undefined => {
    try { runBlock(b, fr); return undefined; } catch (e) { if (e instanceof Fail) { if (e.levels > 0) throw new Fail(e.levels - 1, e.brk); return e; } throw e; }
  };
  const step = (s: Stmt, fr: Array<V | undefined>): void => {
    switch (s.op) {
      case 'const': fr[s.dst] = constVal(p.constants[s.c]); return;
      case 'assign': fr[s.dst] = def(fr, s.src); return;
      case 'assign_once': {
        const v = def(fr, s.src);
        const d = fr[s.dst];
        if (d === undefined) fr[s.dst] = v;
        else if (keyOf(d) !== keyOf(v)) throw new Abort(s.kind === 'rule' ? 'eval_conflict_error: complete rules must not produce multiple outputs' : 'eval_conflict_error: functions must not produce multiple outputs for same inputs');
        return;
      }
      case 'reset': fr[s.dst] = undefined; return;
      case 'dot': {
        const src = def(fr, s.src), k = def(fr, s.key);
        let r: V | undefined;
        if (src instanceof VObj) r = src.m.get(keyOf(k))?.[1];
        else if (src instanceof VSet) r = src.m.has(keyOf(k)) ? k : undefined;
        else if (Array.isArray(src) && typeof k === 'number' && Number.isInteger(k)) r = src[k];
        if (r === undefined) throw new Fail(0);
        fr[s.dst] = r; return;
      }
      case 'len': { const v = def(fr, s.src); fr[s.dst] = Array.isArray(v) ? v.length : v instanceof VObj || v instanceof VSet ? v.m.size : (() => { throw new Fail(0); })(); return; }
      case 'equal': if (keyOf(def(fr, s.a)) !== keyOf(def(fr, s.b))) throw new Fail(0); return;
      case 'not_equal': if (keyOf(def(fr, s.a)) === keyOf(def(fr, s.b))) throw new Fail(0); return;
      case 'is_defined': if (fr[s.a] === undefined) throw new Fail(0); return;
      case 'is_undefined': if (fr[s.a] !== undefined) throw new Fail(0); return;
      case 'is_array': if (!Array.isArray(fr[s.a])) throw new Fail(0); return;
      case 'is_object': if (!(fr[s.a] instanceof VObj)) throw new Fail(0); return;
      case 'is_set': if (!(fr[s.a] instanceof VSet)) throw new Fail(0); return;
      case 'truthy': { const v = def(fr, s.a); if (v === false) throw new Fail(0); return; }
      case 'make_array': fr[s.dst] = []; return;
      case 'array_append': (fr[s.arr] as V[]).push(def(fr, s.val)); return;
      case 'make_object': fr[s.dst] = new VObj(); return;
      case 'object_insert': { const k = def(fr, s.key); (fr[s.obj] as VObj).m.set(keyOf(k), [k, def(fr, s.val)]); return; }
      case 'object_insert_once': {
        const k = def(fr, s.key), v = def(fr, s.val), o = fr[s.obj] as VObj;
        const have = o.m.get(keyOf(k));
        if (have && keyOf(have[1]) !== keyOf(v)) throw new Abort('eval_conflict_error: object keys must be unique');
        o.m.set(keyOf(k), [k, v]); return;
      }
      case 'make_set': fr[s.dst] = new VSet(); return;
      case 'set_add': { const v = def(fr, s.val); (fr[s.set] as VSet).m.set(keyOf(v), v); return; }
      case 'object_merge': {
        const merge = (a: V, b: V): V => {
          if (!(a instanceof VObj) || !(b instanceof VObj)) { if (keyOf(a) !== keyOf(b)) throw new Abort('eval_conflict_error: object keys must be unique'); return a; }
          const o = new VObj();
          for (const [k, e] of a.m) o.m.set(k, e);
          for (const [k, [kk, v]] of b.m) { const h = o.m.get(k); o.m.set(k, [kk, h ? merge(h[1], v) : v]); }
          return o;
        };
        fr[s.dst] = merge(def(fr, s.a), def(fr, s.b)); return;
      }
      case 'call': { const r = call(s.func, s.args.map((a) => fr[a])); if (r === undefined) throw new Fail(0); fr[s.dst] = r; return; }
      case 'call_builtin': {
        const f = BUILTINS[s.name];
        if (!f) throw new Error('interp: no built-in ' + s.name);
        let r: V | undefined;
        try { r = f(...s.args.map((a) => def(fr, a))); } catch (e) { if (e instanceof Fail) r = undefined; else throw e; }
        if (r === undefined) throw new Fail(0);
        fr[s.dst] = r; return;
      }
      case 'scan': {
        const src = def(fr, s.src);
        const entries: Array<[V, V]> = Array.isArray(src) ? src.map((x, i) => [i, x]) : src instanceof VObj ? [...src.m.values()] : src instanceof VSet ? [...src.m.values()].map((x) => [x, x]) : [];
        for (const [k, v] of entries) {
          fr[s.key] = k; fr[s.value] = v;
          const f = sub(s.body, fr);
          if (f && f.brk) break;
        }
        return;
      }
      case 'block': sub(s.body, fr); return;
      case 'not': if (!sub(s.body, fr)) throw new Fail(0); return;
      case 'break': throw new Fail(s.levels, true);
      case 'upsert': {
        const set = (o: V | undefined, path: V[], v: V): V => {
          if (!path.length) return v;
          const base = o instanceof VObj ? o : new VObj();
          const n = new VObj();
          for (const [k, e] of base.m) n.m.set(k, e);
          const k = path[0];
          n.m.set(keyOf(k), [k, set(base.m.get(keyOf(k))?.[1], path.slice(1), v)]);
          return n;
        };
        fr[s.dst] = set(fr[s.src], s.path.map((l) => def(fr, l)), def(fr, s.val)); return;
      }
      case 'result_add': { const v = def(fr, s.val); results.m.set(keyOf(v), v); return; }
    }
  };
  const fr: Array<V | undefined> = new Array(plan.locals).fill(undefined);
  fr[0] = inV; fr[1] = dataV;
  runBlock(plan.body, fr);
  return [...results.m.values()].map(toJSON);
}
