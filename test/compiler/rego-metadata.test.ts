/**
 * rego.metadata.chain() / rego.metadata.rule(): constants built from the METADATA blocks, in OPA's
 * shape. The first three cases are OPA's own (test/cases/testdata/v1/regometadatachain); the others
 * follow OPA's AnnotationSet.Chain and the rewrite of rego.metadata.rule().
 */
import { runCase, type Case } from '../../src/cli/commands/conformance';

const run = (c: Omit<Case, 'note'>) => runCase({ note: 'rego.metadata', ...c });

describe('rego.metadata.chain()', () => {
  test('the rule block, then the package block (paths without data)', () => {
    const m = `# METADATA
# description: The Rego test suite
package testing

# METADATA
# title: Testing annotations
# authors:
# - The OPA contributors
p := x if {
	x := rego.metadata.chain()
}
`;
    const want = [
      { annotations: { authors: [{ name: 'The OPA contributors' }], scope: 'rule', title: 'Testing annotations' }, path: ['testing', 'p'] },
      { annotations: { description: 'The Rego test suite', scope: 'package' }, path: ['testing'] },
    ];
    expect(run({ query: 'data.testing.p = x', modules: [m], want_result: [{ x: want }] })).toEqual({ kind: 'pass' });
    // order matters: the chain is an array
    expect(run({ query: 'data.testing.p = x', modules: [m], want_result: [{ x: [want[1], want[0]] }] }).kind).toBe('wrong');
  });
  test('a document block of the same rule set comes after the rule block', () => {
    const m = `# METADATA
# description: The Rego test suite
package testing

# METADATA
# scope: document
# title: Testing annotations
# authors:
# - The OPA contributors
p := "foo" if {
	false
}

# METADATA
# title: Another annotation
p := x if {
	x := rego.metadata.chain()
}
`;
    const want = [
      { annotations: { scope: 'rule', title: 'Another annotation' }, path: ['testing', 'p'] },
      { annotations: { authors: [{ name: 'The OPA contributors' }], scope: 'document', title: 'Testing annotations' }, path: ['testing', 'p'] },
      { annotations: { description: 'The Rego test suite', scope: 'package' }, path: ['testing'] },
    ];
    expect(run({ query: 'data.testing.p = x', modules: [m], want_result: [{ x: want }] })).toEqual({ kind: 'pass' });
  });
  test('a rule without blocks has a path-only entry; package blocks span modules', () => {
    const modules = ['# METADATA\n# description: A set of package annotations seen across multiple modules\npackage testing\n', 'package testing\n\np := rego.metadata.chain()\n'];
    const want = [{ path: ['testing', 'p'] }, { annotations: { description: 'A set of package annotations seen across multiple modules', scope: 'package' }, path: ['testing'] }];
    expect(run({ query: 'data.testing.p = x', modules, want_result: [{ x: want }] })).toEqual({ kind: 'pass' });
  });
  test('subpackages blocks of the package and its ancestors, closest first; ref heads use their ground prefix', () => {
    const modules = [
      '# METADATA\n# scope: subpackages\n# title: root\npackage a\n',
      '# METADATA\n# scope: subpackages\n# organizations:\n# - Acme\npackage a.b\n\ndeny[k] contains rego.metadata.chain() if k := "x"\n',
    ];
    const want = {
      x: [
        [
          { path: ['a', 'b', 'deny'] },
          { annotations: { scope: 'subpackages', organizations: ['Acme'] }, path: ['a', 'b'] },
          { annotations: { scope: 'subpackages', title: 'root' }, path: ['a'] },
        ],
      ],
    };
    expect(run({ query: 'data.a.b.deny = x', modules, want_result: [{ x: want }] })).toEqual({ kind: 'pass' });
  });
});

