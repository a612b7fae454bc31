/**
 * A deliberately tiny evaluator for the conformance cases whose rule is just built-in calls on literals
 * or input refs, so the host implementations can be checked against OPA's answers without the compiler.
 * Anything outside its grammar returns 'skip' (the case is left to the end-to-end conformance runner).
 */
import { callHost, evalContextFor, isBuiltinError, lookupBuiltin, Value } from '../../src/builtins/registry';
import { compare, toSet } from '../../src/builtins/values';

export type Outcome =
  | { kind: 'skip'; why: string }
  | { kind: 'value'; defined: boolean; value?: Value; set?: boolean }
  | { kind: 'error'; code: string; message: string };

class Skip extends Error {}
class Undefined extends Error {}
class EvalError extends Error { constructor(public code: string, msg: string) { super(msg); } }

// ---------- literal / expression parser ----------

type Expr =
  | { t: 'lit'; v: Value }
  | { t: 'var'; name: string }
  | { t: 'ref'; root: string; path: string[] }
  | { t: 'call'; fn: string; args: Expr[] }
  | { t: 'arr'; items: Expr[] }
  | { t: 'set'; items: Expr[] }
  | { t: 'obj'; entries: [Expr, Expr][] }
  | { t: 'bin'; op: string; l: Expr; r: Expr };

const INFIX: Record<string, string> = { '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte', '+': 'plus', '-': 'minus', '*': 'mul', '/': 'div', '%': 'rem' };

class P {
  i = 0;
  constructor(private s: string) {}
  ws() { while (this.i < this.s.length && /\s/.test(this.s[this.i])) this.i++; }
  peek(t: string) { this.ws(); return this.s.startsWith(t, this.i); }
  eat(t: string) { if (!this.peek(t)) throw new Skip(`expected ${t} at ${this.s.slice(this.i, this.i + 20)}`); this.i += t.length; }
  done() { this.ws(); return this.i >= this.s.length; }
  expr(): Expr {
    const l = this.term();
    this.ws();
    for (const op of ['==', '!=', '<=', '>=', '<', '>', '+', '-', '*', '/', '%']) {
      if (this.s.startsWith(op, this.i) && !this.s.startsWith(':=', this.i)) {
        this.i += op.length;
        return { t: 'bin', op, l, r: this.expr() };
      }
    }
    return l;
  }
  term(): Expr {
    this.ws();
    const c = this.s[this.i];
    if (c === '"') {
      const m = /^"(?:[^"\\]|\\.)*"/.exec(this.s.slice(this.i));
      if (!m) throw new Skip('bad string');
      this.i += m[0].length;
      return { t: 'lit', v: JSON.parse(m[0]) };
    }
    if (c === '`') {
      const j = this.s.indexOf('`', this.i + 1);
      const v = this.s.slice(this.i + 1, j);
      this.i = j + 1;
      return { t: 'lit', v };
    }
    if (c === '[') {
      this.i++;
      const items: Expr[] = [];
      while (!this.peek(']')) { items.push(this.expr()); if (this.peek(',')) this.eat(','); }
      this.eat(']');
      return { t: 'arr', items };
    }
    if (c === '{') {
      this.i++;
      const items: Expr[] = [];
      const entries: [Expr, Expr][] = [];
      while (!this.peek('}')) {
        const k = this.expr();
        if (this.peek(':') && !this.peek(':=')) { this.eat(':'); entries.push([k, this.expr()]); } else items.push(k);
        if (this.peek(',')) this.eat(',');
      }
      this.eat('}');
      if (entries.length && items.length) throw new Skip('mixed braces');
      return entries.length || items.length === 0 ? { t: 'obj', entries } : { t: 'set', items };
    }
    if (c === '(') { this.i++; const e = this.expr(); this.eat(')'); return e; }
    const num = /^-?\d+(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i));
    if (num) {
      this.i += num[0].length;
      const n = Number(num[0]);
      return { t: 'lit', v: Number.isSafeInteger(n) || !/^-?\d+$/.test(num[0]) ? n : BigInt(num[0]) };
    }
    const id = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*/.exec(this.s.slice(this.i));
    if (!id) throw new Skip(`unexpected ${this.s.slice(this.i, this.i + 10)}`);
    this.i += id[0].length;
    const name = id[0];
    if (name === 'true' || name === 'false') return { t: 'lit', v: name === 'true' };
    if (name === 'null') return { t: 'lit', v: null };
    if (this.s[this.i] === '(') {
      this.i++;
      const args: Expr[] = [];
      while (!this.peek(')')) { args.push(this.expr()); if (this.peek(',')) this.eat(','); }
      this.eat(')');
      return { t: 'call', fn: name, args };
    }
    if (this.s[this.i] === '[') throw new Skip('index refs');
    const parts = name.split('.');
    if (parts[0] === 'input' || parts[0] === 'data') return { t: 'ref', root: parts[0], path: parts.slice(1) };
    if (parts.length > 1) throw new Skip('other refs');
    return { t: 'var', name };
  }
}

// ---------- evaluation ----------

interface Env { vars: Map<string, Value>; input: Value; data: Value; strict: boolean }

function setOf(v: Value[]): Value { return toSet(v); }

