/**
 * The compiler's public API: Rego sources → IR → a wasm module with OPA's ABI.
 *
 *   compile({ modules: [{ file, source }], entrypoints: ['mcp/authz/decision'] })
 *
 * Entry points are slash paths below `data`; their result set is `[{"result": v}]`. Rules annotated
 * `# METADATA` `entrypoint: true` are entry points as well. A `queries` entry compiles a query such as
 * `data.x.p = x` into a plan whose result-set entries are the bindings of the query's variables.
 * Every failure is thrown as RegoErrors (parse, compile, unsupported), never as a crash.
 */
import type { Location, Module } from './ast';
import type { Block, Program } from './ir';
import { RegoError, RegoErrors, unsupported } from './errors';
import { parseBody, parseModule, type RegoVersion } from './parser';
import { analyze } from './check';
import { rewritePrintInBody } from './check/rewrite-print';
import { Planner } from './plan/planner';
import { visitNodes } from './ast-walk';

export { checkModules } from './check';

export type { RegoVersion } from './parser';

/** One Rego source file; `regoVersion` 0 parses it as Rego v0 (the default is v1). */
export interface SourceFile {
  file: string;
  source: string;
  regoVersion?: RegoVersion;
}

export interface CompileOptions {
  modules: SourceFile[];
  entrypoints?: string[];
  queries?: Array<{ name: string; query: string }>;
  strictBuiltinErrors?: boolean;
  /**
   * Instrument the policy for explanations (plan/explain.ts): every rule body that holds reports a note
   * to the host built-in internal.pdp_explain_note. Same answers, slower; the PDP compiles this variant
   * only when an explanation is asked for, never for ordinary decisions.
   */
  explain?: boolean;
}

export interface CompileResult {
  wasm: Uint8Array;
  entrypoints: string[];
  program: Program;
  modules: Module[];
}

/** Parse every module, collecting all errors rather than stopping at the first file. */
export function parseAll(sources: SourceFile[]): Module[] {
  const modules: Module[] = [];
  const errors: RegoError[] = [];
  for (const s of sources) {
    try {
      modules.push(parseModule(s.source, s.file, { regoVersion: s.regoVersion }));
    } catch (e) {
      if (e instanceof RegoErrors) errors.push(...e.errors);
      else if (e instanceof RegoError) errors.push(e);
      else throw e;
    }
  }
  if (errors.length) throw new RegoErrors(errors);
  return modules;
}

/** Entry points declared with `entrypoint: true` METADATA annotations. */
export function annotatedEntrypoints(modules: Module[]): string[] {
  const out: string[] = [];
  for (const m of modules) {
    if (m.package.annotations?.entrypoint) out.push(m.package.path.join('/'));
    for (const r of m.rules) {
      if (!r.annotations?.entrypoint) continue;
      const ref = r.head.ref;
      const parts = [...m.package.path, ref.head.type === 'var' ? ref.head.name : ''];
      for (const p of ref.path) {
        if (p.type !== 'string') break;
        parts.push(p.value);
      }
      out.push(parts.join('/'));
    }
  }
  return out;
}

