/** strings.render_template's Go text/template subset. */
import { renderTemplate } from '../../src/builtins/go-template';

test('range with index and value variables, if, else if, with, trimming, comments', () => {
  expect(renderTemplate('{{range $i, $name := .hellonames}}{{if $i}},{{end}}hello {{$name}}{{end}}', { hellonames: ['rohan', 'john doe'] })).toBe('hello rohan,hello john doe');
  expect(renderTemplate('{{if .a}}A{{else if .b}}B{{else}}C{{end}}', { b: 1 })).toBe('B');
  expect(renderTemplate('{{if .a}}A{{else if .b}}B{{else}}C{{end}}', {})).toBe('C');
  expect(renderTemplate('{{with .u}}{{.name}}{{end}}', { u: { name: 'n' } })).toBe('n');
  expect(renderTemplate('a {{- .x -}} b{{/* note */}}', { x: 'X' })).toBe('aXb');
  expect(renderTemplate('{{range .m}}{{.}};{{else}}none{{end}}|{{range .e}}x{{else}}none{{end}}', { m: { b: 2, a: 1 }, e: [] })).toBe('1;2;|none');
});
test('values print as Go %v; a missing variable is <undefined>', () => {
  expect(renderTemplate('{{.a}} {{.b}} {{.c}} {{.d}} {{.missing}}', { a: [1, 'x'], b: { k: true }, c: null, d: 2023 })).toBe('[1 x] map[k:true] <nil> 2023 <undefined>');
});
test('functions, pipes and unbalanced blocks are errors, never guessed', () => {
  expect(() => renderTemplate('{{len .x}}', { x: [] })).toThrow(/unsupported template action/);
  expect(() => renderTemplate('{{.x | printf "%s"}}', { x: 'a' })).toThrow(/unsupported template action/);
  expect(() => renderTemplate('{{if .x}}a', { x: 1 })).toThrow(/unexpected EOF/);
  expect(() => renderTemplate('{{end}}', {})).toThrow(/unexpected/);
});
