/**
 * Object and JSON-document built-ins: object.*, json.filter/remove/patch.
 * Sets arrive as arrays, so where OPA distinguishes sets from arrays inside values (object.subset)
 * the host treats them as arrays; the runtime's native version is the faithful one (see docs).
 */
import { BuiltinError } from './errors';
import type { Impls } from './types';
import { isRegoSet, keyOf, regoSet } from './rego-text';
import {
  builtinErr, coll, dataObject, deepEqual, getKey, hasKey, isObject, obj, Obj, toSet, typeErr, typeOf, Value,
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

// ---- RFC 6902 JSON patch (OPA's applyPatches over its edit tree) ----

type Seg = Value;

/**
 * A patch path: "" is the whole document; any other string loses all its leading slashes (OPA's
 * strings.TrimLeft, so "b", "/b" and "//b" all name key b) and splits on "/" with ~1 / ~0 unescaped;
 * an array is taken segment by segment (a number segment is a number key or an array index).
 */
function pointer(fn: string, p: Value | undefined): Seg[] {
  if (typeof p === 'string') {
    if (p === '') return [];
    return p.replace(/^\/+/, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  }
  if (Array.isArray(p) && !isRegoSet(p)) return p;
  throw builtinErr(fn, `operand 2 must be one of {set, array} containing string paths or array of path segments but got ${typeOf(p)}`);
}

/** An array index segment: a non-negative integer (no leading zeros, as RFC 6901), or undefined. */
function indexOf(seg: Seg): number | undefined {
  if (typeof seg === 'number') return Number.isInteger(seg) && seg >= 0 ? seg : undefined;
  if (typeof seg === 'string' && /^(0|[1-9]\d{0,15})$/.test(seg)) return Number(seg);
  return undefined;
}

function clone(v: Value): Value {
  if (v === null || typeof v !== 'object') return v;
  if (Array.isArray(v)) return isRegoSet(v) ? regoSet(v.map(clone)) : v.map(clone);
  // a prototype-less copy: the patch then sets and deletes keys like "__proto__" as plain keys
  const out: Obj = dataObject();
  for (const [k, x] of Object.entries(v)) out[k] = clone(x);
  return out;
}

function getAt(doc: Value, path: Seg[]): Value | undefined {
  let cur: Value | undefined = doc;
  for (const seg of path) {
    if (isObject(cur)) cur = hasKey(cur, keyOf(seg)) ? cur[keyOf(seg)] : undefined;
    else if (Array.isArray(cur) && !isRegoSet(cur)) {
      const i = indexOf(seg);
      cur = i === undefined ? undefined : cur[i];
    } else return undefined;
    if (cur === undefined) return undefined;
  }
  return cur;
}

function where(path: Seg[]): string {
  return '/' + path.map((s) => (typeof s === 'string' ? s : JSON.stringify(s))).join('/');
}

function insertAt(fn: string, doc: Value, path: Seg[], value: Value): Value {
  if (path.length === 0) return value;
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (isObject(parent)) {
    parent[keyOf(last)] = value;
    return doc;
  }
  if (Array.isArray(parent) && !isRegoSet(parent)) {
    const idx = last === '-' ? parent.length : indexOf(last);
    if (idx === undefined || idx > parent.length) throw builtinErr(fn, `index ${JSON.stringify(last)} out of range at ${where(path)}`);
    parent.splice(idx, 0, value);
    return doc;
  }
  throw builtinErr(fn, `path ${where(path)} does not exist`);
}

function deleteAt(fn: string, doc: Value, path: Seg[]): Value {
  if (path.length === 0) throw builtinErr(fn, 'cannot delete the whole document');
  const parent = getAt(doc, path.slice(0, -1));
  const last = path[path.length - 1];
  if (isObject(parent) && hasKey(parent, keyOf(last))) {
    delete parent[keyOf(last)];
    return doc;
  }
  if (Array.isArray(parent) && !isRegoSet(parent)) {
    const idx = indexOf(last);
    if (idx !== undefined && idx < parent.length) {
      parent.splice(idx, 1);
      return doc;
    }
  }
  throw builtinErr(fn, `path ${where(path)} does not exist`);
}

function jsonPatch(doc: Value, patches: Value[]): Value {
  const fn = 'json.patch';
  let cur = clone(doc);
  for (const p of patches) {
    if (!isObject(p)) throw builtinErr(fn, 'must be an array of JSON-Patch objects, but at least one element is not an object');
    if (!hasKey(p, 'path')) throw builtinErr(fn, "missing required attribute 'path'");
    if (!hasKey(p, 'op')) throw builtinErr(fn, "missing required attribute 'op'");
    if (typeof p.op !== 'string') throw builtinErr(fn, `attribute 'op' must be a string but found: ${typeOf(p.op)}`);
    const path = pointer(fn, p.path);
    const value = (): Value => {
      if (!hasKey(p, 'value')) throw builtinErr(fn, "missing required attribute 'value'");
      return clone(p.value);
    };
    const from = (): Seg[] => {
      if (!hasKey(p, 'from')) throw builtinErr(fn, "missing required attribute 'from'");
      return pointer(fn, p.from);
    };
    const existing = (at: Seg[]): Value => {
      const v = getAt(cur, at);
      if (v === undefined) throw builtinErr(fn, `path ${where(at)} does not exist`);
      return v;
    };
    switch (p.op) {
      case 'add': cur = insertAt(fn, cur, path, value()); break;
      case 'remove': cur = deleteAt(fn, cur, path); break;
      case 'replace': {
        // a removal followed by an add: the path must exist
        if (path.length > 0) cur = deleteAt(fn, cur, path);
        cur = insertAt(fn, cur, path, value());
        break;
      }
      case 'move': {
        const f = from();
        const v = clone(existing(f));
        cur = deleteAt(fn, cur, f);
        cur = insertAt(fn, cur, path, v);
        break;
      }
      case 'copy': {
        const v = clone(existing(from()));
        cur = insertAt(fn, cur, path, v);
        break;
      }
      case 'test': {
        const v = existing(path);
        if (!deepEqual(v, value())) throw builtinErr(fn, `value at ${where(path)} differs from the test value`);
        break;
      }
      default:
        throw builtinErr(fn, `unrecognized op: '${p.op}'`);
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
