/**
 * json.verify_schema / json.match_schema with ajv (JSON Schema drafts 6 and 7, as OPA's gojsonschema;
 * draft 4 schemas are refused rather than read with later semantics). Schemas and documents are a JSON
 * string or a value. Remote `$ref`s are never fetched (OPA only fetches hosts allowed by allow_net).
 * Errors take OPA's shape, `{error, type, field, desc}`, with gojsonschema's type names and wording for
 * the common keywords (`field` is the dotted path, `(root)` for the document itself).
 */
import Ajv, { ErrorObject, ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import type { Impls } from './types';
import { builtinErr, isObject, Value } from './values';
import { isRegoSet } from './rego-text';
import { RE2JS } from 're2js';

/**
 * `pattern` runs on RE2 (re2js), as gojsonschema runs Go's regexp: linear time, so a hostile schema
 * cannot stall an evaluation, and RE2 syntax (unsupported syntax fails the compile).
 */
function re2(pattern: string): { test: (s: string) => boolean } {
  const re = RE2JS.compile(pattern);
  return { test: (s: string) => re.matcher(s).find() };
}
re2.code = 'RE2';

/** A fresh validator per schema: schemas may reuse an `$id`, which one shared instance would reject. */
function validator(): Ajv {
  const a = new Ajv({ allErrors: true, strict: false, code: { regExp: re2 as never } });
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  a.addMetaSchema(require('ajv/dist/refs/json-schema-draft-06.json'));
  addFormats(a);
  return a;
}

/** The JSON a schema or document argument stands for (OPA's astValueToJSONSchemaLoader). */
function loaderValue(v: Value): unknown {
  if (typeof v === 'string') {
    try {
      return JSON.parse(v);
    } catch {
      throw new Error('invalid JSON string');
    }
  }
  if (isObject(v) || (Array.isArray(v) && !isRegoSet(v))) return v;
  throw new Error('wrong type, expected string or object');
}

const cache = new Map<string, ValidateFunction>();

function compile(schema: unknown): ValidateFunction {
  const key = JSON.stringify(schema);
  let fn = cache.get(key);
  if (fn) return fn;
  if (isObject(schema) && typeof schema.$schema === 'string' && /draft-0[34]\b/.test(schema.$schema)) {
    throw new Error(`unsupported schema draft ${schema.$schema}`);
  }
  const a = validator();
  // a schema object is compiled on its own: an `$id` seen before must not clash
  fn = a.compile(typeof schema === 'object' && schema !== null ? JSON.parse(JSON.stringify(schema)) : schema as object);
  if (cache.size > 256) cache.clear();
  cache.set(key, fn);
  return fn;
}

function fieldOf(instancePath: string, extra?: string): string {
  const parts = instancePath.split('/').slice(1).map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
  if (extra !== undefined) parts.push(extra);
  return parts.length ? parts.join('.') : '(root)';
}

function givenType(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  if (typeof v === 'number') return Number.isInteger(v) ? 'integer' : 'number';
  return typeof v;
}

function describe(e: ErrorObject, data: unknown): { type: string; desc: string; field?: string } {
  const p = e.params as Record<string, unknown>;
  const val = e.instancePath.split('/').slice(1).reduce<unknown>((cur, k) => (cur as Record<string, unknown>)?.[k.replace(/~1/g, '/').replace(/~0/g, '~')], data);
  switch (e.keyword) {
    case 'required': return { type: 'required', desc: `${p.missingProperty} is required`, field: fieldOf(e.instancePath, String(p.missingProperty)) };
    case 'type': return { type: 'invalid_type', desc: `Invalid type. Expected: ${String(p.type).split(',').join(', ')}, given: ${givenType(val)}` };
    case 'enum': return { type: 'enum', desc: `${fieldOf(e.instancePath)} must be one of the following: ${(p.allowedValues as unknown[]).map((x) => JSON.stringify(x)).join(', ')}` };
    case 'const': return { type: 'const', desc: `${fieldOf(e.instancePath)} does not match: ${JSON.stringify(p.allowedValue)}` };
    case 'additionalProperties': return { type: 'additional_property_not_allowed', desc: `Additional property ${p.additionalProperty} is not allowed` };
    case 'minimum': return { type: 'number_gte', desc: `Must be greater than or equal to ${p.limit}` };
    case 'exclusiveMinimum': return { type: 'number_gt', desc: `Must be greater than ${p.limit}` };
    case 'maximum': return { type: 'number_lte', desc: `Must be less than or equal to ${p.limit}` };
    case 'exclusiveMaximum': return { type: 'number_lt', desc: `Must be less than ${p.limit}` };
    case 'multipleOf': return { type: 'multiple_of', desc: `Must be a multiple of ${p.multipleOf}` };
    case 'minLength': return { type: 'string_gte', desc: `String length must be greater than or equal to ${p.limit}` };
    case 'maxLength': return { type: 'string_lte', desc: `String length must be less than or equal to ${p.limit}` };
    case 'pattern': return { type: 'pattern', desc: `Does not match pattern '${p.pattern}'` };
    case 'format': return { type: 'format', desc: `Does not match format '${p.format}'` };
    case 'minItems': return { type: 'array_min_items', desc: `Array must have at least ${p.limit} items` };
    case 'maxItems': return { type: 'array_max_items', desc: `Array must have at most ${p.limit} items` };
    case 'uniqueItems': return { type: 'unique', desc: `array items[${p.j},${p.i}] must be unique` };
    case 'minProperties': return { type: 'array_min_properties', desc: `Must have at least ${p.limit} properties` };
    case 'maxProperties': return { type: 'array_max_properties', desc: `Must have at most ${p.limit} properties` };
    case 'anyOf': return { type: 'number_any_of', desc: 'Must validate at least one schema (anyOf)' };
    case 'oneOf': return { type: 'number_one_of', desc: 'Must validate one and only one schema (oneOf)' };
    case 'not': return { type: 'number_not', desc: 'Must not validate the schema (not)' };
    case 'if': return { type: p.failingKeyword === 'else' ? 'condition_else' : 'condition_then', desc: `Must validate "${p.failingKeyword}" as "if" was ${p.failingKeyword === 'else' ? 'not ' : ''}valid` };
    case 'dependencies': case 'dependentRequired': return { type: 'missing_dependency', desc: `Has a dependency on ${p.missingProperty}` };
    case 'contains': return { type: 'contains', desc: 'At least one of the items must match' };
    case 'false schema': return { type: 'false', desc: 'False always fails validation' };
    default: return { type: e.keyword, desc: e.message ?? 'is invalid' };
  }
}

/** ajv reports each failing anyOf/oneOf branch as well; gojsonschema reports the combinator only. */
function topLevel(errors: ErrorObject[]): ErrorObject[] {
  const combinators = errors.filter((e) => e.keyword === 'anyOf' || e.keyword === 'oneOf' || e.keyword === 'not' || e.keyword === 'if');
  return errors.filter((e) => !combinators.some((c) => c !== e && e.schemaPath.startsWith(c.schemaPath.replace(/\/(anyOf|oneOf|not|if)$/, '') + '/' + c.keyword)));
}

function fail(fn: string, e: unknown): never {
  throw builtinErr(fn, (e as Error).message);
}

export const jsonSchemaImpls: Impls = {
  'json.verify_schema': ([s]) => {
    try {
      compile(loaderValue(s));
      return [true, null];
    } catch (e) {
      return [false, `jsonschema: ${(e as Error).message}`];
    }
  },
  'json.match_schema': ([d, s]) => {
    const fn = 'json.match_schema';
    let doc: unknown;
    let validate: ValidateFunction;
    try {
      doc = loaderValue(d);
      validate = compile(loaderValue(s));
    } catch (e) {
      fail(fn, e);
    }
    const ok = validate(doc) as boolean;
    const errors = ok ? [] : topLevel(validate.errors ?? []).map((e) => {
      const { type, desc, field } = describe(e, doc);
      const f = field ?? fieldOf(e.instancePath);
      return { error: `${f}: ${desc}`, type, field: f, desc };
    });
    return [ok, errors as unknown as Value];
  },
};
