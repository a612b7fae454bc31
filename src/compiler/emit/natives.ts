/**
 * Built-ins the wasm runtime implements natively (src/runtime/builtins.ts). The id of a built-in is its
 * position in this list: keep it in the same order as the runtime's NAMES.
 */
export const NATIVE_LIST: ReadonlyArray<readonly [name: string, arity: number]> = [
  ['equal', 2], ['neq', 2], ['lt', 2], ['lte', 2], ['gt', 2], ['gte', 2],
  ['plus', 2], ['minus', 2], ['mul', 2], ['div', 2], ['rem', 2], ['and', 2], ['or', 2],
  ['count', 1], ['sum', 1], ['product', 1], ['max', 1], ['min', 1],
  ['is_number', 1], ['is_string', 1], ['is_boolean', 1], ['is_array', 1], ['is_set', 1], ['is_object', 1],
  ['is_null', 1], ['type_name', 1],
  ['internal.member_2', 2], ['internal.member_3', 3], ['object.get', 3],
  ['concat', 2], ['startswith', 2], ['endswith', 2], ['contains', 2], ['lower', 1], ['upper', 1],
  ['split', 2], ['replace', 3],
  ['trim', 2], ['trim_left', 2], ['trim_right', 2], ['trim_prefix', 2], ['trim_suffix', 2], ['trim_space', 1],
  ['indexof', 2], ['substring', 3],
  ['array.concat', 2], ['array.slice', 3], ['abs', 1], ['round', 1], ['ceil', 1], ['floor', 1],
  ['intersection', 1], ['union', 1], ['object.keys', 1], ['array.reverse', 1], ['sort', 1],
  ['strings.reverse', 1], ['to_number', 1], ['json.marshal', 1], ['object.subset', 2],
  ['sprintf', 2], ['time.parse_rfc3339_ns', 1], ['glob.match', 3],
  ['time.now_ns', 0], ['regex.match', 2], ['internal.print', 1], ['walk', 1],
  ['internal.template_string', 1],
];

/**
 * Native built-ins that hand some inputs to the host implementation when the host has one: lower/upper
 * non-ASCII text, sprintf everything but plain %s/%v/%d of strings, integers, booleans and null,
 * time.parse_rfc3339_ns everything but well-formed stamps of 1678..2261 (errors included), glob.match
 * everything but literal/`*`/`**` patterns with ASCII delimiters, time.now_ns whenever the host did not
 * hand the instant in (pdp_set_now_ns), regex.match everything but anchored ^…$ patterns of literals,
 * classes and repetitions. The host version words the errors.
 */
export const HOST_FALLBACK: ReadonlySet<string> = new Set(['lower', 'upper', 'sprintf', 'time.parse_rfc3339_ns', 'glob.match', 'time.now_ns', 'regex.match']);

/**
 * Native built-ins that compute with non-integer numbers through the host built-in DECIMAL_HOST
 * (OPA's 64-bit big.Float semantics on exact decimal strings, and exact big-integer + - * % for integers
 * beyond 64 bits); the call carries its host id.
 */
export const DECIMAL_HOST = 'internal.pdp_decimal_arith';
export const DECIMAL_ARITH: ReadonlySet<string> = new Set(['plus', 'minus', 'mul', 'div', 'rem', 'sum', 'product', 'abs', 'round', 'ceil', 'floor']);

export const NATIVE_IDS: ReadonlyMap<string, { id: number; arity: number }> = new Map(
  NATIVE_LIST.map(([name, arity], id) => [name, { id, arity }]),
);

/** Names the runtime implements natively. */
export const NATIVE_BUILTINS: ReadonlySet<string> = new Set(NATIVE_LIST.map(([n]) => n));
