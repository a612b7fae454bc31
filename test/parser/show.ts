import type { Body, Expr, Term } from '../../src/compiler/ast';

/** A compact, unambiguous rendering of terms for assertions: calls as name(args), refs as head.path. */
export function show(t: Term): string {
  switch (t.type) {
    case 'null':
      return 'null';
    case 'boolean':
      return String(t.value);
    case 'number':
      return t.value;
    case 'string':
      return JSON.stringify(t.value);
    case 'var':
      return t.name;
    case 'ref':
      return show(t.head) + t.path.map((p) => (p.type === 'string' && /^[A-Za-z_][A-Za-z0-9_]*$/.test(p.value) ? `.${p.value}` : `[${show(p)}]`)).join('');
    case 'array':
      return `[${t.items.map(show).join(', ')}]`;
    case 'set':
      return `set(${t.items.map(show).join(', ')})`;
    case 'object':
      return `{${t.items.map(([k, v]) => `${show(k)}: ${show(v)}`).join(', ')}}`;
    case 'arraycompr':
      return `[${show(t.term)} | ${showBody(t.body)}]`;
    case 'setcompr':
      return `{${show(t.term)} | ${showBody(t.body)}}`;
    case 'objectcompr':
      return `{${show(t.key)}: ${show(t.value)} | ${showBody(t.body)}}`;
    case 'call':
      return `${show(t.fn)}(${t.args.map(show).join(', ')})`;
  }
}

export function showExpr(e: Expr): string {
  let s: string;
  const v = e.value;
  switch (v.type) {
    case 'term':
      s = show(v.term);
      break;
    case 'some':
      s = `some ${v.vars.map(show).join(', ')}`;
      break;
    case 'some_in':
      s = `some ${v.key ? show(v.key) + ', ' : ''}${show(v.value)} in ${show(v.collection)}`;
      break;
    case 'every':
      s = `every ${v.key ? show(v.key) + ', ' : ''}${show(v.value)} in ${show(v.domain)} {${showBody(v.body)}}`;
      break;
  }
  if (e.negated) s = 'not ' + s;
  for (const w of e.with) s += ` with ${show(w.target)} as ${show(w.value)}`;
  return s;
}

export function showBody(b: Body): string {
  return b.map(showExpr).join('; ');
}