describe('rego.metadata.rule()', () => {
  const m = `package test

# METADATA
# title: Deny big numbers
# description: Numbers may not be higher than 5
# related_resources:
# - https://example.com/doc
# - ref: https://example.com/other
#   description: more
# authors:
# - Jane Doe <jane@example.com>
# - name: Bob
# custom:
#   severity: MEDIUM
#   ids: [1, 2]
deny contains msg if {
	input.number > 5
	meta := rego.metadata.rule()
	msg := {"sev": meta.custom.severity, "why": meta.description}
}

whole := rego.metadata.rule() if true

# METADATA
# scope: document
# title: doc only
nothing := rego.metadata.rule()

# METADATA
# title: t
# description:
empty_desc := rego.metadata.rule()
`;
  test('the rule block as an object with OPA’s fields', () => {
    expect(run({ query: 'data.test.deny = x', modules: [m], input: { number: 6 }, want_result: [{ x: [{ sev: 'MEDIUM', why: 'Numbers may not be higher than 5' }] }] })).toEqual({ kind: 'pass' });
    const m2 = m.replace('deny contains msg if {\n\tinput.number > 5\n\tmeta := rego.metadata.rule()\n\tmsg := {"sev": meta.custom.severity, "why": meta.description}\n}', 'full := rego.metadata.rule()');
    const want = {
      scope: 'rule',
      title: 'Deny big numbers',
      description: 'Numbers may not be higher than 5',
      related_resources: [{ ref: 'https://example.com/doc' }, { ref: 'https://example.com/other', description: 'more' }],
      authors: [{ name: 'Jane Doe', email: 'jane@example.com' }, { name: 'Bob' }],
      custom: { severity: 'MEDIUM', ids: [1, 2] },
    };
    expect(run({ query: 'data.test.full = x', modules: [m2], want_result: [{ x: want }] })).toEqual({ kind: 'pass' });
  });
  test('no rule-scope block (none, or only a document block): {}', () => {
    expect(run({ query: 'data.test.whole = x', modules: [m], want_result: [{ x: {} }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'data.test.nothing = x', modules: [m], want_result: [{ x: {} }] })).toEqual({ kind: 'pass' });
  });
  test('an empty description is accepted and left out', () => {
    expect(run({ query: 'data.test.empty_desc = x', modules: [m], want_result: [{ x: { scope: 'rule', title: 't' } }] })).toEqual({ kind: 'pass' });
  });
  test('schemas as OPA writes them: refs as arrays of their parts, or the definition', () => {
    const m = 'package test\n\n# METADATA\n# schemas:\n# - input: schema["kubernetes"]\n# - input.spec: {"type": "object"}\n# - data.x: schema\np := rego.metadata.rule()\n';
    const want = {
      scope: 'rule',
      schemas: [
        { path: ['input'], schema: ['schema', 'kubernetes'] },
        { path: ['input', 'spec'], definition: { type: 'object' } },
        { path: ['data', 'x'], schema: ['schema'] },
      ],
    };
    expect(run({ query: 'data.test.p = x', modules: [m], want_result: [{ x: want }] })).toEqual({ kind: 'pass' });
    // malformed fields are errors as in OPA's parser, whether or not rego.metadata is called
    for (const field of ['schemas:\n# - input: other["x"]', 'authors:\n# - {"url": "x"}', 'related_resources:\n# - ""', 'organizations: 3']) {
      const bad = `package test\n\n# METADATA\n# ${field}\np := 1\n`;
      expect(run({ query: 'data.test.p = x', modules: [bad], want_error_code: 'rego_parse_error' })).toEqual({ kind: 'pass' });
    }
  });
  test('entrypoint blocks default to document scope; outside a rule it is refused', () => {
    const e = 'package test\n\n# METADATA\n# entrypoint: true\np := rego.metadata.chain()\n';
    expect(run({ query: 'data.test.p = x', modules: [e], want_result: [{ x: [{ path: ['test', 'p'] }, { path: ['test', 'p'], annotations: { scope: 'document', entrypoint: true } }] }] })).toEqual({ kind: 'pass' });
    expect(run({ query: 'x := rego.metadata.rule()', modules: ['package test\n'], want_result: [] }).kind).toBe('refused');
  });
});
