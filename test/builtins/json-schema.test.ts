/** json.verify_schema / json.match_schema: ajv with OPA's argument forms and error shape. */
import { hostBuiltins, newEvalContext } from '../../src/builtins/registry';
import { runCase } from '../../src/cli/commands/conformance';

const fns = hostBuiltins(newEvalContext({ strict: true }));
const schema = { type: 'object', properties: { name: { type: 'string', minLength: 2 }, age: { type: 'integer', minimum: 0 } }, required: ['name'], additionalProperties: false };

test('verify_schema: [true, null] for a schema, [false, message] otherwise', () => {
  expect(fns['json.verify_schema'](schema)).toEqual([true, null]);
  expect(fns['json.verify_schema'](JSON.stringify(schema))).toEqual([true, null]);
  expect(fns['json.verify_schema']({ type: 'no-such-type' })[0]).toBe(false);
  expect(fns['json.verify_schema']('{not json')).toEqual([false, 'jsonschema: invalid JSON string']);
  expect(fns['json.verify_schema'](5)).toEqual([false, 'jsonschema: wrong type, expected string or object']);
});

test('match_schema: [true, []] for a match; otherwise errors as {error, type, field, desc}', () => {
  expect(fns['json.match_schema']({ name: 'al', age: 3 }, schema)).toEqual([true, []]);
  const [ok, errors] = fns['json.match_schema']({ age: -1, extra: 1 }, schema);
  expect(ok).toBe(false);
  expect(errors).toEqual(expect.arrayContaining([
    { error: 'name: name is required', type: 'required', field: 'name', desc: 'name is required' },
    { error: 'age: Must be greater than or equal to 0', type: 'number_gte', field: 'age', desc: 'Must be greater than or equal to 0' },
    { error: '(root): Additional property extra is not allowed', type: 'additional_property_not_allowed', field: '(root)', desc: 'Additional property extra is not allowed' },
  ]));
  expect(fns['json.match_schema']('5', { type: 'string' })[1]).toEqual([{ error: '(root): Invalid type. Expected: string, given: integer', type: 'invalid_type', field: '(root)', desc: 'Invalid type. Expected: string, given: integer' }]);
  // as in OPA, the document is a JSON string or a collection: a bare number is an error
  expect(() => fns['json.match_schema'](5, { type: 'string' })).toThrow(/wrong type, expected string or object/);
});

test('draft-04 schemas and invalid schemas are errors; patterns run on RE2', () => {
  expect(() => fns['json.match_schema']({}, { $schema: 'http://json-schema.org/draft-04/schema#' })).toThrow(/unsupported schema draft/);
  expect(() => fns['json.match_schema']({}, '{bad')).toThrow(/invalid JSON string/);
  // a backtracking-heavy pattern answers at once under RE2
  expect(fns['json.match_schema'](JSON.stringify('a'.repeat(40) + '!'), { type: 'string', pattern: '^(a+)+$' })[0]).toBe(false);
});

test('end to end through the policy', () => {
  const modules = ['package p\nallow if { [true, _] := json.match_schema(input, {"type": "object", "required": ["user"]}) }\n'];
  expect(runCase({ note: 's', query: 'data.p.allow = x', modules, input: { user: 'a' }, want_result: [{ x: true }] })).toEqual({ kind: 'pass' });
  expect(runCase({ note: 's', query: 'data.p.allow = x', modules, input: { nobody: 1 }, want_result: [] })).toEqual({ kind: 'pass' });
});
