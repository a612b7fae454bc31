/**
 * The Rego v1 parser: recursive descent over the lexer's tokens, producing the AST of ast.ts.
 *
 * It reads Rego the way OPA's parser does, because a construct read differently would change a policy's
 * meaning. The points that matter:
 * - Precedence, lowest first: `:=` / `=` (expression level only), then `in` (`x in xs`, `k, v in xs`),
 *   then the comparisons `== != < <= > >=`, then `|`, then `&`, then `+ -`, then `* / %`. All binary
 *   operators are left-associative. (OPA's published grammar does not spell this out; this is the order its
 *   parser implements.)
 * - Unary minus exists only on number literals: `-1`, `- 1.5` and `-.5` are numbers. OPA rejects `-x`
 *   ("expected number"); so do we, with a hint to write `0 - x`. Accepting it would let a policy pass our
 *   check that OPA refuses.
 * - A ref continues only when `.`, `[` or `(` follows with no whitespace: `a [1]` is two terms.
 * - `{ a | b }` and `[ a | b ]` are comprehensions, not an `or`; a set literal directly after `if` is read as
 *   a body block (`p if { x }`), anything else there as a one-line body.
 * - The bare root documents `input` and `data` are refs with an empty path, as in OPA.
 * - `contains` is a keyword only in rule heads; elsewhere it is a name (the built-in `contains(s, t)`).
 * - Keywords may appear in refs: `input.if`, `data.x.not`, `input["in"]`.
 * - Numbers keep their text, except that a leading `.` gets a `0` (`.5` → "0.5"), so the text is valid JSON.
 *
 * Rego v0 (rule bodies without `if`, partial sets without `contains`) is refused with a message that
 * shows the v1 form, unless the module is parsed as v0 (`{ regoVersion: 0 }`, OPA's `--v0-compatible`).
 * In v0, as in OPA: `in`, `every`, `if` and `contains` are keywords only once imported (`import
 * future.keywords[.x]`), and are plain names otherwise; `p { … }` is `p if { … }`; `p[x] { … }` and a
 * bare `p[x]` (or `p.x`) define a partial SET (`p contains x`), while `p[k] = v { … }` defines an object
 * entry; `else = v { … }` needs no `if`. A v0 module that imports `rego.v1` is read as v1 from there on.
 * After parsing, parseModule runs the checks OPA makes at this stage (see checkModule).
 */
import type {
  Annotations,
  Body,
  CallTerm,
  Expr,
  ExprValue,
  Import,
  Location,
  Module,
  Package,
  RefTerm,
  Rule,
  RuleHead,
  StringTerm,
  Term,
  VarTerm,
  With,
} from './ast';
import { RegoError, RegoErrors, unsupported } from './errors';
import { KEYWORDS, lex, type Token } from './lexer';
import { parseAnnotationBlocks } from './annotations';
import { visitNodes } from './ast-walk';

/**
 * Deepest nesting of terms (brackets, calls, and operators in a chain) we parse; deeper input is refused
 * rather than risking the stack here or in the compiler stages that walk the tree.
 */
const MAX_DEPTH = 500;

const RELATION_OPS: Record<string, string> = { '==': 'equal', '!=': 'neq', '<': 'lt', '<=': 'lte', '>': 'gt', '>=': 'gte' };
const ARITH_OPS: Record<string, string> = { '+': 'plus', '-': 'minus' };
const FACTOR_OPS: Record<string, string> = { '*': 'mul', '/': 'div', '%': 'rem' };

/** The keywords `future.keywords.x` may import (all are built into v1, so the import is a no-op). */
const FUTURE_KEYWORDS = ['contains', 'every', 'if', 'in'];

/** Rego's syntax versions, as a bundle manifest's `rego_version` numbers them. */
export type RegoVersion = 0 | 1;

export interface ParseOptions {
  /** 1 (the default): Rego v1, as OPA 1.x; 0: Rego v0, as OPA 1.x with --v0-compatible */
  regoVersion?: RegoVersion;
}

// ---------------------------------------------------------------- public API

/** Parses one Rego module. Throws RegoErrors (parse errors, then this stage's compile checks). */
export function parseModule(source: string, file: string, opts: ParseOptions = {}): Module {
  const module = guard(file, () => new Parser(source, file, opts.regoVersion ?? 1).module());
  const errors = guard(file, () => checkModule(module));
  if (errors.length > 0) throw new RegoErrors(errors);
  return module;
}

/** Parses a single term, e.g. an `input_term` like `{"a": {1, 2}}` or `set()`. */
export function parseTerm(source: string, file: string): Term {
  return guard(file, () => {
    const p = new Parser(source, file);
    const t = p.infix(true);
    p.expectEof('the end of the term');
    return t;
  });
}

/** Parses a query (a body): expressions separated by `;` or newlines, e.g. `x = data.a; y = x`. */
export function parseBody(source: string, file: string): Body {
  return guard(file, () => {
    const p = new Parser(source, file);
    return p.query('eof');
  });
}

/** Runs a parse, turning every failure into RegoErrors: no input may crash the caller. */
function guard<T>(file: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof RegoErrors) throw e;
    if (e instanceof RegoError) throw new RegoErrors([e]);
    if (e instanceof RangeError) {
      // Stack exhaustion on pathological input: refuse it like any other unreadable policy.
      throw new RegoErrors([new RegoError('rego_parse_error', { file, line: 1, col: 1 }, 'policy is nested too deeply to parse')]);
    }
    throw e;
  }
}

// ---------------------------------------------------------------- term constructors

function ref(head: Term, path: Term[], loc: Location): RefTerm {
  return { type: 'ref', head, path, loc };
}
function opRef(name: string, loc: Location): RefTerm {
  return ref({ type: 'var', name, loc }, [], loc);
}
function call(name: string, args: Term[], loc: Location, opLoc: Location): CallTerm {
  return { type: 'call', fn: opRef(name, opLoc), args, loc };
}
function isCallTo(t: Term, name: string): boolean {
  return t.type === 'call' && t.fn.path.length === 0 && t.fn.head.type === 'var' && t.fn.head.name === name;
}

/** `foo`, `foo.bar`, `foo["bar"]` for messages. */
function describeTok(t: Token): string {
  switch (t.kind) {
    case 'eof':
      return 'end of file';
    case 'ident':
      return KEYWORDS.has(t.text) ? `keyword "${t.text}"` : `"${t.text}"`;
    case 'number':
      return `number ${t.text}`;
    case 'string':
      return `string ${JSON.stringify(t.text.length > 40 ? t.text.slice(0, 40) + '…' : t.text)}`;
    case 'rawstring':
      return 'raw string';
    case 'template':
      return 'template string';
    default:
      return `"${t.text}"`;
  }
}

function termKindName(t: Term): string {
  switch (t.type) {
    case 'arraycompr':
      return 'array comprehension';
    case 'setcompr':
      return 'set comprehension';
    case 'objectcompr':
      return 'object comprehension';
    default:
      return t.type;
  }
}

// ---------------------------------------------------------------- the parser

class Parser {
  private readonly toks: Token[];
  private pos = 0;
  private depth = 0;
  private readonly comments: ReturnType<typeof lex>['comments'];
  /** v1 rules apply: a v1 module, or a v0 module that imported rego.v1 */
  private v1: boolean;
  /** the words that are keywords here: all of KEYWORDS in v1; in v0 the future keywords once imported */
  private readonly keywords: Set<string>;

  constructor(
    private readonly source: string,
    private readonly file: string,
    private readonly version: RegoVersion = 1,
  ) {
    const { tokens, comments } = lex(source, file);
    this.toks = tokens;
    this.comments = comments;
    this.v1 = version === 1;
    this.keywords = new Set(KEYWORDS);
    if (!this.v1) for (const kw of FUTURE_KEYWORDS) this.keywords.delete(kw);
  }

  // ---------------- token helpers

