/**
 * The Rego lexer: turns source text into a flat token array (the parser backtracks by index, which is
 * cheap and keeps the parser simple). Whitespace is not a token, but every token records whether
 * whitespace / a newline came before it, because Rego's grammar depends on both:
 * - a ref continues only when `.`, `[` or `(` follows with no whitespace (`a [1]` is not a ref);
 * - a newline separates the expressions of a body, like `;`.
 * Comments are collected separately (METADATA annotation blocks are read from them).
 *
 * Numbers are scanned without a sign: `-1` is the tokens `-` and `1`; the parser joins them where a
 * term is expected (so `x-1` is a subtraction, as in OPA).
 */
import { RegoError } from './errors';

export type TokenKind =
  | 'ident' // identifiers and keywords alike; the parser decides (keywords may appear in refs: input.if)
  | 'number'
  | 'string' // "…" (value decoded)
  | 'rawstring' // `…`
  | 'punct' // operators and delimiters; `text` is the operator
  | 'template' // a literal part of a template string $"…{…}…" (value decoded); see Token.template
  | 'eof';

export interface Token {
  kind: TokenKind;
  /** the source text of the token (for strings: the decoded value) */
  text: string;
  line: number;
  col: number;
  /** offsets into the source (UTF-16 code units), end exclusive */
  start: number;
  end: number;
  /** whitespace or a comment precedes the token */
  ws: boolean;
  /** a newline precedes the token (since the previous token) */
  nl: boolean;
  /**
   * template-string parts: `$"a {x} b"` is the parts `a ` (more: an expression follows), the tokens of
   * `x`, then ` b` (continued: it follows an expression's closing brace).
   */
  template?: { raw: boolean; more: boolean; continued: boolean };
}

export interface Comment {
  /** text after the `#` */
  text: string;
  line: number;
  col: number;
}

export interface LexResult {
  tokens: Token[];
  comments: Comment[];
}

/** Keywords of Rego v1. `contains` is a keyword only in rule heads; elsewhere it is a name (the built-in). */
export const KEYWORDS: ReadonlySet<string> = new Set([
  'as',
  'contains',
  'default',
  'else',
  'every',
  'false',
  'if',
  'import',
  'in',
  'not',
  'null',
  'package',
  'some',
  'true',
  'with',
]);

// Longest operators first so that `:=` wins over `:` and `==` over `=`.
const OPERATORS = [':=', '==', '!=', '<=', '>=', '{', '}', '[', ']', '(', ')', '.', ',', ';', ':', '=', '<', '>', '+', '-', '*', '/', '%', '&', '|'];

function isIdentStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95;
}
function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}
function isIdentPart(c: number): boolean {
  return isIdentStart(c) || isDigit(c);
}

