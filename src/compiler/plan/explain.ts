/**
 * Explain notes: what an instrumented policy reports to the host while it evaluates.
 *
 * With `compile({ …, explain: true })` the planner adds, to every rule body right where the body has
 * held and its head value is about to be recorded (and to every `else` branch and `default` taken),
 *
 *   block { m := json.marshal(value); call internal.pdp_explain_note(site, m) }
 *
 * `site` is a constant: the JSON text of a NoteSite (rule path, which branch, file:line:col). `value`
 * is what that body produced: the element a partial set adds, the value a partial object or a
 * complete rule takes. The host built-in (src/builtins/explain.ts) appends `[site, m]` to the
 * evaluation's note sink and answers `true`; the note's result is never read, and the statement sits
 * in its own block, so a note cannot change what the policy answers. json.marshal first turns the value
 * into a string, so numbers the host could not take exactly (integers beyond 64 bits) still travel.
 *
 * Functions are not noted (they are called per argument tuple, not part of the decision's documents),
 * nor are rules specialised for `with` replacements (hypothetical evaluations).
 */
import type { Local, Stmt } from '../ir';

/** The host built-in an instrumented module calls; registered in src/builtins (catalog `internal`). */
export const EXPLAIN_NOTE = 'internal.pdp_explain_note';

/** Which part of a rule held: one of its bodies, an `else` branch, or the `default` value. */
export type NoteKind = 'body' | 'else' | 'default';

export interface NoteSite {
  /** the rule's path: `data.mcp.authz.allow` */
  rule: string;
  kind: NoteKind;
  /** `file:line:col` of the rule (of the `else` keyword for an else branch) */
  location: string;
}

/** The constant a note carries (JSON: rule paths may hold any string). */
export function noteTag(site: NoteSite): string {
  return JSON.stringify(site);
}

/** The statements of one note, for `value` (a local holding the body's value). */
export function noteStmts(site: Local, value: Local, marshalled: Local, ignored: Local): Stmt {
  return {
    op: 'block',
    body: [
      { op: 'call_builtin', dst: marshalled, name: 'json.marshal', args: [value] },
      { op: 'call_builtin', dst: ignored, name: EXPLAIN_NOTE, args: [site, marshalled] },
    ],
  };
}