  private get tok(): Token {
    return this.toks[this.pos];
  }
  private peek(k = 1): Token {
    return this.toks[Math.min(this.pos + k, this.toks.length - 1)];
  }
  private atEof(): boolean {
    return this.toks[this.pos].kind === 'eof';
  }
  private advance(): Token {
    const t = this.toks[this.pos];
    if (this.pos < this.toks.length - 1) this.pos++;
    return t;
  }
  private loc(t: Token = this.tok): Location {
    return { file: this.file, line: t.line, col: t.col };
  }
  private isPunct(text: string, t: Token = this.tok): boolean {
    return t.kind === 'punct' && t.text === text;
  }
  /** `t` is the keyword `kw` used as a keyword (not as the head of a ref like `in.x`). */
  private isKw(kw: string): boolean {
    const t = this.tok;
    return t.kind === 'ident' && t.text === kw && this.keywords.has(kw) && !this.refFollows(this.pos);
  }
  /** the token after index i is `.` or `[` with no whitespace in between (so the word at i heads a ref) */
  private refFollows(i: number): boolean {
    const n = this.toks[i + 1];
    return n !== undefined && n.kind === 'punct' && (n.text === '.' || n.text === '[') && !n.ws;
  }
  private fail(t: Token, expected: string): never {
    throw new RegoError('rego_parse_error', this.loc(t), `unexpected ${describeTok(t)}, expected ${expected}`);
  }
  private error(loc: Location, msg: string): never {
    throw new RegoError('rego_parse_error', loc, msg);
  }
  private expectPunct(text: string, expected = `"${text}"`): Token {
    if (!this.isPunct(text)) this.fail(this.tok, expected);
    return this.advance();
  }
  expectEof(what: string): void {
    if (!this.atEof()) this.fail(this.tok, what);
  }
  /** the source text from token index `from` up to (excluding) token index `to` */
  private text(from: number, to: number): string {
    if (to <= from) return '';
    return this.source.slice(this.toks[from].start, this.toks[to - 1].end);
  }
  private enter(): void {
    if (++this.depth > MAX_DEPTH) this.error(this.loc(), `expression nested too deeply (more than ${MAX_DEPTH} levels)`);
  }
  private leave(): void {
    this.depth--;
  }

  // ---------------- module

  module(): Module {
    if (this.atEof()) this.error(this.loc(), 'empty module: expected a package declaration (package <name>)');
    if (!this.isKw('package')) this.fail(this.tok, 'a package declaration (a module starts with "package <name>")');
    const pkg = this.packageDecl();
    const imports: Import[] = [];
    const rules: Rule[] = [];
    while (!this.atEof()) {
      if (this.isKw('package')) this.error(this.loc(), 'unexpected second package declaration: a module has exactly one package');
      if (this.isKw('import')) {
        imports.push(this.importDecl());
        continue;
      }
      const start = this.tok;
      const sameLine = rules.length > 0 && !start.nl;
      try {
        rules.push(...this.ruleDecl());
      } catch (err) {
        // Two things on one line (`allow if a == 1 b == 2`): say so, rather than report the confusing
        // error of reading the second part as a rule of its own.
        if (err instanceof RegoError && sameLine && err.loc.line === start.line) {
          this.error(this.loc(start), `unexpected ${describeTok(start)} after the end of the rule on the same line, expected a newline (to combine conditions write: rule if { a; b })`);
        }
        throw err;
      }
    }
    if (this.version === 0) this.checkV0Imports(imports);
    const module: Module = { type: 'module', file: this.file, package: pkg, imports, rules, annotations: [] };
    if (!this.v1) module.regoVersion = 0;
    this.attachAnnotations(module);
    return module;
  }

  /** OPA: in v0, `rego.v1` implies the future keywords, and importing both is an error. */
  private checkV0Imports(imports: Import[]): void {
    const root = (i: Import): string => (i.path.head as VarTerm).name;
    if (!imports.some((i) => root(i) === 'rego')) return;
    const future = imports.find((i) => root(i) === 'future');
    if (future) this.error(future.loc, 'the rego.v1 import implies the future keywords: import rego.v1 or future.keywords, not both');
  }

  private packageDecl(): Package {
    const kw = this.advance();
    const loc = this.loc(kw);
    if (this.tok.kind !== 'ident') this.fail(this.tok, 'a package name (e.g. package mcp.authz)');
    const t = this.primary(true);
    const path: string[] = [];
    if (t.type === 'var') path.push(t.name);
    else if (t.type === 'ref' && t.head.type === 'var') {
      path.push(t.head.name);
      for (const part of t.path) {
        if (part.type !== 'string') this.error(part.loc, `invalid package path: expected a name or a string, found ${termKindName(part)}`);
        path.push(part.value);
      }
    } else this.error(t.loc, 'invalid package path: expected a dotted name (e.g. package mcp.authz)');
    return { path, loc };
  }

  private importDecl(): Import {
    const kw = this.advance();
    const loc = this.loc(kw);
    if (this.tok.kind !== 'ident') this.fail(this.tok, 'an import path (e.g. import data.lib.helpers)');
    const t = this.primary(true);
    let path: RefTerm;
    if (t.type === 'var') path = ref(t, [], t.loc);
    else if (t.type === 'ref' && t.head.type === 'var') {
      for (const part of t.path) {
        if (part.type !== 'string') this.error(part.loc, `invalid import path: expected a name or a string, found ${termKindName(part)}`);
      }
      path = t;
    } else this.error(t.loc, 'invalid import path: expected a dotted name (e.g. import data.lib.helpers)');
    const root = (path.head as VarTerm).name;
    if (!['data', 'input', 'future', 'rego'].includes(root)) {
      this.error(path.loc, `invalid import path: it must begin with data, input, future or rego, found "${root}"`);
    }
    let alias: string | undefined;
    if (this.isKw('as')) {
      this.advance();
      const a = this.tok;
      if (a.kind !== 'ident' || this.keywords.has(a.text)) this.fail(a, 'an alias name after "as"');
      this.advance();
      alias = a.text;
    }
    const parts = path.path.map((p) => (p as StringTerm).value);
    if (root === 'future') {
      if (parts[0] !== 'keywords' || parts.length > 2) this.error(path.loc, 'invalid import: must be future.keywords or future.keywords.<keyword>');
      if (alias !== undefined) this.error(path.loc, 'future imports cannot be aliased');
      if (parts.length === 2 && !FUTURE_KEYWORDS.includes(parts[1])) {
        this.error(path.loc, `invalid import future.keywords.${parts[1]}: the keyword must be one of ${FUTURE_KEYWORDS.join(', ')}`);
      }
      if (!this.v1) for (const kw of parts.length === 2 ? [parts[1]] : FUTURE_KEYWORDS) this.keywords.add(kw);
    } else if (root === 'rego') {
      if (parts.length !== 1 || parts[0] !== 'v1') this.error(path.loc, `invalid import rego.${parts.join('.')}: the only rego import is rego.v1`);
      if (!this.v1) {
        if (alias !== undefined) this.error(path.loc, 'rego imports cannot be aliased');
        // a v0 module importing rego.v1 is held to v1's syntax from here on (OPA: "v0v1")
        this.v1 = true;
        for (const kw of FUTURE_KEYWORDS) this.keywords.add(kw);
      }
    } else if (alias === undefined) {
      const last = parts.length > 0 ? parts[parts.length - 1] : root;
      if (this.keywords.has(last)) this.error(path.loc, `invalid import path: it must not end with the keyword "${last}" (use an alias: import … as name)`);
    }
    return { path, alias, loc };
  }

  // ---------------- rules

