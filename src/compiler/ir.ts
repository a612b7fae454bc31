/**
 * The planner's output and the emitter's input: a small structured IR that the wasm runtime
 * (src/runtime/, AssemblyScript) interprets. It has no backtracking: Rego's search is lowered to
 * nested blocks and loops, and "this expression is undefined" means "leave the current block".
 *
 * Execution model
 * - A function or plan owns a frame of `locals` slots, each holding a value or *undefined*.
 *   Slot 0 is `input`, slot 1 is `data` (undefined when not set). Function arguments are copied into
 *   slots 0..params-1 (so every function receives input and data first; `with` passes modified ones).
 * - A Block is a list of statements run in order. A statement that *fails* (a test is false, a lookup
 *   or call is undefined) leaves the current block; the statement that owns the block then carries on
 *   as described below. Nothing else is rolled back: locals keep what was assigned.
 * - `block`: runs its body, then the next statement runs whatever happened inside (unless a `break`
 *   left more levels).
 * - `scan`: runs its body once per element; a failure inside ends that iteration only.
 * - `not`: fails if its body ran to its end; carries on otherwise.
 * - `break n`: leaves the current block and n enclosing blocks (bodies of block/scan/not/with count as
 *   levels; leaving a scan's body through a break also stops the scan).
 * - A function's result is the value of its `result` slot when its body has finished (undefined if the
 *   slot is undefined). Plans add result-set entries with `result_add`.
 * - Errors (conflicts, strict built-in errors) stop the whole evaluation through `opa_abort` with a
 *   message that starts with OPA's error class, e.g. "eval_conflict_error: complete rules must not
 *   produce multiple outputs".
 */

/** A slot index in the current frame. */
export type Local = number;
/** An index into Program.constants. */
export type ConstId = number;

export const INPUT: Local = 0;
export const DATA: Local = 1;

/** Constants are immutable and shared: the runtime never mutates them. */
export type Const =
  | { t: 'null' }
  | { t: 'bool'; v: boolean }
  /** the number's text as written in the policy ("1", "2.5", "1e400"): keep precision decisions in the runtime */
  | { t: 'num'; v: string }
  | { t: 'str'; v: string }
  | { t: 'arr'; v: Const[] }
  | { t: 'obj'; v: Array<[Const, Const]> }
  | { t: 'set'; v: Const[] };

export type Stmt =
  /** dst := constants[c] */
  | { op: 'const'; dst: Local; c: ConstId }
  /** dst := src; fails if src is undefined */
  | { op: 'assign'; dst: Local; src: Local }
  /**
   * Output of a complete rule or function: if dst is undefined, dst := src; if it holds an equal value,
   * nothing; otherwise abort with eval_conflict_error ("complete rules must not produce multiple outputs"
   * for kind 'rule', "functions must not produce multiple outputs for same inputs" for kind 'function').
   */
  | { op: 'assign_once'; dst: Local; src: Local; kind: 'rule' | 'function' }
  /** dst := undefined */
  | { op: 'reset'; dst: Local }
  /**
   * dst := src[key]. Object: value at key. Array: element at integer index (1.0 counts as 1).
   * Set: the element itself if key is a member. Fails on anything else or when absent.
   */
  | { op: 'dot'; dst: Local; src: Local; key: Local }
  /** dst := number of elements of an array / object / set; fails for other values */
  | { op: 'len'; dst: Local; src: Local }
  /** Rego equality (1 == 1.0; objects and sets by content); fails if either side is undefined */
  | { op: 'equal'; a: Local; b: Local }
  | { op: 'not_equal'; a: Local; b: Local }
  | { op: 'is_defined'; a: Local }
  | { op: 'is_undefined'; a: Local }
  | { op: 'is_array'; a: Local }
  | { op: 'is_object'; a: Local }
  | { op: 'is_set'; a: Local }
  /** an expression used as a statement: fails if a is undefined or `false` */
  | { op: 'truthy'; a: Local }
  | { op: 'make_array'; dst: Local; cap: number }
  | { op: 'array_append'; arr: Local; val: Local }
  | { op: 'make_object'; dst: Local }
  /** obj[key] := val, replacing any previous value */
  | { op: 'object_insert'; obj: Local; key: Local; val: Local }
  /** obj[key] := val; abort with eval_conflict_error "object keys must be unique" if key holds a different value */
  | { op: 'object_insert_once'; obj: Local; key: Local; val: Local }
  | { op: 'make_set'; dst: Local }
  | { op: 'set_add'; set: Local; val: Local }
  /**
   * dst := a deep merge of objects a and b (keys of both; where both hold objects, merged recursively;
   * otherwise, if the values differ, abort with eval_conflict_error "object keys must be unique").
   * Used to assemble a virtual document from base data and rules.
   */
  | { op: 'object_merge'; dst: Local; a: Local; b: Local }
  /** dst := funcs[func](args…); args[0] is input, args[1] is data; fails if the result is undefined */
  | { op: 'call'; dst: Local; func: number; args: Local[] }
  /**
   * dst := builtin(args…). The emitter decides whether it runs natively in the runtime or on the host
   * (opa_builtinN). Fails if undefined; built-in errors make it undefined, or abort in strict mode.
   */
  | { op: 'call_builtin'; dst: Local; name: string; args: Local[] }
  /** for each element of src: key := index/key/element, value := element/value/element; run body */
  | { op: 'scan'; src: Local; key: Local; value: Local; body: Block }
  | { op: 'block'; body: Block }
  | { op: 'not'; body: Block }
  | { op: 'break'; levels: number }
  /**
   * dst := a copy of src (an empty object if src is undefined) with the value at `path` (keys, each a
   * local) replaced by val; missing or non-object intermediates become objects. src is not modified.
   * Used for `with input.x as v` / `with data.y as v`.
   */
  | { op: 'upsert'; dst: Local; src: Local; path: Local[]; val: Local }
  /** plans only: add val (a binding object such as {"result": v}) to the result set */
  | { op: 'result_add'; val: Local };

export type Block = Stmt[];

export interface Func {
  /** for diagnostics: e.g. "g0.data.mcp.authz.allow" */
  name: string;
  /** number of parameters including input and data (so ≥ 2) */
  params: number;
  /** frame size (≥ params) */
  locals: number;
  /** the slot read as the function's result after the body */
  result: Local;
  body: Block;
  /**
   * Cache the result for the rest of the evaluation. Only for functions whose only parameters are
   * input and data; the runtime uses the cache only while they are the evaluation's own input and data
   * (so calls under `with` are computed afresh).
   */
  memo: boolean;
}

export interface Plan {
  /** the entrypoint name, slash separated without `data`: "mcp/authz/decision" */
  name: string;
  locals: number;
  body: Block;
}

export interface Program {
  constants: Const[];
  funcs: Func[];
  /** entrypoints, in id order (id = index) */
  plans: Plan[];
  /** built-in errors abort evaluation (OPA's strict-builtin-errors) instead of making the call undefined */
  strictBuiltinErrors: boolean;
}
