/**
 * Object and JSON-document built-ins: object.*, json.filter/remove/patch.
 * Sets arrive as arrays, so where OPA distinguishes sets from arrays inside values (object.subset)
 * the host treats them as arrays; the runtime's native version is the faithful one (see docs).
 */
import { BuiltinError } from './errors';
import type { Impls } from './types';
import { keyOf } from './rego-text';
import {
  builtinErr, coll, dataObject, deepEqual, getKey, hasKey, isObject, obj, Obj, toSet, typeErr, Value,
} from './values';

function keysOf(fn: string, v: Value, pos: number): string[] {
  // any value may be a key: an element that is not a string stands for a non-string key (rego-text.ts)
  if (Array.isArray(v)) return v.map(keyOf);
  if (isObject(v)) return Object.keys(v);
  throw typeErr(fn, pos, 'one of {object, set, array}', v);
}

function unionDeep(a: Obj, b: Obj): Obj {
  const out: Obj = Object.assign(dataObject(), a);
  for (const [k, v] of Object.entries(b)) {
    const cur = getKey(out, k);
    out[k] = isObject(cur) && isObject(v) ? unionDeep(cur, v) : v;
  }
  return out;
}

function isSubset(sup: Value, sub: Value): boolean {
  if (isObject(sup) && isObject(sub)) {
    return Object.entries(sub).every(([k, v]) => hasKey(sup, k) && (isObject(v) && isObject(sup[k]) ? isSubset(sup[k], v) : deepEqual(sup[k], v)));
  }
  if (Array.isArray(sup) && Array.isArray(sub)) {
    // arrays: sub must appear as a contiguous run of sup
    if (sub.length === 0) return true;
    for (let i = 0; i + sub.length <= sup.length; i++) {
      if (sub.every((x, j) => deepEqual(sup[i + j], x))) return true;
    }
    return false;
  }
  return deepEqual(sup, sub);
}

// ---- JSON paths ("a/b/0" strings or ["a","b",0] arrays) ----

type Path = (string | number)[];

