/**
 * The declarations of every Rego built-in we know: name, argument and result types, category, and
 * whether our wasm runtime implements it natively (OPA's native wasm list, section 2 of opa-facts) or
 * the host does. Implementations are attached in registry.ts.
 */
import type { BuiltinDecl, TypeName } from './types';

type Row = [name: string, args: TypeName[], result: TypeName, opts?: Partial<Pick<BuiltinDecl, 'infix' | 'nondeterministic' | 'deprecated' | 'relation'>>];

/** OPA's wasm target implements these inside the module; our runtime mirrors that list. */
export const NATIVE = new Set<string>([
  'plus', 'minus', 'mul', 'div', 'rem', 'abs', 'round', 'ceil', 'floor', 'equal', 'neq', 'gt', 'gte', 'lt', 'lte',
  'and', 'or', 'intersection', 'union', 'set_diff',
  'array.concat', 'array.slice', 'array.reverse',
  'count', 'sum', 'product', 'max', 'min', 'sort', 'all', 'any',
  'is_number', 'is_string', 'is_boolean', 'is_array', 'is_set', 'is_object', 'is_null', 'type_name',
  'bits.or', 'bits.and', 'bits.negate', 'bits.xor', 'bits.lsh', 'bits.rsh',
  'base64.is_valid', 'base64.encode', 'base64.decode', 'base64url.encode', 'base64url.decode',
  'json.marshal', 'json.unmarshal', 'json.is_valid', 'json.remove', 'json.filter',
  'object.filter', 'object.get', 'object.keys', 'object.remove', 'object.union', 'object.union_n',
  'concat', 'format_int', 'indexof', 'substring', 'lower', 'upper', 'contains', 'startswith', 'endswith',
  'strings.reverse', 'split', 'replace', 'strings.replace_n', 'trim', 'trim_left', 'trim_prefix', 'trim_right',
  'trim_suffix', 'trim_space',
  'numbers.range', 'to_number', 'walk', 'graph.reachable',
  'net.cidr_contains', 'net.cidr_intersects', 'net.cidr_overlap',
  'regex.is_valid', 'regex.match', 're_match', 'regex.find_all_string_submatch_n', 'glob.match',
  'internal.member_2', 'internal.member_3',
]);

/**
 * Built-ins the runtime runs natively only for their common forms and hands to the host for every other
 * form and every error (the emitter's HOST_FALLBACK, src/compiler/emit/natives.ts, which says which
 * forms): `pdp capabilities` marks them `"implementation": "native", "host_fallback": true`.
 * sprintf, time.now_ns and time.parse_rfc3339_ns are not in OPA's native list but run natively here.
 */
export const NATIVE_WITH_HOST_FALLBACK = new Set<string>([
  'lower', 'upper', 'sprintf', 'time.parse_rfc3339_ns', 'glob.match', 'time.now_ns', 'regex.match',
]);

const N: TypeName = 'number';
const S: TypeName = 'string';
const B: TypeName = 'boolean';
const A: TypeName = 'array';
const O: TypeName = 'object';
const X: TypeName = 'any';
const AS: TypeName = 'array|set';