  private ruleDecl(): Rule[] {
    const startIdx = this.pos;
    const start = this.tok;
    let isDefault = false;
    if (this.isKw('default')) {
      isDefault = true;
      this.advance();
    }
    const nameTok = this.tok;
    if (nameTok.kind !== 'ident') this.fail(nameTok, isDefault ? 'a rule name after "default"' : 'a rule, an import, or the end of the file');
    if (this.keywords.has(nameTok.text) && !this.refFollows(this.pos)) {
      this.fail(nameTok, 'a rule name (keywords cannot be used as names)');
    }
    const head = this.ruleHead(isDefault);
    const rule: Rule = { type: 'rule', default: isDefault, head, body: [], hasIf: false, loc: this.loc(start) };
    const name = this.text(startIdx + (isDefault ? 1 : 0), this.headEnd);

    if (isDefault) {
      if (head.value === undefined) {
        this.error(rule.loc, `default rules must have a value (write: default ${name} := <value>)`);
      }
      if (head.key !== undefined) this.error(rule.loc, 'default rules cannot use "contains"');
      this.checkDefaultRule(rule);
      if (this.isKw('if') || this.isPunct('{')) this.error(this.loc(), 'default rules cannot have a body');
      return [rule];
    }

    if (this.isKw('if')) {
      this.advance();
      rule.hasIf = true;
      rule.body = this.ruleBodyAfterIf();
    } else if (this.isPunct('{')) {
      if (this.v1) this.v0BodyError(rule, startIdx);
      v0PartialSet(head);
      rule.body = this.block();
    } else if (!this.v1) {
      // no body, v0: `p = 1`, `f(x) = 1`, `f(x)` (true), `p[x]` / `p.x` (a partial set), `p[k] = v`
      const p = head.ref.path;
      if (head.key === undefined && head.value === undefined && head.args === undefined) {
        if (p.length === 0) this.error(rule.loc, `rule "${name}" has no value or body: expected "=", ":=" or "{" after the name (e.g. ${name} = true, or ${name} { … })`);
        if (p.length > 1) this.error(rule.loc, `rule "${name}" has no value or body (e.g. ${name} = true, or ${name} { … })`);
        v0PartialSet(head);
      }
      return [rule];
    } else {
      // no body: `p := 1`, `p contains "x"`, `f(x) := 1`, `a.b.c` (a value of true)
      const p = head.ref.path;
      if (head.key === undefined && head.value === undefined && head.args === undefined) {
        if (p.length === 1) {
          const key = this.headKeyText(p[0]);
          this.error(rule.loc, `partial set rules must use "contains" in Rego v1 (write: ${(head.ref.head as VarTerm).name} contains ${key}), or give a value (write: ${name} := true)`);
        }
        if (p.length === 0) {
          const found = this.atEof() ? 'the end of the file' : describeTok(this.tok);
          this.error(rule.loc, `rule "${name}" has no value or body: expected ":=", "=", "if" or "contains" after the name, found ${found} (e.g. ${name} := true, or ${name} if { … })`);
        }
      }
      return [rule];
    }

    // else chain
    if (this.isKw('else')) {
      if (head.key !== undefined) this.error(this.loc(), 'else cannot be used on multi-value rules (contains)');
      if (head.ref.path.some((t) => !isGround(t))) this.error(this.loc(), 'else cannot be used on rules with variables in the head');
      rule.else = this.elseRule(head);
    }

    const rules = [rule];
    // further bodies for the same head: `p if { a } { b }` defines p twice (an "or")
    while (this.isPunct('{')) {
      if (rule.else) this.error(this.loc(), 'expected "else" after an else chain, found another rule body');
      const bodyLoc = this.loc();
      const body = this.block();
      const copy = structuredClone(head);
      copy.loc = bodyLoc;
      rules.push({ type: 'rule', default: false, head: copy, body, hasIf: rule.hasIf, loc: bodyLoc });
    }
    return rules;
  }

  /** token index just after the rule head's ref/call (for messages that quote the head) */
  private headEnd = 0;
  /** token index where the key of a `p[key]` head starts */
  private headKeyStart = 0;

  private ruleHead(isDefault: boolean): RuleHead {
    const nameTok = this.advance();
    const nameStart = this.pos - 1;
    const loc = this.loc(nameTok);
    const v: VarTerm = { type: 'var', name: nameTok.text, loc };
    let t: Term = v;
    // In a rule head, whitespace may separate the name from its first `[`, `.` or `(` (`p [x]`, `f (x)`).
    if (this.tok.kind === 'punct' && ['[', '.', '('].includes(this.tok.text)) {
      this.headKeyStart = this.pos + 1;
      t = this.refTail(v, true);
    }
    this.headEnd = this.pos;
    const head: RuleHead = { ref: ref(v, [], loc), assign: false, loc };
    if (t.type === 'ref') {
      if (t.head.type !== 'var') this.error(loc, 'invalid rule head');
      head.ref = t;
    } else if (t.type === 'call') {
      head.ref = t.fn;
      head.args = t.args;
    } else if (t.type !== 'var') {
      this.error(loc, `invalid rule head: ${this.text(nameStart, this.pos)}`);
    }
    if (this.isKw('contains')) {
      if (head.args) this.error(this.loc(), `"contains" can only be used with multi-value rules (e.g. ${nameTok.text} contains <value> if { … })`);
      if (isDefault) this.error(this.loc(), 'default rules cannot use "contains"');
      this.advance();
      if (this.atTermStart()) head.key = this.infix(true);
      else this.fail(this.tok, `the element after "contains" (e.g. ${nameTok.text} contains <value> if { … })`);
    } else if (this.isPunct(':=') || this.isPunct('=')) {
      head.assign = this.advance().text === ':=';
      if (!this.atTermStart()) this.fail(this.tok, `a value after "${head.assign ? ':=' : '='}"`);
      head.value = this.infix(true);
    }
    return head;
  }

  /** the source text of the key in a `p[key]` / `p.key` head, for messages */
  private headKeyText(key: Term): string {
    const dotted = this.toks[this.headKeyStart - 1]?.text === '.';
    if (dotted && key.type === 'string') return JSON.stringify(key.value);
    return this.text(this.headKeyStart, this.headEnd - 1) || '<value>';
  }

  /** whether the current token can begin a term (for clearer messages than the term parser's) */
  private atTermStart(): boolean {
    const t = this.tok;
    if (t.kind === 'eof') return false;
    if (t.kind === 'punct') return ['[', '{', '(', '-', '.'].includes(t.text);
    return true;
  }

  /** After `if`: a `{ … }` block, or a single expression (`allow if input.x == 1`). */
  private ruleBodyAfterIf(): Body {
    if (this.isPunct('{')) {
      // `if { x }` is a block; `if {"a": 1}[k]` or `if {1} == s` is one expression. Try the expression
      // first; a bare set literal (never false, so never meant as a condition) means it was a block.
      const save = this.pos;
      try {
        const e = this.literal();
        if (!(e.value.type === 'term' && e.value.term.type === 'set' && !e.negated && e.with.length === 0)) return [e];
      } catch (err) {
        if (!(err instanceof RegoError)) throw err;
      }
      this.pos = save;
      return this.block();
    }
    if (this.atEof()) this.fail(this.tok, 'a rule body after "if"');
    return [this.literal()];
  }

  private block(): Body {
    this.expectPunct('{');
    if (this.isPunct('}')) this.error(this.loc(), 'empty rule body: expected at least one expression between "{" and "}"');
    const body = this.query('}');
    this.expectPunct('}', 'the end of the body "}"');
    return body;
  }

  private elseRule(head: RuleHead): Rule {
    const elseTok = this.advance();
    const loc = this.loc(elseTok);
    const elseHead: RuleHead = { ref: head.ref, args: head.args, assign: false, loc };
    if (this.isPunct(':=') || this.isPunct('=')) {
      elseHead.assign = this.advance().text === ':=';
      if (!this.atTermStart()) this.fail(this.tok, 'a value after "else :="');
      elseHead.value = this.infix(true);
    } else if (!this.isKw('if') && !this.isPunct('{')) {
      this.fail(this.tok, '"else := <value>", "else if", or "else :=<value> if { … }"');
    }
    const rule: Rule = { type: 'rule', default: false, head: elseHead, body: [], hasIf: false, loc };
    if (this.isKw('if')) {
      this.advance();
      rule.hasIf = true;
      if (this.isPunct('{')) rule.body = this.block();
      else {
        if (this.atEof()) this.fail(this.tok, 'a rule body after "if"');
        rule.body = [this.literal()];
      }
    } else if (this.isPunct('{')) {
      if (this.v1) this.error(this.loc(), `"else" bodies must use "if" in Rego v1 (write: else${elseHead.value ? ' := …' : ''} if { … })`);
      rule.body = this.block();
    }
    if (this.isKw('else')) rule.else = this.elseRule(head);
    return rule;
  }

