/**
 * Built-ins of your own, from a plug-in module: for policies written for another tool that adds
 * functions to Rego (conftest's `parse_config`, a scanner's helpers), which OPA and this PDP do not have.
 * Without one such a policy is refused at compile time ("undefined function parse_config").
 *
 * A plug-in is a CommonJS module (`.js`) exporting `builtins`: name → declaration.
 *
 * @example
 *   // my-builtins.js
 *   exports.builtins = {
 *     'acme.is_internal': { args: ['string'], result: 'boolean', fn: (host) => host.endsWith('.acme.internal') },
 *   };
 *   // pdp test policies/ --builtins my-builtins.js
 *
 * A name the PDP already knows is refused (never replaced); a plug-in may supply an OPA built-in the PDP
 * lacks, and must then make it behave as OPA's does. `args` and `result` are type names of types.ts
 * (`string`, `number`, `boolean`, `array`, `object`, `set`, `any`, …). `fn` receives each argument as JSON (a set as a sorted array) and returns a JSON value, or
 * undefined for "undefined". A throw fails the decision (closed), as with any built-in bug. Loaded by
 * `pdp test|check|build|serve --builtins FILE` and the config file's `builtins` list; a module served
 * by `pdp serve` must be given the same plug-ins it was built with, or it does not load.
 */
import * as path from 'path';
import { addCustomBuiltin, lookupBuiltin } from './registry';
import type { TypeName } from './types';
import type { Value } from './values';
import { BuiltinError } from './errors';

export interface CustomBuiltin {
  args: TypeName[];
  result: TypeName;
  fn: (...args: Value[]) => Value | undefined;
  /** the result may differ between calls with the same arguments */
  nondeterministic?: boolean;
}

export class BuiltinPluginError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'BuiltinPluginError';
  }
}

const TYPE_NAMES = new Set<string>([
  'any', 'number', 'string', 'boolean', 'null', 'array', 'object', 'set', 'collection', 'array|set', 'string|array|set',
  'string|array|set|object', 'object|array|set', 'number|array', 'number|set', 'array|null', 'object|array', 'string|number',
]);
const NAME = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

/** which plug-in file registered each custom built-in (a second load of the same file is a no-op) */
const loadedFrom = new Map<string, string>();

function declare(name: string, b: unknown, where: string): void {
  const fail = (why: string): never => {
    throw new BuiltinPluginError(`${where}: built-in ${JSON.stringify(name)}: ${why}`);
  };
  if (!NAME.test(name)) fail('the name must be a dotted identifier (e.g. acme.parse)');
  if (loadedFrom.get(name) === where) return;
  if (lookupBuiltin(name)) fail('a built-in of that name already exists and cannot be replaced');
  if (typeof b !== 'object' || b === null) fail('expected {args, result, fn}');
  const d = b as Partial<CustomBuiltin>;
  if (!Array.isArray(d.args) || d.args.some((t) => typeof t !== 'string' || !TYPE_NAMES.has(t))) fail(`args must be a list of type names (${[...TYPE_NAMES].join(', ')})`);
  if (typeof d.result !== 'string' || !TYPE_NAMES.has(d.result)) fail('result must be a type name');
  if (typeof d.fn !== 'function') fail('fn must be a function');
  const fn = d.fn as CustomBuiltin['fn'];
  addCustomBuiltin({
    name,
    arity: d.args!.length,
    args: d.args as TypeName[],
    result: d.result as TypeName,
    category: 'custom',
    native: false,
    host: (args) => pluginResult(fn(...args.map(pluginArg))),
    ...(d.nondeterministic ? { nondeterministic: true } : {}),
  });
  loadedFrom.set(name, where);
}

/**
 * A plug-in sees plain JSON (docs/builtins.md): sets as sorted arrays, and no integer a double cannot
 * hold (refused rather than rounded: a rounded value could answer differently from the real one).
 */
function pluginArg(v: Value): Value {
  return JSON.parse(
    JSON.stringify(v, (_k, x) => {
      if (typeof x !== 'bigint') return x;
      throw new BuiltinError('eval_builtin_error', `plug-in built-ins take JSON numbers; ${x} is beyond 2^53`);
    }),
  );
}

/** What a plug-in returns, as JSON: keys whose value is undefined are absent, as JSON.stringify leaves them. */
function pluginResult(r: unknown): Value | undefined {
  return r === undefined ? undefined : JSON.parse(JSON.stringify(r));
}

/** Loads plug-in modules (paths relative to `base`) and registers their built-ins. Throws BuiltinPluginError. */
export function loadBuiltinPlugins(files: string[], base = process.cwd()): string[] {
  const names: string[] = [];
  for (const f of files) {
    const file = path.resolve(base, f);
    let mod: { builtins?: unknown };
    try {
      // eslint-disable-next-line @typescript-eslint/no-var-requires
      mod = require(file);
    } catch (e) {
      throw new BuiltinPluginError(`${f}: cannot load the built-ins module: ${(e as Error).message}`);
    }
    const table = mod?.builtins;
    if (typeof table !== 'object' || table === null) throw new BuiltinPluginError(`${f}: the module must export \`builtins\` (name → {args, result, fn})`);
    for (const [name, b] of Object.entries(table)) {
      declare(name, b, file);
      names.push(name);
    }
  }
  return names;
}
