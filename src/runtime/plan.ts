// The policy plan: i32 words linked into memory by src/compiler/emit (keep the two in sync).
//
// Header (word index: meaning)
//   0 magic 'PDP1'   1 total bytes   2,3 constants text (byte offset from the plan start, length)
//   4 function count 5 function table offset   6 plan count 7 plan table offset   8 strict built-in errors
//   9,10 builtins() JSON text   11,12 entrypoints() JSON text   13 constant count
// Function table: 6 words each: params, locals, result slot, memo flag, body start, body end (byte offsets).
// Plan table: 3 words each: locals, body start, body end.
// A nested block is encoded as its length in words followed by its statements.

export const MAGIC: i32 = 0x31504450;

export const OP_CONST = 1;
export const OP_ASSIGN = 2;
export const OP_ASSIGN_ONCE = 3;
export const OP_RESET = 4;
export const OP_DOT = 5;
export const OP_LEN = 6;
export const OP_EQUAL = 7;
export const OP_NOT_EQUAL = 8;
export const OP_IS_DEFINED = 9;
export const OP_IS_UNDEFINED = 10;
export const OP_IS_ARRAY = 11;
export const OP_IS_OBJECT = 12;
export const OP_IS_SET = 13;
export const OP_TRUTHY = 14;
export const OP_MAKE_ARRAY = 15;
export const OP_ARRAY_APPEND = 16;
export const OP_MAKE_OBJECT = 17;
export const OP_OBJECT_INSERT = 18;
export const OP_OBJECT_INSERT_ONCE = 19;
export const OP_MAKE_SET = 20;
export const OP_SET_ADD = 21;
export const OP_OBJECT_MERGE = 22;
export const OP_CALL = 23;
export const OP_CALL_NATIVE = 24;
export const OP_CALL_HOST = 25;
export const OP_SCAN = 26;
export const OP_BLOCK = 27;
export const OP_NOT = 28;
export const OP_BREAK = 29;
export const OP_UPSERT = 30;
export const OP_RESULT_ADD = 31;