  /** `p { … }` / `p[x] { … }`: Rego v0. Explain the v1 spelling. */
  private v0BodyError(rule: Rule, startIdx: number): never {
    const h = rule.head;
    const headText = this.text(startIdx, this.pos).trim();
    if (h.key === undefined && h.value === undefined && !h.args && h.ref.path.length === 1 && h.ref.head.type === 'var') {
      const keyText = this.headKeyText(h.ref.path[0]);
      this.error(
        rule.loc,
        `partial set rules must use "contains" and "if" in Rego v1 (write: ${h.ref.head.name} contains ${keyText} if { … }); Rego v0 syntax is not supported`,
      );
    }
    this.error(rule.loc, `rules must use "if" before the body in Rego v1 (write: ${headText} if { … }); Rego v0 syntax is not supported`);
  }

  private checkDefaultRule(rule: Rule): void {
    const walk = (t: Term): void => {
      switch (t.type) {
        case 'var':
        case 'ref':
        case 'call':
          this.error(rule.loc, `invalid default rule: its value cannot contain a ${t.type} (use a constant)`);
        // eslint-disable-next-line no-fallthrough
        case 'array':
        case 'set':
          for (const x of t.items) walk(x);
          return;
        case 'object':
          for (const [k, v] of t.items) {
            walk(k);
            walk(v);
          }
          return;
        default:
          return;
      }
    };
    if (rule.head.value) walk(rule.head.value);
    if (rule.head.args) {
      const seen = new Set<string>();
      for (const a of rule.head.args) {
        if (a.type !== 'var') this.error(rule.loc, `invalid default rule: its arguments must be variables, found ${termKindName(a)}`);
        if (a.name !== '_' && seen.has(a.name)) this.error(rule.loc, `invalid default rule: argument ${a.name} is repeated`);
        seen.add(a.name);
      }
    }
  }

  // ---------------- bodies and expressions

  /** Expressions separated by `;` or newlines, up to (not including) `end`. */
  query(end: '}' | ']' | 'eof'): Body {
    const atEnd = (): boolean => (end === 'eof' ? this.atEof() : this.isPunct(end));
    if (atEnd()) this.error(this.loc(), 'empty body: expected an expression');
    const body: Body = [];
    // An expression starting at column 1 inside braces is most likely the next rule after a missing `}`.
    let colOne: Token | undefined;
    for (;;) {
      if (end === '}' && this.tok.col === 1 && this.tok.nl && !colOne) colOne = this.tok;
      try {
        body.push(this.literal());
      } catch (err) {
        if (err instanceof RegoError && colOne && !err.detail.includes('missing "}"')) {
          throw new RegoError(err.code, err.loc, `${err.detail} (is a "}" missing before line ${colOne.line}?)`);
        }
        throw err;
      }
      if (this.isPunct(';')) {
        this.advance();
        continue;
      }
      if (atEnd()) return body;
      if (this.tok.nl) continue;
      if (colOne) this.fail(this.tok, `a newline, ";" or "${end}" after the expression (is a "}" missing before line ${colOne.line}?)`);
      const endDesc = end === 'eof' ? 'the end of the query' : `"${end}"`;
      this.fail(this.tok, `a newline, ";" or ${endDesc} after the expression`);
    }
  }

  private literal(): Expr {
    const start = this.tok;
    const loc = this.loc(start);
    let negated = false;
    if (this.isKw('not')) {
      this.advance();
      negated = true;
      if (this.atEof()) this.fail(this.tok, 'an expression after "not"');
    }
    if (this.isKw('some')) {
      if (negated) this.error(this.loc(), '"not some …" is not allowed');
      return this.withs(this.someDecl(), loc);
    }
    if (this.isKw('every')) {
      if (negated) this.error(this.loc(), '"not every …" is not allowed');
      return this.withs(this.everyExpr(), loc);
    }
    const lhs = this.infix(true);
    let term = lhs;
    if (this.isPunct(':=') || this.isPunct('=')) {
      const op = this.advance();
      if (!this.atTermStart()) this.fail(this.tok, `a term after "${op.text}"`);
      const rhs = this.infix(true);
      term = call(op.text === ':=' ? 'assign' : 'eq', [lhs, rhs], lhs.loc, this.loc(op));
    }
    const e: Expr = { type: 'expr', value: { type: 'term', term }, negated, with: [], loc };
    return this.withsInto(e);
  }

  private withs(value: ExprValue, loc: Location): Expr {
    return this.withsInto({ type: 'expr', value, negated: false, with: [], loc });
  }

  private withsInto(e: Expr): Expr {
    while (this.isKw('with')) {
      const w = this.advance();
      const t = this.tok;
      if (t.kind !== 'ident' || (this.keywords.has(t.text) && !this.refFollows(this.pos))) this.fail(t, 'a target after "with" (e.g. with input.user as "alice")');
      const target = this.primary(false);
      let targetRef: RefTerm;
      if (target.type === 'var') targetRef = ref(target, [], target.loc);
      else if (target.type === 'ref') targetRef = target;
      else this.error(target.loc, `invalid "with" target: expected a path like input.x or data.y, found ${termKindName(target)}`);
      if (!this.isKw('as')) this.fail(this.tok, '"as" after the "with" target');
      this.advance();
      if (!this.atTermStart()) this.fail(this.tok, 'a value after "as"');
      const value = this.infix(true);
      const wi: With = { target: targetRef, value, loc: this.loc(w) };
      e.with.push(wi);
    }
    return e;
  }

