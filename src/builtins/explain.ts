/**
 * internal.pdp_explain_note(site, value_json): the side channel of an instrumented policy
 * (src/compiler/plan/explain.ts). Appends `[site, value_json]` to the evaluation's note sink when
 * the engine opened one (WasmPolicy.evaluateJsonWithNotes), and answers true. Never fails: a note must
 * never change what a policy answers.
 */
import type { Impls } from './types';

export const explainImpls: Impls = {
  'internal.pdp_explain_note': (args, ctx) => {
    if (ctx.notes && typeof args[0] === 'string' && typeof args[1] === 'string') ctx.notes.push([args[0], args[1]]);
    return true;
  },
};
