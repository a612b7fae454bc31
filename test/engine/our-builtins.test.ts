/**
 * A served decision must use OUR host built-ins, not the JS ones the SDK bundles and would otherwise
 * prefer (sprintf-js prints an object as "[object Object]"; Go's fmt, which OPA uses, prints Rego text).
 * Jest gives each test file a fresh module registry, so the SDK's bundled map starts untouched here:
 * only the engine itself can have switched it over.
 */
import { compile } from '../../src/compiler';
import { ActiveBundle } from '../../src/engine/engine';
import { WasmPolicy, EvaluationError } from '../../src/engine/policy';
import type { Bundle } from '../../src/bundles/bundle';

const SOURCE = `package mcp.authz

decision := {
  "allow": false,
  "reasons": [{"code": "fmt", "message": sprintf("%v / %d / %x", [{"a": 1}, 12, "hi"])}],
}
`;

function bundleOf(source: string, entrypoint: string): Bundle {
  const { wasm } = compile({ modules: [{ file: 'p.rego', source }], entrypoints: [entrypoint] });
  return {
    manifest: { revision: 'r1', roots: [''], wasm: [] },
    data: {},
    wasm: new Map([['/policy.wasm', wasm]]),
    rego: new Map(),
    files: new Map(),
  };
}

test('a served decision formats with our sprintf (Go verbs, Rego values), not sprintf-js', async () => {
  const active = await ActiveBundle.create('b', bundleOf(SOURCE, 'mcp/authz/decision'));
  const { resultSet } = active.evaluate('mcp/authz/decision', {});
  expect(resultSet).toEqual([{ result: { allow: false, reasons: [{ code: 'fmt', message: '{"a": 1} / 12 / 6869' }] } }]);
});

test('strict built-in errors surface with OPA\'s error class', async () => {
  const src = 'package t\nx := to_number("nope")\n';
  const { wasm } = compile({ modules: [{ file: 't.rego', source: src }], entrypoints: ['t/x'], strictBuiltinErrors: true });
  const strict = await WasmPolicy.load(wasm, { strictBuiltinErrors: true });
  let err: unknown;
  try {
    strict.evaluate('t/x', {});
  } catch (e) {
    err = e;
  }
  expect(err).toBeInstanceOf(EvaluationError);
  expect((err as EvaluationError).errorClass).toMatch(/^eval_(builtin|type)_error$/);
});

test('entrypoints by name or id, Rego-text evaluation keeps sets', async () => {
  const src = 'package t\ns := {x | some x in input.xs}\n';
  const p = WasmPolicy.loadSync(compile({ modules: [{ file: 't.rego', source: src }], entrypoints: ['t/s'] }).wasm);
  const id = p.entrypoints['t/s'];
  expect(p.evaluate(id, { xs: [2, 1, 2] })).toEqual([{ result: [1, 2] }]);
  expect(p.evaluateRegoText('t/s', '{"xs": {3, 4}}')).toBe('{{"result":{3,4}}}');
  expect(() => p.evaluate('t/nope', {})).toThrow(/unknown entrypoint t\/nope/);
  expect(() => p.evaluate(99, {})).toThrow(EvaluationError);
});