  private someDecl(): ExprValue {
    const someTok = this.advance();
    const save = this.pos;
    // `some x in xs` / `some k, v in xs`
    try {
      const t = this.infix(true);
      const args = (t as CallTerm).args;
      if (isCallTo(t, 'internal.member_2')) return { type: 'some_in', value: args[0], collection: args[1] };
      if (isCallTo(t, 'internal.member_3')) return { type: 'some_in', key: args[0], value: args[1], collection: args[2] };
      if (t.type === 'call') this.error(t.loc, 'expected "some x in xs", "some k, v in xs" or "some x, y" after "some"');
    } catch (err) {
      if (!(err instanceof RegoError)) throw err;
      // fall back to a variable list; if that fails as well, the list's error is reported
    }
    this.pos = save;
    // `some x, y`
    const vars: VarTerm[] = [];
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'ident' || this.keywords.has(t.text)) this.fail(t, vars.length === 0 ? 'a variable after "some"' : 'a variable after ","');
      this.advance();
      vars.push({ type: 'var', name: t.text, loc: this.loc(t) });
      if (!this.isPunct(',')) break;
      this.advance();
    }
    void someTok;
    return { type: 'some', vars };
  }

  private everyExpr(): ExprValue {
    this.advance();
    const t = this.infix(true);
    let key: Term | undefined;
    let value: Term;
    let domain: Term;
    const args = (t as CallTerm).args;
    if (isCallTo(t, 'internal.member_2')) {
      value = args[0];
      domain = args[1];
    } else if (isCallTo(t, 'internal.member_3')) {
      key = args[0];
      value = args[1];
      domain = args[2];
      if (key.type !== 'var') this.error(key.loc, 'every: the key must be a variable (every k, v in xs { … })');
    } else {
      this.error(t.loc, 'expected "every x in xs { … }" or "every k, v in xs { … }"');
    }
    if (value.type !== 'var') this.error(value.loc, 'every: the value must be a variable (every x in xs { … })');
    if (!this.isPunct('{')) this.fail(this.tok, 'the body of "every" ("{ … }")');
    const body = this.block();
    return { type: 'every', key, value, domain, body };
  }

  // ---------------- infix terms (precedence climbing, lowest first)

  /** `in` level. keyVal: whether `k, v in xs` may be read here (not inside lists, where `,` separates). */
  infix(keyVal: boolean): Term {
    this.enter();
    try {
      let lhs = this.relation();
      if (keyVal && this.isPunct(',')) {
        const save = this.pos;
        this.advance();
        let ok = false;
        try {
          if (this.atTermStart()) {
            const mhs = this.relation();
            if (this.isKw('in')) {
              const op = this.advance();
              const rhs = this.relation();
              lhs = call('internal.member_3', [lhs, mhs, rhs], lhs.loc, this.loc(op));
              ok = true;
            }
          }
        } catch (err) {
          if (!(err instanceof RegoError)) throw err;
        }
        if (!ok) this.pos = save;
      }
      while (this.isKw('in')) {
        const op = this.advance();
        const rhs = this.relation();
        lhs = call('internal.member_2', [lhs, rhs], lhs.loc, this.loc(op));
      }
      return lhs;
    } finally {
      this.leave();
    }
  }

  private binary(ops: Record<string, string>, next: () => Term): Term {
    let lhs = next();
    const depth = this.depth;
    try {
      while (this.tok.kind === 'punct' && Object.prototype.hasOwnProperty.call(ops, this.tok.text)) {
        // each operator nests the tree one level deeper (left-associative), so it counts toward the limit
        this.enter();
        const op = this.advance();
        if ((op.text === '&' || op.text === '|') && this.isPunct(op.text) && !this.tok.ws) {
          this.error(
            this.loc(op),
            op.text === '&'
              ? 'Rego has no "&&" operator: put each condition on its own line (or separate them with ";"), all must hold'
              : 'Rego has no "||" operator: write the rule once per alternative (allow if a, and allow if b)',
          );
        }
        if (!this.atTermStart()) this.fail(this.tok, `a term after "${op.text}"`);
        const rhs = next();
        lhs = call(ops[op.text], [lhs, rhs], lhs.loc, this.loc(op));
      }
    } finally {
      this.depth = depth;
    }
    return lhs;
  }

  private relation(): Term {
    return this.binary(RELATION_OPS, () => this.or());
  }
  private or(): Term {
    return this.binary({ '|': 'or' }, () => this.and());
  }
  private and(): Term {
    return this.binary({ '&': 'and' }, () => this.arith());
  }
  private arith(): Term {
    return this.binary(ARITH_OPS, () => this.factor());
  }
  private factor(): Term {
    return this.binary(FACTOR_OPS, () => this.primary(false));
  }

  // ---------------- primary terms

  /**
   * A single term with its ref / call suffixes. `keywordsOk`: keywords may name the head (package and
   * import paths).
   */
  primary(keywordsOk: boolean): Term {
    // Collections are read speculatively (a single term first, then again as an infix expression, as in
    // OPA), so the same term may be parsed more than once; memoizing by position keeps nested retries
    // linear instead of exponential.
    if (keywordsOk) return this.primaryUncached(true);
    const start = this.pos;
    const hit = this.primaryCache.get(start);
    if (hit) {
      if ('error' in hit) throw hit.error;
      this.pos = hit.end;
      return hit.term;
    }
    try {
      const term = this.primaryUncached(false);
      this.primaryCache.set(start, { term, end: this.pos });
      return term;
    } catch (err) {
      if (err instanceof RegoError) this.primaryCache.set(start, { error: err });
      throw err;
    }
  }

  private readonly primaryCache = new Map<number, { term: Term; end: number } | { error: RegoError }>();

  private primaryUncached(keywordsOk: boolean): Term {
    this.enter();
    try {
      const t = this.tok;
      const loc = this.loc(t);
      let term: Term;
      switch (t.kind) {
        case 'ident': {
          if (t.text === 'null' || t.text === 'true' || t.text === 'false') {
            this.advance();
            term = t.text === 'null' ? { type: 'null', loc } : { type: 'boolean', value: t.text === 'true', loc };
            break;
          }
          if (this.keywords.has(t.text) && t.text !== 'contains' && !keywordsOk && !this.refFollows(this.pos)) {
            this.fail(t, 'a term (keywords cannot be used as variables)');
          }
          this.advance();
          term = { type: 'var', name: t.text, loc };
          break;
        }
        case 'number':
          this.advance();
          term = { type: 'number', value: this.number(t, ''), loc };
          break;
        case 'string':
          this.advance();
          term = { type: 'string', value: t.text, loc };
          break;
        case 'rawstring':
          this.advance();
          term = { type: 'string', value: t.text, raw: true, loc };
          break;
        case 'template':
          term = this.templateString(loc);
          break;
        case 'punct':
          term = this.punctTerm(t, loc);
          break;
        default:
          this.fail(t, 'a term');
      }
      if (this.tok.kind === 'punct' && !this.tok.ws && (this.tok.text === '.' || this.tok.text === '[' || this.tok.text === '(')) {
        return this.refTail(term, false);
      }
      if (term.type === 'var' && (term.name === 'input' || term.name === 'data')) return ref(term, [], term.loc);
      return term;
    } finally {
      this.leave();
    }
  }

  private templateVars = 0;

  /**
   * `$"a {x} b"`, written as OPA's compiler rewrites it: `internal.template_string(["a ", {v | v = x},
   * " b"])`. Each expression becomes the set of its values (empty when undefined, printed
   * `<undefined>`; more than one is a conflict at evaluation); scalar literals stay as they are, empty
   * text parts are left out. An expression is a term or an operator expression, not an assignment,
   * unification, `not`, `some` or `every`.
   */
  private templateString(loc: Location): Term {
    const parts: Term[] = [];
    for (;;) {
      const part = this.advance();
      if (part.text) parts.push({ type: 'string', value: part.text, loc: this.loc(part) });
      if (!part.template!.more) break;
      for (const kw of ['not', 'some', 'every']) {
        if (this.isKw(kw)) this.error(this.loc(), `unexpected ${kw === 'not' ? "negation ('not')" : `'${kw}'`} in template-string expression`);
      }
      if (this.tok.kind === 'template' && this.tok.template!.continued) this.fail(this.tok, 'an expression inside "{…}" of the template string');
      const e = this.infix(true);
      if (this.isPunct(':=')) this.error(this.loc(), "unexpected assignment (':=') in template-string expression");
      if (this.isPunct('=')) this.error(this.loc(), "unexpected unification ('=') in template-string expression");
      if (this.tok.kind !== 'template' || !this.tok.template!.continued) this.fail(this.tok, '"}" to end the template-string expression');
      if (e.type === 'string' || e.type === 'number' || e.type === 'boolean' || e.type === 'null') parts.push(e);
      else {
        const v: Term = { type: 'var', name: `__template${this.templateVars++}__`, loc: e.loc };
        const eq = call('eq', [v, e], e.loc, e.loc);
        parts.push({ type: 'setcompr', term: v, body: [{ type: 'expr', value: { type: 'term', term: eq }, negated: false, with: [], loc: e.loc }], loc: e.loc });
      }
    }
    const fn = ref({ type: 'var', name: 'internal', loc }, [{ type: 'string', value: 'template_string', loc }], loc);
    return { type: 'call', fn, args: [{ type: 'array', items: parts, loc }], loc };
  }

  private punctTerm(t: Token, loc: Location): Term {
    switch (t.text) {
      case '-': {
        this.advance();
        let n = this.tok;
        if (this.isPunct('.') && this.peek().kind === 'number' && !this.peek().ws) {
          this.advance();
          n = this.advance();
          return { type: 'number', value: this.number(n, '-.'), loc };
        }
        if (n.kind !== 'number') {
          this.fail(n, 'a number after "-" (unary minus applies only to number literals in Rego; write 0 - x)');
        }
        this.advance();
        return { type: 'number', value: this.number(n, '-'), loc };
      }
      case '.': {
        const n = this.peek();
        if (n.kind === 'number' && !n.ws) {
          this.advance();
          this.advance();
          return { type: 'number', value: this.number(n, '.'), loc };
        }
        return this.fail(t, 'a term');
      }
      case '[':
        return this.arrayTerm(loc);
      case '{':
        return this.setOrObject(loc);
      case '(': {
        this.advance();
        if (!this.atTermStart()) this.fail(this.tok, 'a term after "("');
        const inner = this.infix(true);
        if (!this.isPunct(')')) this.fail(this.tok, '")" to close the parenthesis');
        this.advance();
        return inner;
      }
      default:
        return this.fail(t, 'a term');
    }
  }

  /** Validates a number literal and returns its text (`prefix` is "-", "." or "-." when those preceded it). */
  private number(t: Token, prefix: string): string {
    const lit = t.text;
    if (!prefix.endsWith('.') && lit.length > 1 && lit[0] === '0' && lit[1] !== '.' && lit[1] !== 'e' && lit[1] !== 'E') {
      this.error(this.loc(t), `invalid number ${prefix}${lit}: numbers cannot have leading zeros`);
    }
    // Refuse absurd exponents (OPA does too): they cost time and memory downstream for no real use.
    const m = /^(\d*)(?:\.(\d*))?(?:[eE]([+-]?\d+))?$/.exec(lit);
    if (m && m[3] !== undefined) {
      const exp = Number(m[3]) + (prefix.endsWith('.') ? 0 : m[1].length);
      if (Math.abs(exp) > 30000) this.error(this.loc(t), `number too big: ${prefix}${lit}`);
    }
    switch (prefix) {
      case '.':
        return '0.' + lit;
      case '-.':
        return '-0.' + lit;
      default:
        return prefix + lit;
    }
  }

  /** `[`: an array or an array comprehension. */
  private arrayTerm(loc: Location): Term {
    this.advance();
    if (this.isPunct(']')) {
      this.advance();
      return { type: 'array', items: [], loc };
    }
    let maybeCompr = true;
    if (this.isPunct(',')) {
      // `[, x]`: a leading comma is accepted for compatibility with OPA
      maybeCompr = false;
      this.advance();
    }
    const save = this.pos;
    const head = this.primary(false);
    if (this.isPunct(']')) {
      this.advance();
      return { type: 'array', items: [head], loc };
    }
    if (this.isPunct('|') && maybeCompr) {
      const body = this.tryComprehensionBody(']');
      if (body) return { type: 'arraycompr', term: head, body, loc };
    }
    this.pos = save;
    const items = this.termList(']');
    return { type: 'array', items, loc };
  }

  /**
   * After `head |`: tries a comprehension body. On failure, if the parser stopped at a `,`, the `|` was an
   * `or` inside a collection (`[a | b, c]`) and the caller re-reads the collection; otherwise the error
   * stands.
   */
  private tryComprehensionBody(end: '}' | ']'): Body | undefined {
    this.advance(); // `|`
    try {
      const body = this.query(end);
      this.advance(); // end
      return body;
    } catch (err) {
      if (err instanceof RegoError && this.isPunct(',')) return undefined;
      throw err;
    }
  }

  /** Comma-separated terms up to `end` (consumed); a trailing comma is allowed. */
  private termList(end: ')' | ']' | '}'): Term[] {
    const items: Term[] = [];
    while (!this.isPunct(end)) {
      if (!this.atTermStart()) this.fail(this.tok, items.length === 0 ? `a term or "${end}"` : `a term`);
      items.push(this.infix(false));
      if (this.isPunct(',')) {
        this.advance();
        continue;
      }
      if (!this.isPunct(end)) this.fail(this.tok, `"," or "${end}"`);
    }
    this.advance();
    return items;
  }

  /** `{`: an object, a set, or a comprehension. */
  private setOrObject(loc: Location): Term {
    this.advance();
    if (this.isPunct('}')) {
      this.advance();
      return { type: 'object', items: [], loc };
    }
    let maybeCompr = true;
    if (this.isPunct(',')) {
      maybeCompr = false;
      this.advance();
    }
    const save = this.pos;
    // A single term first, so that `{ a | b }` is a comprehension rather than a set holding `a | b`.
    let head = this.primary(false);
    if (this.isPunct('|') && maybeCompr) {
      const body = this.tryComprehensionBody('}');
      if (body) return { type: 'setcompr', term: head, body, loc };
      this.pos = save;
      return { type: 'set', items: this.termList('}'), loc };
    }
    if (this.isPunct('}') || this.isPunct(',')) return this.setRest(head, loc);
    if (this.isPunct(':')) return this.objectRest(head, maybeCompr, loc);
    this.pos = save;
    head = this.infix(false);
    if (this.isPunct('}') || this.isPunct(',')) return this.setRest(head, loc);
    if (this.isPunct(':')) return this.objectRest(head, maybeCompr, loc);
    return this.fail(this.tok, '",", ":" or "}" in the set or object');
  }

  private setRest(head: Term, loc: Location): Term {
    if (this.isPunct('}')) {
      this.advance();
      return { type: 'set', items: [head], loc };
    }
    this.advance(); // ,
    return { type: 'set', items: [head, ...this.termList('}')], loc };
  }

  private objectRest(key: Term, maybeCompr: boolean, loc: Location): Term {
    this.advance(); // :
    if (!this.atTermStart()) this.fail(this.tok, 'a value after ":"');
    const save = this.pos;
    if (maybeCompr) {
      // `{k: v | body}` is an object comprehension (as with sets, a single term before `|` decides it)
      const v = this.primary(false);
      if (this.isPunct('|')) {
        const body = this.tryComprehensionBody('}');
        if (body) return { type: 'objectcompr', key, value: v, body, loc };
      }
      this.pos = save;
    }
    const items: Array<[Term, Term]> = [[key, this.infix(false)]];
    for (;;) {
      if (this.isPunct('}')) {
        this.advance();
        return { type: 'object', items, loc };
      }
      if (!this.isPunct(',')) this.fail(this.tok, '"," or "}" in the object');
      this.advance();
      if (this.isPunct('}')) continue;
      if (!this.atTermStart()) this.fail(this.tok, 'a key or "}" in the object');
      const k = this.infix(false);
      if (!this.isPunct(':')) this.fail(this.tok, '":" after the object key');
      this.advance();
      if (!this.atTermStart()) this.fail(this.tok, 'a value after ":"');
      items.push([k, this.infix(false)]);
    }
  }

  /**
   * Ref and call suffixes after `head`: `.name`, `[term]`, `(args)`. `firstWsOk`: whitespace may precede
   * the first suffix (rule heads).
   */
  private refTail(head: Term, firstWsOk: boolean): Term {
    switch (head.type) {
      case 'var':
      case 'array':
      case 'object':
      case 'set':
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr':
      case 'call':
        break;
      default:
        this.error(head.loc, `a ${termKindName(head)} cannot be followed by "${this.tok.text}" (refs start with a variable or a collection)`);
    }
    let path: Term[] = [];
    let first = firstWsOk;
    for (;;) {
      const t = this.tok;
      if (t.kind !== 'punct' || (t.ws && !first)) break;
      first = false;
      if (t.text === '.') {
        this.advance();
        const n = this.tok;
        if (n.kind !== 'ident' || n.ws) this.fail(n, 'a name after "."');
        this.advance();
        path.push({ type: 'string', value: n.text, loc: this.loc(n) });
      } else if (t.text === '[') {
        this.advance();
        if (!this.atTermStart()) this.fail(this.tok, 'a term after "["');
        path.push(this.infix(true));
        if (!this.isPunct(']')) this.fail(this.tok, '"]"');
        this.advance();
      } else if (t.text === '(') {
        if (head.type !== 'var') this.error(this.loc(t), `only functions can be called; a ${termKindName(head)} cannot be followed by "("`);
        const fn = ref(head, path, head.loc);
        this.advance();
        const args = this.termList(')');
        let c: Term;
        if (path.length === 0 && head.name === 'set' && args.length === 0) c = { type: 'set', items: [], loc: head.loc };
        else c = { type: 'call', fn, args, loc: head.loc };
        const n = this.tok;
        if (n.kind === 'punct' && !n.ws && (n.text === '.' || n.text === '[')) {
          head = c;
          path = [];
          continue;
        }
        if (n.kind === 'punct' && !n.ws && n.text === '(') this.error(this.loc(n), 'a call result cannot be called');
        return c;
      } else break;
    }
    if (path.length === 0) return head;
    return ref(head, path, head.loc);
  }

  // ---------------- annotations

  private attachAnnotations(module: Module): void {
    const { blocks, errors } = parseAnnotationBlocks(this.comments, this.file);
    if (errors.length > 0) throw new RegoErrors(errors);
    for (const { annotations, endLine } of blocks) {
      module.annotations.push(annotations);
      const target = nextNode(module, endLine);
      if (!target) this.error(annotations.loc, 'METADATA block is not followed by a package or rule');
      const isPkg = target.kind === 'package';
      annotations.targetLine = isPkg ? module.package.loc.line : target.rule.loc.line;
      // as OPA defaults it: an entrypoint rule's block documents the whole rule set
      const scope = annotations.scope ?? (isPkg ? 'package' : annotations.entrypoint ? 'document' : 'rule');
      if (!annotations.scope) annotations.scope = scope;
      const wantsPkg = scope === 'package' || scope === 'subpackages';
      if (wantsPkg !== isPkg) {
        this.error(annotations.loc, `annotation scope '${scope}' must be applied to ${wantsPkg ? 'package' : 'rule'} (found ${target.kind})`);
      }
      if (target.kind === 'package') module.package.annotations = annotations;
      else target.rule.annotations = annotations;
    }
  }
}

