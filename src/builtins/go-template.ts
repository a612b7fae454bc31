/**
 * The part of Go's text/template that strings.render_template policies use: text, `{{pipeline}}`
 * output, `{{if}}` / `{{else if}}` / `{{else}}`, `{{range}}` (with `$i, $v :=` or `$v :=`, and `{{else}}`),
 * `{{with}}`, `{{- -}}` trimming, comments, and pipelines that are `.`, `.a.b`, `$x`, `$x.a` or a
 * string/number/boolean literal. Anything else (functions, `|` pipes, templates) is an error naming the
 * action: refused, never guessed. Values print as Go's %v prints the JSON form OPA hands the template;
 * a variable the data lacks prints `<undefined>` as in OPA.
 */
import { builtinErr, cmpStr, getKey, hasKey, isObject, Value } from './values';

const FN = 'strings.render_template';

type Node =
  | { k: 'text'; s: string }
  | { k: 'out'; p: string }
  | { k: 'if'; p: string; then: Node[]; else: Node[] }
  | { k: 'with'; p: string; then: Node[]; else: Node[] }
  | { k: 'range'; p: string; vars: string[]; then: Node[]; else: Node[] };

interface Tok { text?: string; action?: string }

function tokenize(src: string): Tok[] {
  const toks: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open < 0) { toks.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    let start = open + 2;
    if (src.startsWith('- ', start) || src.startsWith('-\t', start) || src.startsWith('-\n', start)) { text = text.replace(/\s+$/, ''); start += 1; }
    const close = src.indexOf('}}', start);
    if (close < 0) throw builtinErr(FN, 'template: unclosed action');
    let body = src.slice(start, close);
    let next = close + 2;
    if (/\s-$/.test(body)) { body = body.slice(0, -1); const m = /^\s*/.exec(src.slice(next))!; next += m[0].length; }
    if (text) toks.push({ text });
    const a = body.trim();
    if (!(a.startsWith('/*') && a.endsWith('*/'))) toks.push({ action: a });
    i = next;
  }
  return toks;
}

function parse(toks: Tok[]): Node[] {
  let pos = 0;
  // a control node (if / with / range) whose keyword and argument are given; consumes through its {{end}}
  const control = (kw: 'if' | 'with' | 'range', arg: string): Node => {
    let p = arg;
    let vars: string[] = [];
    if (kw === 'range') {
      const m = /^(\$\w+)\s*(?:,\s*(\$\w+)\s*)?:=\s*(.+)$/s.exec(p);
      if (m) { vars = m[2] ? [m[1], m[2]] : [m[1]]; p = m[3]; }
    }
    const [then, how] = block(['end', 'else']);
    let els: Node[] = [];
    if (how !== 'end') {
      const rest = how.replace(/^else\s*/, '');
      if (kw === 'if' && /^if\s/.test(rest)) els = [control('if', rest.slice(2).trim())]; // {{else if}} shares the {{end}}
      else if (rest) throw builtinErr(FN, `template: unsupported {{${how}}}`);
      else els = block(['end'])[0];
    }
    if (kw === 'range') return { k: 'range', p, vars, then, else: els };
    return kw === 'if' ? { k: 'if', p, then, else: els } : { k: 'with', p, then, else: els };
  };
  const block = (ends: string[]): [Node[], string] => {
    const out: Node[] = [];
    while (pos < toks.length) {
      const t = toks[pos++];
      if (t.text !== undefined) { out.push({ k: 'text', s: t.text }); continue; }
      const a = t.action!;
      const word = /^(\w+)\b\s*(.*)$/s.exec(a);
      const kw = word?.[1];
      if (kw === 'end' || kw === 'else') {
        if (!ends.includes(kw)) throw builtinErr(FN, `template: unexpected {{${a}}}`);
        return [out, a];
      }
      if (kw === 'if' || kw === 'with' || kw === 'range') out.push(control(kw, word![2]));
      else out.push({ k: 'out', p: a });
    }
    if (ends.length) throw builtinErr(FN, 'template: unexpected EOF');
    return [out, ''];
  };
  return block([])[0];
}

const MISSING = Symbol('missing');
type V = Value | typeof MISSING;

function field(v: V, name: string): V {
  if (isObject(v)) return hasKey(v, name) ? (getKey(v, name) as Value) : MISSING;
  throw builtinErr(FN, `template: can't evaluate field ${name} in type ${Array.isArray(v) ? 'array' : typeof v}`);
}

function evalPipe(p: string, dot: V, vars: Map<string, V>): V {
  const s = p.trim();
  if (/^"(?:[^"\\]|\\.)*"$/.test(s)) return JSON.parse(s) as string;
  if (/^-?\d+(\.\d+)?$/.test(s)) return Number(s);
  if (s === 'true' || s === 'false') return s === 'true';
  const m = /^(\.|\$\w*)((?:\.\w+)*)$/.exec(s) ?? /^()((?:\.\w+)+)$/.exec(s);
  if (!m) throw builtinErr(FN, `unsupported template action {{${s}}}`);
  let v: V;
  if (m[1] === '.' || m[1] === '') v = dot;
  else if (m[1] === '$') v = vars.get('$')!;
  else {
    if (!vars.has(m[1])) throw builtinErr(FN, `template: undefined variable "${m[1]}"`);
    v = vars.get(m[1])!;
  }
  for (const f of m[2].split('.').filter(Boolean)) {
    if (v === MISSING) return MISSING;
    v = field(v, f);
  }
  return v;
}

function truthy(v: V): boolean {
  if (v === MISSING || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isObject(v)) return Object.keys(v).length > 0;
  return true;
}

export function goValueText(v: V): string {
  if (v === MISSING) return '<undefined>';
  if (v === null) return '<nil>';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'bigint' || typeof v === 'boolean') return String(v);
  if (Array.isArray(v)) return '[' + v.map(goValueText).join(' ') + ']';
  return 'map[' + Object.keys(v).sort(cmpStr).map((k) => `${k}:${goValueText(v[k])}`).join(' ') + ']';
}

function run(nodes: Node[], dot: V, vars: Map<string, V>): string {
  let out = '';
  for (const n of nodes) {
    if (n.k === 'text') out += n.s;
    else if (n.k === 'out') out += goValueText(evalPipe(n.p, dot, vars));
    else if (n.k === 'if') out += run(truthy(evalPipe(n.p, dot, vars)) ? n.then : n.else, dot, vars);
    else if (n.k === 'with') {
      const v = evalPipe(n.p, dot, vars);
      out += truthy(v) ? run(n.then, v, vars) : run(n.else, dot, vars);
    } else {
      const v = evalPipe(n.p, dot, vars);
      const items: Array<[Value, Value]> = Array.isArray(v) ? v.map((x, i) => [i, x]) : isObject(v) ? Object.keys(v).sort(cmpStr).map((k) => [k, v[k]]) : [];
      if (!Array.isArray(v) && !isObject(v) && truthy(v)) throw builtinErr(FN, `template: range can't iterate over ${goValueText(v)}`);
      if (items.length === 0) { out += run(n.else, dot, vars); continue; }
      for (const [k, x] of items) {
        const inner = new Map(vars);
        if (n.vars.length === 1) inner.set(n.vars[0], x);
        if (n.vars.length === 2) { inner.set(n.vars[0], k); inner.set(n.vars[1], x); }
        out += run(n.then, x, inner);
      }
    }
  }
  return out;
}

export function renderTemplate(src: string, data: Value): string {
  return run(parse(tokenize(src)), data, new Map<string, V>([['$', data]]));
}