function evalExpr(e: Expr, env: Env): Value {
  switch (e.t) {
    case 'lit': return e.v;
    case 'var': { if (!env.vars.has(e.name)) throw new Skip(`unbound ${e.name}`); return env.vars.get(e.name)!; }
    case 'ref': {
      let cur: Value | undefined = e.root === 'input' ? env.input : env.data;
      for (const p of e.path) {
        if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !(p in cur)) throw new Undefined();
        cur = (cur as Record<string, Value>)[p];
      }
      if (cur === undefined) throw new Undefined();
      return cur;
    }
    case 'arr': return e.items.map((x) => evalExpr(x, env));
    case 'set': return setOf(e.items.map((x) => evalExpr(x, env)));
    case 'obj': {
      const o: Record<string, Value> = {};
      for (const [k, v] of e.entries) { const kk = evalExpr(k, env); if (typeof kk !== 'string') throw new Skip('non-string key'); o[kk] = evalExpr(v, env); }
      return o;
    }
    case 'bin': return call(INFIX[e.op], [evalExpr(e.l, env), evalExpr(e.r, env)], env);
    case 'call': return call(e.fn, e.args.map((a) => evalExpr(a, env)), env);
  }
}

function call(fn: string, args: Value[], env: Env): Value {
  const d = lookupBuiltin(fn);
  if (!d || !d.host) throw new Skip(`not a host built-in: ${fn}`);
  if (['is_set', 'type_name', 'object.subset'].includes(fn)) throw new Skip('set-sensitive');
  try {
    const r = callHost(fn, args, evalContextFor(env.strict));
    if (r === undefined) throw new Undefined();
    return r;
  } catch (e) {
    if (isBuiltinError(e)) {
      if (env.strict) throw new EvalError(e.code, e.message);
      throw new Undefined();
    }
    throw e;
  }
}

function splitStatements(body: string): string[] {
  const out: string[] = [];
  let depth = 0, cur = '', inStr = false;
  for (let i = 0; i < body.length; i++) {
    const c = body[i];
    if (inStr) { cur += c; if (c === '\\') { cur += body[++i]; } else if (c === '"') inStr = false; continue; }
    if (c === '"') inStr = true;
    if ('([{'.includes(c)) depth++;
    if (')]}'.includes(c)) depth--;
    if ((c === '\n' || c === ';') && depth === 0) { if (cur.trim()) out.push(cur.trim()); cur = ''; continue; }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out.filter((s) => !s.startsWith('#'));
}

function runStatement(stmt: string, env: Env): void {
  if (stmt.startsWith('not ')) {
    try { runStatement(stmt.slice(4), { ...env, vars: new Map(env.vars) }); } catch (e) { if (e instanceof Undefined) return; throw e; }
    throw new Undefined();
  }
  const asg = /^([A-Za-z_][A-Za-z0-9_]*)\s*(:=|=)\s*(.*)$/s.exec(stmt);
  if (asg && !asg[3].startsWith('=')) {
    const p = new P(asg[3]);
    const e = p.expr();
    if (!p.done()) throw new Skip('trailing');
    const v = evalExpr(e, env);
    if (env.vars.has(asg[1])) { if (compare(env.vars.get(asg[1])!, v) !== 0) throw new Undefined(); return; }
    env.vars.set(asg[1], v);
    return;
  }
  const p = new P(stmt);
  const e = p.expr();
  if (!p.done()) throw new Skip('trailing');
  if (e.t === 'call') {
    const d = lookupBuiltin(e.fn);
    if (d && e.args.length === d.arity + 1) {
      // output-argument form: f(a, b, out)
      const v = call(e.fn, e.args.slice(0, -1).map((a) => evalExpr(a, env)), env);
      const out = e.args[e.args.length - 1];
      if (out.t === 'var' && !env.vars.has(out.name)) { env.vars.set(out.name, v); return; }
      if (compare(evalExpr(out, env), v) !== 0) throw new Undefined();
      return;
    }
  }
  const v = evalExpr(e, env);
  if (v === false) throw new Undefined();
}

/** Evaluate a case of the shape `package x` + one rule `p ...`; the query must be `data.<pkg>.p = x`. */
export function evalCase(c: { query: string; modules: string[]; input?: Value; input_term?: string; data?: Value; strict_error?: boolean }): Outcome {
  try {
    if (c.input_term !== undefined) {
      const p = new P(c.input_term);
      c = { ...c, input: evalExpr(p.expr(), { vars: new Map(), input: null, data: {}, strict: false }) };
    }
    if (c.modules.length !== 1) throw new Skip('several modules');
    const src = c.modules[0].replace(/^\s*#.*$/gm, '');
    const pkg = /^package\s+([\w.]+)/m.exec(src)?.[1];
    if (!pkg || c.query.trim() !== `data.${pkg}.p = x`) throw new Skip('query shape');
    const body = src.replace(/^package.*$/m, '').replace(/^import.*$/gm, '').trim();
    const m = /^p(\s+contains\s+(\w+)|\s*:=\s*(.+?))?(?:\s+if)?\s*(\{([\s\S]*)\})?\s*$/.exec(body);
    if (!m || body.split(/\n(?=[^\s}])/).length > 1) throw new Skip('rule shape');
    const env: Env = { vars: new Map(), input: c.input ?? null, data: c.data ?? {}, strict: !!c.strict_error };
    const stmts = m[5] !== undefined ? splitStatements(m[5]) : [];
    const headExpr = m[3] !== undefined && m[4] === undefined ? m[3] : m[3];
    try {
      for (const s of stmts) runStatement(s, env);
      if (m[2]) return { kind: 'value', defined: true, value: [env.vars.get(m[2])!], set: true };
      if (headExpr !== undefined) {
        const p = new P(headExpr);
        const e = p.expr();
        if (!p.done()) throw new Skip('head');
        return { kind: 'value', defined: true, value: evalExpr(e, env) };
      }
      return { kind: 'value', defined: true, value: true };
    } catch (e) {
      if (e instanceof Undefined) return { kind: 'value', defined: false };
      throw e;
    }
  } catch (e) {
    if (e instanceof Skip) return { kind: 'skip', why: e.message };
    if (e instanceof EvalError) return { kind: 'error', code: e.code, message: e.message };
    throw e;
  }
}