export const ROWS: Record<string, Row[]> = {
  comparison: [
    ['equal', [X, X], B, { infix: '==' }], ['neq', [X, X], B, { infix: '!=' }],
    ['lt', [X, X], B, { infix: '<' }], ['lte', [X, X], B, { infix: '<=' }],
    ['gt', [X, X], B, { infix: '>' }], ['gte', [X, X], B, { infix: '>=' }],
  ],
  numbers: [
    ['plus', [N, N], N, { infix: '+' }], ['minus', ['number|set', 'number|set'], 'number|set', { infix: '-' }],
    ['mul', [N, N], N, { infix: '*' }], ['div', [N, N], N, { infix: '/' }], ['rem', [N, N], N, { infix: '%' }],
    ['abs', [N], N], ['round', [N], N], ['ceil', [N], N], ['floor', [N], N],
    ['numbers.range', [N, N], A], ['numbers.range_step', [N, N, N], A],
    ['rand.intn', [S, N], N, { nondeterministic: true }],
  ],
  bits: [
    ['bits.and', [N, N], N], ['bits.or', [N, N], N], ['bits.xor', [N, N], N], ['bits.negate', [N], N],
    ['bits.lsh', [N, N], N], ['bits.rsh', [N, N], N],
  ],
  sets: [
    ['and', ['set', 'set'], 'set', { infix: '&' }], ['or', ['set', 'set'], 'set', { infix: '|' }],
    ['intersection', ['set'], 'set'], ['union', ['set'], 'set'], ['set_diff', ['set', 'set'], 'set', { deprecated: true }],
  ],
  aggregates: [
    ['count', ['string|array|set|object'], N], ['sum', [AS], N], ['product', [AS], N],
    ['max', [AS], X], ['min', [AS], X], ['sort', [AS], A],
    ['all', [AS], B, { deprecated: true }], ['any', [AS], B, { deprecated: true }],
  ],
  arrays: [
    ['array.concat', [A, A], A], ['array.slice', [A, N, N], A], ['array.reverse', [A], A],
  ],
  types: [
    ['is_number', [X], B], ['is_string', [X], B], ['is_boolean', [X], B], ['is_array', [X], B], ['is_set', [X], B],
    ['is_object', [X], B], ['is_null', [X], B], ['type_name', [X], S],
  ],
  objects: [
    ['object.get', [O, X, X], X], ['object.keys', [O], 'set'], ['object.remove', [O, 'collection'], O],
    ['object.filter', [O, 'collection'], O], ['object.union', [O, O], O], ['object.union_n', [A], O],
    ['object.subset', ['object|array|set', 'object|array|set'], B],
    ['json.filter', [O, AS], X], ['json.remove', [O, AS], X], ['json.patch', [X, A], X],
    ['json.verify_schema', ['any'], A], ['json.match_schema', ['any', 'any'], A],
  ],
  strings: [
    ['concat', [S, AS], S], ['contains', [S, S], B], ['startswith', [S, S], B], ['endswith', [S, S], B],
    ['lower', [S], S], ['upper', [S], S], ['indexof', [S, S], N], ['indexof_n', [S, S], A],
    ['substring', [S, N, N], S], ['split', [S, S], A], ['strings.split_n', [S, S, N], A],
    ['replace', [S, S, S], S], ['strings.replace_n', [O, S], S], ['strings.reverse', [S], S],
    ['strings.count', [S, S], N], ['strings.any_prefix_match', ['string|array|set', 'string|array|set'], B],
    ['strings.any_suffix_match', ['string|array|set', 'string|array|set'], B],
    ['strings.render_template', [S, O], S],
    ['trim', [S, S], S], ['trim_left', [S, S], S], ['trim_right', [S, S], S], ['trim_prefix', [S, S], S],
    ['trim_suffix', [S, S], S], ['trim_space', [S], S],
    ['format_int', [N, N], S], ['to_number', [X], N], ['sprintf', [S, A], S],
  ],
  regex: [
    ['regex.match', [S, S], B], ['re_match', [S, S], B, { deprecated: true }], ['regex.is_valid', [X], B],
    ['regex.split', [S, S], A], ['regex.replace', [S, S, S], S], ['regex.find_n', [S, S, N], A],
    ['regex.find_all_string_submatch_n', [S, S, N], A], ['regex.template_match', [S, S, S, S], B],
    ['regex.globs_match', [S, S], B],
  ],
  glob: [['glob.match', [S, 'array|null', S], B], ['glob.quote_meta', [S], S]],
  encoding: [
    ['base64.encode', [S], S], ['base64.decode', [S], S], ['base64.is_valid', [S], B],
    ['base64url.encode', [S], S], ['base64url.encode_no_pad', [S], S], ['base64url.decode', [S], S],
    ['hex.encode', [S], S], ['hex.decode', [S], S],
    ['json.marshal', [X], S], ['json.marshal_with_options', [X, O], S], ['json.unmarshal', [S], X], ['json.is_valid', [X], B],
    ['yaml.marshal', [X], S], ['yaml.unmarshal', [S], X], ['yaml.is_valid', [X], B],
    ['urlquery.encode', [S], S], ['urlquery.decode', [S], S], ['urlquery.encode_object', [O], S],
    ['urlquery.decode_object', [S], O],
  ],
  time: [
    ['time.now_ns', [], N, { nondeterministic: true }], ['time.parse_rfc3339_ns', [S], N], ['time.parse_ns', [S, S], N],
    ['time.parse_duration_ns', [S], N], ['time.date', ['number|array'], A], ['time.clock', ['number|array'], A],
    ['time.weekday', ['number|array'], S], ['time.add_date', [N, N, N, N], N],
    ['time.diff', ['number|array', 'number|array'], A], ['time.format', ['number|array'], S],
  ],
  net: [
    ['net.cidr_contains', [S, S], B], ['net.cidr_intersects', [S, S], B], ['net.cidr_overlap', [S, S], B, { deprecated: true }],
    ['net.cidr_expand', [S], 'set'], ['net.cidr_merge', [AS], 'set'], ['net.cidr_is_valid', [X], B],
    ['net.cidr_contains_matches', [X, X], 'set'],
  ],
  units: [['units.parse', [S], N], ['units.parse_bytes', [S], N]],
  semver: [['semver.compare', [S, S], N], ['semver.is_valid', [X], B]],
  uuid: [['uuid.rfc4122', [S], S, { nondeterministic: true }], ['uuid.parse', [S], O]],
  crypto: [
    ['crypto.md5', [S], S], ['crypto.sha1', [S], S], ['crypto.sha256', [S], S],
    ['crypto.hmac.md5', [S, S], S], ['crypto.hmac.sha1', [S, S], S], ['crypto.hmac.sha256', [S, S], S],
    ['crypto.hmac.sha512', [S, S], S], ['crypto.hmac.equal', [S, S], B],
    ['crypto.x509.parse_rsa_private_key', [S], O],
  ],
  tokens: [
    ['io.jwt.decode', [S], A], ['io.jwt.decode_verify', [S, O], A, { nondeterministic: true }],
    ...(['rs', 'ps', 'es', 'hs'] as const).flatMap((f) => (['256', '384', '512'] as const).map((n): Row => [`io.jwt.verify_${f}${n}`, [S, S], B])),
    ['io.jwt.verify_eddsa', [S, S], B],
    ['io.jwt.encode_sign', [O, O, O], S, { nondeterministic: true }], ['io.jwt.encode_sign_raw', [S, S, S], S, { nondeterministic: true }],
  ],
  graph: [['walk', [X], A, { relation: true }], ['graph.reachable', [O, AS], 'set']],
  membership: [['internal.member_2', [X, X], B, { infix: 'in' }], ['internal.member_3', [X, X, X], B, { infix: 'in' }]],
  opa: [['opa.runtime', [], O, { nondeterministic: true }]],
  providers: [['providers.aws.sign_req', [O, O, N], O]],
  // ours, not OPA's: the wasm runtime's exact arithmetic on non-integers (src/builtins/decimal.ts)
  // and the side channel of policies compiled with `explain` (src/builtins/explain.ts)
  internal: [['internal.pdp_decimal_arith', [S, S, S], S], ['internal.pdp_explain_note', [S, S], B]],
};