function nextNode(module: Module, afterLine: number): { kind: 'package' } | { kind: 'rule'; rule: Rule } | undefined {
  if (module.package.loc.line > afterLine) return { kind: 'package' };
  for (const r of module.rules) if (r.loc.line > afterLine) return { kind: 'rule', rule: r };
  return undefined;
}

/**
 * v0's reading of a `p[x]` / `p.x` head written without `if`, `contains` or a value: a partial set with
 * the element x (OPA keeps this for backwards compatibility; v1 reads `p[x] if …` as an object entry).
 */
function v0PartialSet(head: RuleHead): void {
  const r = head.ref;
  if (head.key !== undefined || head.value !== undefined || head.args !== undefined || r.path.length !== 1) return;
  head.key = r.path[0];
  head.ref = ref(r.head, [], r.loc);
}

function isGround(t: Term): boolean {
  switch (t.type) {
    case 'var':
    case 'ref':
    case 'call':
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      return false;
    case 'array':
    case 'set':
      return t.items.every(isGround);
    case 'object':
      return t.items.every(([k, v]) => isGround(k) && isGround(v));
    default:
      return true;
  }
}

// ---------------------------------------------------------------- stage checks

/**
 * The checks OPA makes on a single module right after parsing:
 * - `:=` may not redeclare a variable in the same body ("var x assigned above"), nor one that an earlier
 *   expression of that body referenced, a `some` declared, or a function argument;
 * - `:=` may only assign to a variable or an array / object pattern, never to a ref (incl. input / data);
 * - one name may not be defined both as a function and as a value, both as a partial set (contains) and as
 *   anything else, or as functions of different arity ("conflicting rules").
 */
