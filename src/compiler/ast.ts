/**
 * The Rego v1 abstract syntax tree: plain discriminated unions (switch on `type`), every node with a
 * location. The parser (src/compiler/parser.ts) produces it; the checker and planner read it.
 *
 * Conventions (these mirror how OPA itself represents Rego, so its docs and conformance cases map 1:1):
 * - Infix operators become calls with OPA's built-in names: `:=` assign, `=` eq, `==` equal, `!=` neq,
 *   `<` lt, `<=` lte, `>` gt, `>=` gte, `+` plus, `-` minus, `*` mul, `/` div, `%` rem, `&` and, `|` or,
 *   `x in xs` internal.member_2(x, xs), `k, v in xs` internal.member_3(k, v, xs).
 * - A call's function is a Ref (`time.now_ns` is ref(var time, ["now_ns"]); `data.lib.f` likewise;
 *   an operator is ref(var "equal")).
 * - Dotted ref parts are string terms: `input.a[x]` is ref(var input, [string "a", var x]).
 */

export interface Location {
  file: string;
  /** 1-based */
  line: number;
  /** 1-based, in characters */
  col: number;
}

// ---------------------------------------------------------------- terms

export type Term =
  | NullTerm
  | BooleanTerm
  | NumberTerm
  | StringTerm
  | VarTerm
  | RefTerm
  | ArrayTerm
  | ObjectTerm
  | SetTerm
  | ArrayComprehension
  | SetComprehension
  | ObjectComprehension
  | CallTerm;

export interface NullTerm { type: 'null'; loc: Location }
export interface BooleanTerm { type: 'boolean'; value: boolean; loc: Location }
/** `value` is the literal's text as written (e.g. "1", "-2.5", "1e3"), so no precision is lost. */
export interface NumberTerm { type: 'number'; value: string; loc: Location }
/** `value` is the decoded string (escapes resolved); `raw` tells it was a backtick string. */
export interface StringTerm { type: 'string'; value: string; raw?: boolean; loc: Location }
/** `_` is a var named "_" (each occurrence is a fresh wildcard; the checker renames them). */
export interface VarTerm { type: 'var'; name: string; loc: Location }
export interface RefTerm { type: 'ref'; head: Term; path: Term[]; loc: Location }
export interface ArrayTerm { type: 'array'; items: Term[]; loc: Location }
export interface ObjectTerm { type: 'object'; items: Array<[Term, Term]>; loc: Location }
/** `set()` is an empty SetTerm. */
export interface SetTerm { type: 'set'; items: Term[]; loc: Location }
export interface ArrayComprehension { type: 'arraycompr'; term: Term; body: Body; loc: Location }
export interface SetComprehension { type: 'setcompr'; term: Term; body: Body; loc: Location }
export interface ObjectComprehension { type: 'objectcompr'; key: Term; value: Term; body: Body; loc: Location }
export interface CallTerm { type: 'call'; fn: RefTerm; args: Term[]; loc: Location }

// ---------------------------------------------------------------- expressions and bodies

export type Body = Expr[];

export interface With {
  /** `input...`, `data...`, or a built-in / function ref being replaced */
  target: RefTerm;
  value: Term;
  loc: Location;
}

export type ExprValue =
  /** a term used as a statement, incl. calls (`x == 1` is a CallTerm to `equal`) */
  | { type: 'term'; term: Term }
  /** `some x, y` */
  | { type: 'some'; vars: VarTerm[] }
  /** `some v in xs` / `some k, v in xs` (key absent for the one-variable form) */
  | { type: 'some_in'; key?: Term; value: Term; collection: Term }
  /** `every v in xs { … }` / `every k, v in xs { … }` */
  | { type: 'every'; key?: Term; value: Term; domain: Term; body: Body };

export interface Expr {
  type: 'expr';
  value: ExprValue;
  /** `not …` */
  negated: boolean;
  with: With[];
  loc: Location;
}

// ---------------------------------------------------------------- rules

export interface Annotations {
  scope?: 'package' | 'rule' | 'document' | 'subpackages';
  title?: string;
  description?: string;
  entrypoint?: boolean;
  /** every key of the METADATA block as parsed YAML */
  raw: Record<string, unknown>;
  /** the line of the package or rule the block is attached to (several blocks may precede one rule) */
  targetLine?: number;
  loc: Location;
}

export interface RuleHead {
  /**
   * The rule's reference: `allow` → ref(var allow, []); `a.b[c].d` → ref(var a, [string b, var c, string d]);
   * `p[k] := v` → ref(var p, [var k]).
   */
  ref: RefTerm;
  /** functions: `f(x, y)` */
  args?: Term[];
  /** `p contains x`: the element */
  key?: Term;
  /** `:= v` / `= v`; absent means `true` (or, for `contains`, not applicable) */
  value?: Term;
  /** `:=` (true) vs `=` (false) */
  assign: boolean;
  loc: Location;
}

export interface Rule {
  type: 'rule';
  default: boolean;
  head: RuleHead;
  /** empty for `p := 1` (a body of `true`) */
  body: Body;
  /** the `else` chain: `else := v if { … }` (head holds only value) */
  else?: Rule;
  /** whether the rule was written with `if` (v1 requires it whenever there is a body) */
  hasIf: boolean;
  annotations?: Annotations;
  loc: Location;
}

export interface Import {
  /** `data.x.y`, `input.x`, `future.keywords.in`, `rego.v1` */
  path: RefTerm;
  alias?: string;
  loc: Location;
}

export interface Package {
  /** without the leading `data`: `package mcp.authz` → ["mcp", "authz"] */
  path: string[];
  annotations?: Annotations;
  loc: Location;
}

export interface Module {
  type: 'module';
  file: string;
  package: Package;
  imports: Import[];
  rules: Rule[];
  /** all METADATA blocks in the file, in order (also attached to their package / rule) */
  annotations: Annotations[];
  /**
   * 0: read as Rego v0 (and not importing rego.v1): v0 syntax, deprecated built-ins allowed; absent: v1
   */
  regoVersion?: 0;
}