/** Describes a character for error messages, e.g. `"@"` or `U+0007`. */
function describeChar(ch: string): string {
  const cp = ch.codePointAt(0) ?? 0;
  if (cp < 0x20 || cp === 0x7f) return `character U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
  return `character ${JSON.stringify(ch)}`;
}

export function lex(source: string, file: string): LexResult {
  const tokens: Token[] = [];
  const comments: Comment[] = [];
  const n = source.length;
  let i = 0;
  let line = 1;
  let col = 1;
  let ws = false;
  let nl = false;

  const fail = (l: number, c: number, msg: string): never => {
    throw new RegoError('rego_parse_error', { file, line: l, col: c }, msg);
  };

  /** advance over one UTF-16 unit, keeping line / col (cols count characters, so a surrogate pair is one) */
  const advance = (): void => {
    const c = source.charCodeAt(i);
    i++;
    if (c === 10) {
      line++;
      col = 1;
    } else if (c >= 0xd800 && c <= 0xdbff && i < n) {
      const d = source.charCodeAt(i);
      if (d >= 0xdc00 && d <= 0xdfff) i++;
      col++;
    } else {
      col++;
    }
  };

  // A byte-order mark at the start is not part of the policy.
  if (source.charCodeAt(0) === 0xfeff) {
    i = 1;
  }

  /** open template strings whose expression is being lexed, innermost last; depth counts nested `{` */
  const templates: Array<{ raw: boolean; depth: number }> = [];

  /**
   * One literal part of a template string, from after `$"` / `` $` `` / an expression's `}` up to and
   * including the next `{` (an expression follows) or the closing quote. As in OPA: `\{` is a literal
   * brace; `"…"` templates take the string escapes and cannot span lines; `` `…` `` ones are raw.
   */
  const templatePart = (raw: boolean, continued: boolean, tl: number, tc: number, start: number): void => {
    let text = '';
    let hasEscape = false;
    let more = false;
    for (;;) {
      if (i >= n) fail(tl, tc, `unterminated template string: expected a closing ${raw ? '`' : '"'}`);
      const d = source.charCodeAt(i);
      if (!raw && d === 10) fail(tl, tc, 'unterminated template string: a $"…" template cannot span lines (use $`…` for that)');
      if (d === (raw ? 96 : 34)) break;
      if (d === 123 /* { */) {
        more = true;
        break;
      }
      if (d === 92 /* \ */ && source.charCodeAt(i + 1) === 123) {
        advance();
        advance();
        text += '{';
        continue;
      }
      if (d === 92 && !raw) {
        hasEscape = true;
        const e = source[i + 1];
        if (e === 'u') {
          if (!/^[0-9a-fA-F]{4}$/.test(source.slice(i + 2, i + 6))) fail(line, col, 'invalid escape "\\u": expected 4 hex digits');
          text += source.slice(i, i + 6);
          for (let k = 0; k < 6; k++) advance();
          continue;
        }
        if (e === undefined || !'"\\/bfnrt'.includes(e)) fail(line, col, `invalid escape "\\${e ?? ''}" in template string (valid: \\{ \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
        text += source.slice(i, i + 2);
        advance();
        advance();
        continue;
      }
      text += source[i];
      advance();
    }
    advance(); // the closing quote or the `{`
    if (hasEscape) {
      try {
        text = JSON.parse(`"${text}"`) as string;
      } catch {
        fail(tl, tc, `illegal template-string part: ${source.slice(start, i)}`);
      }
    }
    tokens.push({ kind: 'template', text, line: tl, col: tc, start, end: i, ws, nl, template: { raw, more, continued } });
    if (more) templates.push({ raw, depth: 0 });
  };

  while (i < n) {
    const c = source.charCodeAt(i);
    // whitespace
    if (c === 32 || c === 9 || c === 13 || c === 10) {
      if (c === 10) nl = true;
      ws = true;
      advance();
      continue;
    }
    // comment to end of line
    if (c === 35 /* # */) {
      const cl = line;
      const cc = col;
      const s = i + 1;
      while (i < n && source.charCodeAt(i) !== 10) advance();
      let text = source.slice(s, i);
      if (text.endsWith('\r')) text = text.slice(0, -1);
      comments.push({ text, line: cl, col: cc });
      ws = true;
      continue;
    }
    const tl = line;
    const tc = col;
    const start = i;
    if (isIdentStart(c)) {
      while (i < n && isIdentPart(source.charCodeAt(i))) advance();
      tokens.push({ kind: 'ident', text: source.slice(start, i), line: tl, col: tc, start, end: i, ws, nl });
    } else if (isDigit(c)) {
      while (i < n && isDigit(source.charCodeAt(i))) advance();
      // fraction: only when a digit follows the dot (`1.a` is not a number followed by a ref)
      if (source.charCodeAt(i) === 46 && isDigit(source.charCodeAt(i + 1))) {
        advance();
        while (i < n && isDigit(source.charCodeAt(i))) advance();
      }
      const e = source.charCodeAt(i);
      if (e === 101 || e === 69) {
        let j = i + 1;
        const sign = source.charCodeAt(j);
        if (sign === 43 || sign === 45) j++;
        if (isDigit(source.charCodeAt(j))) {
          while (i < j) advance();
          while (i < n && isDigit(source.charCodeAt(i))) advance();
        } else {
          fail(line, col, `invalid number ${JSON.stringify(source.slice(start, j))}: expected digits after the exponent`);
        }
      }
      if (i < n && isIdentStart(source.charCodeAt(i))) {
        fail(tl, tc, `invalid number ${JSON.stringify(source.slice(start, i + 1))}: a number cannot be followed by a letter`);
      }
      tokens.push({ kind: 'number', text: source.slice(start, i), line: tl, col: tc, start, end: i, ws, nl });
    } else if (c === 34 /* " */) {
      advance();
      let hasEscape = false;
      for (;;) {
        if (i >= n) fail(tl, tc, 'unterminated string: expected a closing "');
        const d = source.charCodeAt(i);
        if (d === 10) fail(tl, tc, 'unterminated string: a "…" string cannot span lines (use a `raw string` for that)');
        if (d === 34) break;
        if (d === 92 /* \ */) {
          hasEscape = true;
          advance();
          if (i >= n) fail(tl, tc, 'unterminated string: expected a closing "');
          const e = source[i];
          if (e === 'u') {
            const hex = source.slice(i + 1, i + 5);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail(line, col - 1, 'invalid escape "\\u": expected 4 hex digits');
            for (let k = 0; k < 5; k++) advance();
            continue;
          }
          if (!'"\\/bfnrt'.includes(e)) fail(line, col - 1, `invalid escape "\\${e}" in string (valid: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX)`);
          advance();
          continue;
        }
        advance();
      }
      advance(); // closing quote
      const literal = source.slice(start, i);
      let value = literal.slice(1, -1);
      if (hasEscape) {
        // Escapes follow JSON; JSON also forbids raw control characters, as OPA does once a string has escapes.
        try {
          value = JSON.parse(literal) as string;
        } catch {
          fail(tl, tc, `illegal string literal: ${literal}`);
        }
      }
      tokens.push({ kind: 'string', text: value, line: tl, col: tc, start, end: i, ws, nl });
    } else if (c === 96 /* ` */) {
      advance();
      while (i < n && source.charCodeAt(i) !== 96) advance();
      if (i >= n) fail(tl, tc, 'unterminated raw string: expected a closing `');
      advance();
      tokens.push({ kind: 'rawstring', text: source.slice(start + 1, i - 1), line: tl, col: tc, start, end: i, ws, nl });
    } else {
      let op: string | undefined;
      for (const o of OPERATORS) {
        if (source.startsWith(o, i)) {
          op = o;
          break;
        }
      }
      const tmpl = templates[templates.length - 1];
      if (op === '}' && tmpl && tmpl.depth === 0) {
        // the end of a template expression: the template string goes on
        templates.pop();
        advance();
        templatePart(tmpl.raw, true, tl, tc, start);
        ws = false;
        nl = false;
        continue;
      }
      if (tmpl && op === '{') tmpl.depth++;
      if (tmpl && op === '}') tmpl.depth--;
      if (op === undefined && source[i] === '$' && (source[i + 1] === '"' || source[i + 1] === '`')) {
        const raw = source[i + 1] === '`';
        advance();
        advance();
        templatePart(raw, false, tl, tc, start);
        ws = false;
        nl = false;
        continue;
      }
      if (op === undefined) {
        const ch = String.fromCodePoint(source.codePointAt(i) ?? c);
        if (ch === "'") fail(tl, tc, 'unexpected character "\'": strings use double quotes ("…") or backticks (`…`)');
        fail(tl, tc, `unexpected ${describeChar(ch)}`);
      }
      for (let k = 0; k < op!.length; k++) advance();
      tokens.push({ kind: 'punct', text: op!, line: tl, col: tc, start, end: i, ws, nl });
    }
    ws = false;
    nl = false;
  }
  tokens.push({ kind: 'eof', text: '', line, col, start: n, end: n, ws, nl });
  return { tokens, comments };
}