export function checkModule(module: Module): RegoError[] {
  const errors: RegoError[] = [];
  const version: RegoVersion = module.regoVersion ?? 1;
  for (const rule of module.rules) {
    for (let r: Rule | undefined = rule; r; r = r.else) checkRuleBody(r, rule.head.args, errors, version);
  }
  checkConflicts(module, errors);
  if (version === 0 && errors.length === 0) renameLocalInput(module, errors);
  // rules named input/data and two imports binding one name are refused in check/tree.ts, in v0 too
  // (OPA accepts them in v0; what they would mean there is not worth guessing)
  return errors;
}

/** A bare root document, `input` or `data` (a ref with an empty path). */
function isRootDoc(t: Term): boolean {
  return t.type === 'ref' && t.path.length === 0 && t.head.type === 'var' && (t.head.name === 'input' || t.head.name === 'data');
}

const isBareInput = (t: Term): boolean => isRootDoc(t) && ((t as RefTerm).head as VarTerm).name === 'input';

/**
 * Rego v0 lets a body declare a local named `input` (`input := {"review": …}`), which OPA's
 * rewriteLocalVars (v1/ast/compile.go) renames to a fresh variable: from that expression on, every
 * `input…` of that body and of the comprehensions and `every` bodies in it is the local — also in `with`
 * values — while a `with input… as` target still names the root input document. An `input` written
 * before the declaration stays the root document. A comprehension may declare its own. We rename the
 * same way, to `$inputN` (no Rego name can collide). Refused, because OPA's answer depends on more than
 * this body: a head mentioning `input` when the body declares it (OPA renames it there as well) and a
 * module importing `input…` (its aliases were resolved to `input.…` before renaming, so they would read
 * the local).
 */
function renameLocalInput(module: Module, errors: RegoError[]): void {
  let n = 0;
  const importsInput = module.imports.some((i) => i.path.head.type === 'var' && i.path.head.name === 'input');
  for (const rule of module.rules) {
    for (let r: Rule | undefined = rule; r; r = r.else) {
      const decl = firstInputDecl(r.body);
      if (!decl) continue;
      if (importsInput) {
        errors.push(unsupported(decl.loc, 'a local variable named input in a module that imports input (rename the variable)'));
        continue;
      }
      const scope: Array<string | undefined> = [undefined];
      const fresh = () => `$input${n++}`;
      renameBody(r.body, scope, fresh);
      const top = scope[0];
      if (top !== undefined && headMentionsInput(r)) errors.push(unsupported(r.head.loc, 'a rule head reading input when its body declares a local variable named input (rename the variable)'));
    }
  }
}

/** The first `input := …` anywhere in a body (nested bodies included). */
function firstInputDecl(body: Body): Term | undefined {
  let found: Term | undefined;
  visitNodes(body, (node) => {
    if (found) return false;
    const t = node as unknown as Term;
    if (t.type === 'call' && isCallTo(t, 'assign') && isBareInput(t.args[0])) found = t.args[0];
    return undefined;
  });
  return found;
}

function headMentionsInput(r: Rule): boolean {
  let found = false;
  const h = r.head;
  visitNodes([h.ref.path, h.args ?? [], h.key ?? null, h.value ?? null], (node) => {
    const t = node as unknown as Term;
    if (t.type === 'ref' && t.head.type === 'var' && t.head.name === 'input') found = true;
    return !found;
  });
  return found;
}

function renameBody(body: Body, scope: Array<string | undefined>, fresh: () => string): void {
  const current = (): string | undefined => {
    for (let i = scope.length - 1; i >= 0; i--) if (scope[i] !== undefined) return scope[i];
    return undefined;
  };
  const rn = (t: Term): Term => {
    switch (t.type) {
      case 'ref': {
        const local = t.head.type === 'var' && t.head.name === 'input' ? current() : undefined;
        const head: Term = local !== undefined ? { type: 'var', name: local, loc: t.head.loc } : rn(t.head);
        const path = t.path.map(rn);
        // a bare local is a variable, not a ref
        if (local !== undefined && path.length === 0) return head;
        return { ...t, head, path };
      }
      case 'call':
        return { ...t, args: t.args.map(rn) };
      case 'array':
      case 'set':
        return { ...t, items: t.items.map(rn) };
      case 'object':
        return { ...t, items: t.items.map(([k, v]) => [rn(k), rn(v)] as [Term, Term]) };
      case 'arraycompr':
      case 'setcompr':
      case 'objectcompr': {
        scope.push(undefined);
        renameBody(t.body, scope, fresh);
        const out: Term = t.type === 'objectcompr' ? { ...t, key: rn(t.key), value: rn(t.value) } : { ...t, term: rn(t.term) };
        scope.pop();
        return out;
      }
      default:
        return t;
    }
  };
  const rnWith = (w: With): With => {
    // the target keeps naming the root input document; only the terms in its brackets are renamed
    const target: RefTerm = w.target.head.type === 'var' && w.target.head.name === 'input' ? { ...w.target, path: w.target.path.map(rn) } : w.target;
    return { ...w, target, value: rn(w.value) };
  };
  for (const e of body) {
    const v = e.value;
    switch (v.type) {
      case 'some':
        break;
      case 'some_in':
        e.value = { ...v, collection: rn(v.collection), value: rn(v.value), key: v.key && rn(v.key) };
        break;
      case 'every': {
        const domain = rn(v.domain);
        scope.push(undefined);
        renameBody(v.body, scope, fresh);
        scope.pop();
        e.value = { ...v, domain };
        break;
      }
      case 'term':
        if (isCallTo(v.term, 'assign') && isBareInput((v.term as CallTerm).args[0])) {
          const call = v.term as CallTerm;
          const rhs = rn(call.args[1]);
          e.with = e.with.map((w) => ({ ...w, value: rn(w.value) }));
          const name = fresh();
          scope[scope.length - 1] = name;
          e.value = { type: 'term', term: { ...call, args: [{ type: 'var', name, loc: call.args[0].loc }, rhs] } };
          continue;
        }
        e.value = { type: 'term', term: rn(v.term) };
        break;
    }
    e.with = e.with.map(rnWith);
  }
}