/** Front half of compile(): sources → IR program (no wasm). Tests and the IR interpreter use it. */
export function compileToProgram(opts: CompileOptions): { program: Program; entrypoints: string[]; modules: Module[]; usedBuiltins: Map<string, Location> } {
  const modules = parseAll(opts.modules);
  const entrypoints: string[] = [];
  for (const e of [...(opts.entrypoints ?? []), ...annotatedEntrypoints(modules)]) {
    const n = e.replace(/^data\//, '').replace(/^\/+|\/+$/g, '').replace(/\./g, '/');
    if (!entrypoints.includes(n)) entrypoints.push(n);
  }
  const c = analyze(modules);
  if (c.errors.length) throw new RegoErrors(c.errors);
  const queries: Array<{ name: string; body: import('./ast').Body; loc: Location }> = [];
  const qerrors: RegoError[] = [];
  for (const q of opts.queries ?? []) {
    try {
      const body = parseBody(q.query, `<query ${q.name}>`);
      rewritePrintInBody(body);
      queries.push({ name: q.name, body, loc: { file: `<query ${q.name}>`, line: 1, col: 1 } });
    } catch (e) {
      if (e instanceof RegoErrors) qerrors.push(...e.errors);
      else throw e;
    }
  }
  if (qerrors.length) throw new RegoErrors(qerrors);
  const planner = new Planner(c.tree, c.scopes, !!opts.explain);
  const program = planner.program({ entrypoints, queries, strictBuiltinErrors: !!opts.strictBuiltinErrors });
  if (planner.errors.length) throw new RegoErrors(planner.errors);
  return { program, entrypoints, modules, usedBuiltins: planner.usedBuiltins };
}

/** Number literals (in modules and queries) the runtime cannot hold exactly, each at its location. */
function unrepresentableNumbers(modules: Module[], queries: Array<{ name: string; query: string }>): RegoError[] {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const { numberRangeProblem } = require('./emit/plan-encoder') as { numberRangeProblem(v: string): string | undefined };
  const out: RegoError[] = [];
  const visit = (root: unknown): void =>
    visitNodes(root, (node) => {
      const n = node as { type?: unknown; value?: unknown; loc?: Location };
      if (n.type !== 'number' || typeof n.value !== 'string' || !n.loc) return;
      const problem = numberRangeProblem(n.value);
      if (problem) out.push(unsupported(n.loc, problem));
      return false;
    });
  modules.forEach(visit);
  for (const q of queries) {
    try {
      visit(parseBody(q.query, `<query ${q.name}>`));
    } catch {
      // the query parsed once already; nothing more to locate
    }
  }
  return out;
}

type EmitFn = (program: Program, opts: { hostBuiltin(name: string): { arity: number; result?: 'set' | 'any' } | undefined }) => Uint8Array;

function loadEmitter(): { emitWasm: EmitFn; NATIVE_BUILTINS: ReadonlySet<string> } {
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const mod = require('./emit') as { emitWasm?: EmitFn; NATIVE_BUILTINS?: ReadonlySet<string> };
  if (typeof mod.emitWasm !== 'function') throw new Error('compiler: the wasm emitter (src/compiler/emit) is not available');
  return { emitWasm: mod.emitWasm, NATIVE_BUILTINS: mod.NATIVE_BUILTINS ?? new Set() };
}

function hostBuiltinInfo(name: string): { arity: number; result?: 'set' | 'any' } | undefined {
  let reg: { lookupBuiltin?: (n: string) => any } | undefined;
  try {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    reg = require('../builtins/registry');
  } catch {
    return undefined;
  }
  const d = reg?.lookupBuiltin?.(name);
  if (!d || typeof d.host !== 'function' || d.relation) return undefined;
  return { arity: d.arity, result: d.result === 'set' ? 'set' : 'any' };
}

export function compile(opts: CompileOptions): CompileResult {
  const r = compileToProgram(opts);
  const em = loadEmitter();
  const { program, builtins } = keepReachable(r.program);
  // every built-in that can run needs an implementation, in the runtime or on the host: refuse the
  // policy otherwise
  const missing: RegoError[] = [];
  for (const [name, loc] of r.usedBuiltins) {
    if (!builtins.has(name)) continue;
    if (!em.NATIVE_BUILTINS.has(name) && !hostBuiltinInfo(name)) missing.push(unsupported(loc, `built-in ${name} (not implemented)`));
  }
  if (missing.length) throw new RegoErrors(missing);
  let wasm: Uint8Array;
  try {
    wasm = em.emitWasm(program, { hostBuiltin: hostBuiltinInfo });
  } catch (e) {
    // the emitter refuses what the runtime cannot represent exactly (e.g. huge numbers): a refusal, not a
    // crash, reported at the literals that caused it when we can find them
    const located = unrepresentableNumbers(r.modules, opts.queries ?? []);
    if (located.length) throw new RegoErrors(located);
    const first = r.modules[0]?.package.loc ?? { file: '<policy>', line: 1, col: 1 };
    throw new RegoErrors([unsupported(first, (e as Error).message)]);
  }
  return { wasm, entrypoints: r.entrypoints, program, modules: r.modules };
}

/**
 * The program with the bodies of functions no plan can reach emptied (every rule is planned, so
 * errors anywhere are reported, but a rule only ever evaluated under `with http.send as mock` must
 * not need the real http.send), and the built-ins the remaining code calls.
 */
function keepReachable(program: Program): { program: Program; builtins: Set<string> } {
  const reached = new Set<number>();
  const builtins = new Set<string>();
  const todo: number[] = [];
  const walk = (b: Block): void => {
    for (const s of b) {
      if (s.op === 'call' && !reached.has(s.func)) {
        reached.add(s.func);
        todo.push(s.func);
      } else if (s.op === 'call_builtin') builtins.add(s.name);
      if ('body' in s) walk(s.body);
    }
  };
  for (const p of program.plans) walk(p.body);
  for (let f = todo.pop(); f !== undefined; f = todo.pop()) {
    if (program.funcs[f]) walk(program.funcs[f].body);
  }
  const funcs = program.funcs.map((f, i) => (reached.has(i) ? f : { ...f, body: [] }));
  return { program: { ...program, funcs }, builtins };
}