function parsePaths(fn: string, v: Value, pos: number): Path[] {
  const items = coll(fn, v, pos, 'one of {set, array}');
  return items.map((p) => {
    if (typeof p === 'string') {
      const t = p.replace(/^\//, '');
      return t === '' ? [] : t.split('/').map((seg) => seg.replace(/~1/g, '/').replace(/~0/g, '~'));
    }
    if (Array.isArray(p)) {
      return p.map((seg) => {
        if (typeof seg !== 'string' && typeof seg !== 'number') throw typeErr(fn, pos, 'path segments of strings or numbers', seg);
        return seg;
      });
    }
    throw typeErr(fn, pos, 'one of {set, array} of strings or arrays', p);
  });
}

interface PathTree { [seg: string]: PathTree | true }

function buildTree(paths: Path[]): PathTree | true {
  const root = dataObject<PathTree | true>() as PathTree;
  for (const p of paths) {
    if (p.length === 0) return true;
    let node: PathTree = root;
    for (let i = 0; i < p.length; i++) {
      const seg = String(p[i]);
      if (node[seg] === true) break;
      if (i === p.length - 1) { node[seg] = true; break; }
      node[seg] = (node[seg] as PathTree) ?? (dataObject<PathTree | true>() as PathTree);
      node = node[seg] as PathTree;
    }
  }
  return root;
}

function filterBy(v: Value, tree: PathTree | true): Value | undefined {
  if (tree === true) return v;
  if (isObject(v)) {
    const out: Obj = dataObject();
    for (const [seg, sub] of Object.entries(tree)) {
      if (hasKey(v, seg)) {
        const r = filterBy(v[seg], sub);
        if (r !== undefined) out[seg] = r;
      }
    }
    return out;
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((el, i) => {
      const sub = tree[String(i)] ?? (tree[JSON.stringify(el)] as PathTree | true | undefined);
      if (sub !== undefined) {
        const r = filterBy(el, sub);
        if (r !== undefined) out.push(r);
      }
    });
    return out;
  }
  return undefined;
}

function removeBy(v: Value, tree: PathTree | true): Value | undefined {
  if (tree === true) return undefined;
  if (isObject(v)) {
    const out: Obj = dataObject();
    for (const [k, el] of Object.entries(v)) {
      const sub = tree[k];
      if (sub === undefined) out[k] = el;
      else { const r = removeBy(el, sub); if (r !== undefined) out[k] = r; }
    }
    return out;
  }
  if (Array.isArray(v)) {
    const out: Value[] = [];
    v.forEach((el, i) => {
      const sub = tree[String(i)];
      if (sub === undefined) out.push(el);
      else { const r = removeBy(el, sub); if (r !== undefined) out.push(r); }
    });
    return out;
  }
  return v;
}

// ---- RFC 6902 JSON patch ----

function pointer(fn: string, p: Value): string[] {
  if (typeof p === 'string') {
    if (p === '') return [];
    if (!p.startsWith('/')) throw builtinErr(fn, `invalid JSON pointer ${JSON.stringify(p)}`);
    return p.slice(1).split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (Array.isArray(p)) return p.map((s) => String(s));
  throw builtinErr(fn, 'path must be a string or an array');
}

function clone(v: Value): Value {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return v.map(clone);
  // a prototype-less copy: the patch then sets and deletes keys like "__proto__" as plain keys
  const out: Obj = dataObject();
  for (const [k, x] of Object.entries(v)) out[k] = clone(x);
  return out;
}

function getAt(doc: Value, path: string[]): Value | undefined {
  let cur: Value | undefined = doc;
  for (const seg of path) {
    if (isObject(cur)) cur = Object.prototype.hasOwnProperty.call(cur, seg) ? cur[seg] : undefined;
    else if (Array.isArray(cur) && /^\d+$/.test(seg)) cur = cur[Number(seg)];
    else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function applyOp(fn: string, doc: Value, op: string, path: string[], value?: Value): Value {
  if (path.length === 0) {
    if (op === 'add' || op === 'replace') return value as Value;
    throw builtinErr(fn, `cannot ${op} the whole document`);
  }
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (isObject(parent)) {
    if (op === 'add') parent[last] = value as Value;
    else if (!hasKey(parent, last)) throw builtinErr(fn, `path /${path.join('/')} does not exist`);
    else if (op === 'remove') delete parent[last];
    else parent[last] = value as Value;
    return doc;
  }
  if (Array.isArray(parent)) {
    const idx = last === '-' ? parent.length : /^\d+$/.test(last) ? Number(last) : -1;
    if (op === 'add') {
      if (idx < 0 || idx > parent.length) throw builtinErr(fn, `index ${last} out of range`);
      parent.splice(idx, 0, value as Value);
    } else {
      if (idx < 0 || idx >= parent.length) throw builtinErr(fn, `index ${last} out of range`);
      if (op === 'remove') parent.splice(idx, 1);
      else parent[idx] = value as Value;
    }
    return doc;
  }
  throw builtinErr(fn, `path /${path.join('/')} does not exist`);
}

function jsonPatch(doc: Value, patches: Value[]): Value {
  const fn = 'json.patch';
  let cur = clone(doc);
  for (const p of patches) {
    if (!isObject(p) || typeof p.op !== 'string' || p.path === undefined) throw builtinErr(fn, 'each patch must be an object with op and path');
    const path = pointer(fn, p.path);
    switch (p.op) {
      case 'add': case 'replace':
        if (!('value' in p)) throw builtinErr(fn, `${p.op} needs a value`);
        cur = applyOp(fn, cur, p.op, path, clone(p.value));
        break;
      case 'remove':
        cur = applyOp(fn, cur, 'remove', path);
        break;
      case 'move': case 'copy': {
        const from = pointer(fn, p.from as Value);
        const v = getAt(cur, from);
        if (v === undefined) throw builtinErr(fn, `from path does not exist`);
        if (p.op === 'move') cur = applyOp(fn, cur, 'remove', from);
        cur = applyOp(fn, cur, 'add', path, clone(v));
        break;
      }
      case 'test': {
        const v = getAt(cur, path);
        if (v === undefined || !deepEqual(v, p.value as Value)) throw builtinErr(fn, 'test operation failed');
        break;
      }
      default:
        throw builtinErr(fn, `unknown op ${JSON.stringify(p.op)}`);
    }
  }
  return cur;
}

export const objectImpls: Impls = {
  'object.get': ([o, k, d]) => {
    const ob = obj('object.get', o, 1);
    if (Array.isArray(k)) {
      let cur: Value = ob;
      for (const seg of k) {
        if (isObject(cur) && typeof seg === 'string' && Object.prototype.hasOwnProperty.call(cur, seg)) cur = cur[seg];
        else if (Array.isArray(cur) && typeof seg === 'number' && Number.isInteger(seg) && seg >= 0 && seg < cur.length) cur = cur[seg];
        else return d;
      }
      return cur;
    }
    return typeof k === 'string' && Object.prototype.hasOwnProperty.call(ob, k) ? ob[k] : d;
  },
  'object.remove': ([o, k]) => {
    const ob = obj('object.remove', o, 1);
    const drop = new Set(keysOf('object.remove', k, 2));
    return Object.fromEntries(Object.entries(ob).filter(([key]) => !drop.has(key)));
  },
  'object.filter': ([o, k]) => {
    const ob = obj('object.filter', o, 1);
    const keep = new Set(keysOf('object.filter', k, 2));
    return Object.fromEntries(Object.entries(ob).filter(([key]) => keep.has(key)));
  },
  'object.union': ([a, b]) => unionDeep(obj('object.union', a, 1), obj('object.union', b, 2)),
  'object.union_n': ([a]) => {
    const xs = coll('object.union_n', a, 1, 'array');
    let out: Obj = dataObject();
    for (const x of xs) {
      if (!isObject(x)) throw typeErr('object.union_n', 1, 'array of objects', x);
      out = unionDeep(out, x);
    }
    return out;
  },
  'object.subset': ([sup, sub]) => {
    const ok = (v: Value) => isObject(v) || Array.isArray(v);
    if (!ok(sup)) throw typeErr('object.subset', 1, 'one of {object, set, array}', sup);
    if (!ok(sub)) throw typeErr('object.subset', 2, 'one of {object, set, array}', sub);
    if (isObject(sup) !== isObject(sub)) {
      throw new BuiltinError('eval_type_error', 'object.subset: both arguments must be objects, sets or arrays of the same kind');
    }
    return isSubset(sup, sub);
  },
  'json.filter': ([o, p]) => {
    const ob = obj('json.filter', o, 1);
    return filterBy(ob, buildTree(parsePaths('json.filter', p, 2))) ?? dataObject();
  },
  'json.remove': ([o, p]) => {
    const ob = obj('json.remove', o, 1);
    return removeBy(ob, buildTree(parsePaths('json.remove', p, 2))) ?? dataObject();
  },
  'graph.reachable': ([g, init]) => {
    const graph = obj('graph.reachable', g, 1);
    const todo = [...coll('graph.reachable', init, 2, 'one of {array, set}')];
    const seen: Value[] = [];
    while (todo.length) {
      const node = todo.pop() as Value;
      if (typeof node !== 'string' || !hasKey(graph, node) || seen.some((x) => deepEqual(x, node))) continue;
      seen.push(node);
      const next = graph[node];
      if (Array.isArray(next)) todo.push(...next);
      else if (isObject(next)) todo.push(...Object.keys(next));
    }
    return toSet(seen);
  },
  'json.patch': ([doc, patches]) => jsonPatch(doc, coll('json.patch', patches, 2, 'array')),
};