type Occurrence = 'seen' | 'assigned' | 'declared' | 'arg';

class Scopes {
  constructor(readonly version: RegoVersion) {}
  private stack: Array<Map<string, Occurrence>> = [];
  push(): void {
    this.stack.push(new Map());
  }
  pop(): void {
    this.stack.pop();
  }
  get top(): Map<string, Occurrence> {
    return this.stack[this.stack.length - 1];
  }
}

function checkRuleBody(rule: Rule, args: Term[] | undefined, errors: RegoError[], version: RegoVersion): void {
  const scopes = new Scopes(version);
  scopes.push();
  if (args) for (const a of args) forEachVar(a, (v) => scopes.top.set(v.name, 'arg'));
  checkBody(rule.body, scopes, errors);
}

function checkBody(body: Body, scopes: Scopes, errors: RegoError[]): void {
  for (const e of body) {
    const v = e.value;
    switch (v.type) {
      case 'some':
        for (const x of v.vars) declare(x, 'declared', scopes, errors);
        break;
      case 'some_in':
        seeTerm(v.collection, scopes, errors);
        for (const t of v.key ? [v.key, v.value] : [v.value]) forEachVar(t, (x) => declare(x, 'declared', scopes, errors));
        break;
      case 'every':
        seeTerm(v.domain, scopes, errors);
        scopes.push();
        for (const t of v.key ? [v.key, v.value] : [v.value]) forEachVar(t, (x) => scopes.top.set(x.name, 'declared'));
        checkBody(v.body, scopes, errors);
        scopes.pop();
        break;
      case 'term':
        if (isCallTo(v.term, 'assign')) {
          const [lhs, rhs] = (v.term as CallTerm).args;
          seeTerm(rhs, scopes, errors);
          if (lhs.type === 'var' || lhs.type === 'array' || lhs.type === 'object') {
            forEachVar(
              lhs,
              (x) => declare(x, 'assigned', scopes, errors),
              (t) => {
                // OPA declares a local for input / data inside an assignment pattern too (`[input, x] := …`)
                if (isRootDoc(t)) errors.push(unsupported(t.loc, `${(t as RefTerm).head.type === 'var' ? ((t as RefTerm).head as VarTerm).name : 'a root document'} inside an assignment pattern (it would declare a local variable)`));
                else seeTerm(t, scopes, errors);
              },
            );
          } else if (isRootDoc(lhs)) {
            // v1 forbids it. v0 allows a local named input or data (OPA's rewriteDeclaredAssignment):
            // `input` is declared like any variable and renamed by renameLocalInput; a local `data` is
            // refused, since in OPA it also captures every rule and import reference resolved to data.…
            const name = ((lhs as RefTerm).head as VarTerm).name;
            if (scopes.version !== 0) {
              errors.push(new RegoError('rego_compile_error', lhs.loc, `variables must not shadow ${name} (use a different variable name)`));
            } else if (name === 'input') {
              declare({ type: 'var', name, loc: lhs.loc }, 'assigned', scopes, errors);
            } else {
              errors.push(unsupported(lhs.loc, `a variable named ${name} (Rego v0 allows one; rename it)`));
            }
          } else {
            errors.push(new RegoError('rego_compile_error', lhs.loc, `cannot assign to ${termKindName(lhs)}`));
          }
        } else seeTerm(v.term, scopes, errors);
        break;
    }
    for (const w of e.with) seeTerm(w.value, scopes, errors);
  }
}

function declare(v: VarTerm, kind: Occurrence, scopes: Scopes, errors: RegoError[]): void {
  if (v.name === '_') return;
  const prev = scopes.top.get(v.name);
  if (prev !== undefined) {
    const msg =
      prev === 'seen'
        ? `var ${v.name} referenced above`
        : prev === 'assigned'
          ? `var ${v.name} assigned above`
          : prev === 'declared'
            ? `var ${v.name} declared above`
            : `arg ${v.name} redeclared`;
    errors.push(new RegoError('rego_compile_error', v.loc, msg));
    return;
  }
  scopes.top.set(v.name, kind);
}

/** Marks every variable of `t` as referenced; comprehension bodies are checked in their own scope. */
function seeTerm(t: Term, scopes: Scopes, errors: RegoError[]): void {
  switch (t.type) {
    case 'var':
      if (!scopes.top.has(t.name)) scopes.top.set(t.name, 'seen');
      return;
    case 'ref':
      // a bare `input` / `data` is not a reference to a variable for OPA (only `input.x` is): a later
      // `input := …` (v0) is not "referenced above"
      if (!isRootDoc(t)) seeTerm(t.head, scopes, errors);
      for (const p of t.path) seeTerm(p, scopes, errors);
      return;
    case 'call':
      for (const a of t.args) seeTerm(a, scopes, errors);
      return;
    case 'array':
    case 'set':
      for (const x of t.items) seeTerm(x, scopes, errors);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        seeTerm(k, scopes, errors);
        seeTerm(v, scopes, errors);
      }
      return;
    case 'arraycompr':
    case 'setcompr':
    case 'objectcompr':
      scopes.push();
      checkBody(t.body, scopes, errors);
      if (t.type === 'objectcompr') {
        seeTerm(t.key, scopes, errors);
        seeTerm(t.value, scopes, errors);
      } else seeTerm(t.term, scopes, errors);
      scopes.pop();
      return;
    default:
      return;
  }
}

/** Calls `fn` for each variable of an assignment pattern (vars, arrays, object values); other parts go to `other`. */
function forEachVar(t: Term, fn: (v: VarTerm) => void, other?: (t: Term) => void): void {
  switch (t.type) {
    case 'var':
      fn(t);
      return;
    case 'array':
      for (const x of t.items) forEachVar(x, fn, other);
      return;
    case 'object':
      for (const [k, v] of t.items) {
        if (other) other(k);
        forEachVar(v, fn, other);
      }
      return;
    default:
      if (other) other(t);
  }
}

type RuleKind = 'function' | 'set' | 'value';

function ruleKind(r: Rule): RuleKind {
  // a zero-argument "function" is a plain rule (see check/tree.ts)
  if (r.head.args?.length) return 'function';
  if (r.head.key !== undefined) return 'set';
  return 'value';
}

/** The rule's ref as a string, up to the first non-string part (`a.b[x].c` → "a.b"). */
function groundPrefix(r: RefTerm): { text: string; full: boolean } {
  let text = (r.head as VarTerm).name;
  for (let i = 0; i < r.path.length; i++) {
    const p = r.path[i];
    if (p.type !== 'string') return { text, full: false };
    text += '.' + p.value;
  }
  return { text, full: true };
}

function checkConflicts(module: Module, errors: RegoError[]): void {
  const pkg = ['data', ...module.package.path].join('.');
  const byName = new Map<string, { kind: RuleKind; arity: number; rule: Rule }>();
  const reported = new Set<string>();
  for (const rule of module.rules) {
    if (rule.head.ref.head.type !== 'var') continue;
    const { text, full } = groundPrefix(rule.head.ref);
    const kind = ruleKind(rule);
    // Only rules whose whole ref is known are compared by name; refs with variables (p[x] := …) are
    // object rules that the compiler checks against the rest of the package.
    if (!full && kind === 'value') continue;
    const arity = rule.head.args?.length ?? 0;
    const prev = byName.get(text);
    if (!prev) {
      byName.set(text, { kind, arity, rule });
      continue;
    }
    if (prev.kind === kind && (kind !== 'function' || prev.arity === arity)) continue;
    if (reported.has(text)) continue;
    reported.add(text);
    const what = (k: RuleKind, n: number): string => (k === 'function' ? `a function of ${n} argument${n === 1 ? '' : 's'}` : k === 'set' ? 'a partial set (contains)' : 'a single value');
    errors.push(
      new RegoError(
        'rego_type_error',
        rule.loc,
        `conflicting rules ${pkg}.${text} found: defined as ${what(kind, arity)} here and as ${what(prev.kind, prev.arity)} at line ${prev.rule.loc.line}`,
      ),
    );
  }
}
