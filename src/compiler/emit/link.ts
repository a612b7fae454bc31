/**
 * A small WebAssembly binary rewriter: links a plan into a copy of the prebuilt runtime
 * (build/runtime.wasm) by appending an active data segment after the runtime's static data, pointing
 * the exported global `__pdp_plan` at it, and raising the `env.memory` import minimum to cover it.
 * Sections we do not touch are copied byte for byte, so linking costs a few copies of ~40 KB.
 */

const SEC_IMPORT = 2;
const SEC_GLOBAL = 6;
const SEC_EXPORT = 7;
const SEC_DATA = 11;
const SEC_DATACOUNT = 12;
const PAGE = 65536;
const PLAN_GLOBAL = '__pdp_plan';

interface Section { id: number; headerStart: number; start: number; end: number }

class Reader {
  constructor(readonly b: Uint8Array, public pos: number) {}
  byte(): number {
    if (this.pos >= this.b.length) throw new Error('runtime.wasm: unexpected end');
    return this.b[this.pos++];
  }
  u32(): number {
    let result = 0, shift = 0, byte: number;
    do { byte = this.byte(); result += (byte & 0x7f) * 2 ** shift; shift += 7; } while (byte & 0x80);
    return result;
  }
  i32(): number {
    let result = 0, shift = 0, byte: number;
    do { byte = this.byte(); result |= (byte & 0x7f) << shift; shift += 7; } while (byte & 0x80);
    if (shift < 32 && (byte & 0x40)) result |= -1 << shift;
    return result;
  }
  skip(n: number): void { this.pos += n; }
  name(): string {
    const n = this.u32();
    const s = new TextDecoder().decode(this.b.subarray(this.pos, this.pos + n));
    this.pos += n;
    return s;
  }
  /** Skips a constant expression up to and including `end`; returns its value if it is i32.const. */
  constExpr(): number | undefined {
    let value: number | undefined;
    for (;;) {
      const op = this.byte();
      if (op === 0x0b) return value;
      if (op === 0x41) value = this.i32();
      else if (op === 0x42) { while (this.byte() & 0x80); value = undefined; }
      else if (op === 0x43) { this.skip(4); value = undefined; }
      else if (op === 0x44) { this.skip(8); value = undefined; }
      else if (op === 0x23) { this.u32(); value = undefined; }
      else throw new Error(`runtime.wasm: unsupported constant expression opcode 0x${op.toString(16)}`);
    }
  }
}

function u32leb(v: number): number[] {
  const out: number[] = [];
  do {
    let b = v & 0x7f;
    v = Math.floor(v / 128);
    if (v !== 0) b |= 0x80;
    out.push(b);
  } while (v !== 0);
  return out;
}

function i32leb(v: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = v & 0x7f;
    v >>= 7;
    if ((v === 0 && !(b & 0x40)) || (v === -1 && (b & 0x40))) { out.push(b); return out; }
    out.push(b | 0x80);
  }
}

/** What linking needs to know about the runtime, computed once per runtime binary. */
export interface RuntimeLayout {
  bytes: Uint8Array;
  sections: Section[];
  /** first free byte after all active data segments */
  dataEnd: number;
  dataCount: number;
  /** index into the global section (imports excluded) of __pdp_plan */
  planGlobal: number;
  /** byte range of the env.memory limits inside the import section */
  memLimits: { start: number; end: number; min: number };
}

export function analyzeRuntime(bytes: Uint8Array): RuntimeLayout {
  if (bytes.length < 8 || bytes[0] !== 0 || bytes[1] !== 0x61 || bytes[2] !== 0x73 || bytes[3] !== 0x6d) {
    throw new Error('runtime.wasm is not a WebAssembly module');
  }
  const sections: Section[] = [];
  const r = new Reader(bytes, 8);
  while (r.pos < bytes.length) {
    const headerStart = r.pos;
    const id = r.byte();
    const size = r.u32();
    sections.push({ id, headerStart, start: r.pos, end: r.pos + size });
    r.pos += size;
  }
  const sec = (id: number) => sections.find((s) => s.id === id);

  let importedGlobals = 0;
  let memLimits: RuntimeLayout['memLimits'] | undefined;
  const imp = sec(SEC_IMPORT);
  if (imp) {
    const ir = new Reader(bytes, imp.start);
    for (let n = ir.u32(); n > 0; n--) {
      const mod = ir.name();
      const field = ir.name();
      const kind = ir.byte();
      if (kind === 0) ir.u32();
      else if (kind === 1) { ir.byte(); const f = ir.byte(); ir.u32(); if (f & 1) ir.u32(); }
      else if (kind === 2) {
        const start = ir.pos;
        const flags = ir.byte();
        if (flags !== 0) throw new Error('runtime.wasm: the memory import must have no maximum (OPA SDK requirement)');
        const min = ir.u32();
        if (mod === 'env' && field === 'memory') memLimits = { start, end: ir.pos, min };
      } else if (kind === 3) { ir.byte(); ir.byte(); importedGlobals++; }
      else throw new Error(`runtime.wasm: unknown import kind ${kind}`);
    }
  }
  if (!memLimits) throw new Error('runtime.wasm does not import env.memory');

  let planGlobal = -1;
  const exp = sec(SEC_EXPORT);
  if (exp) {
    const er = new Reader(bytes, exp.start);
    for (let n = er.u32(); n > 0; n--) {
      const name = er.name();
      const kind = er.byte();
      const index = er.u32();
      if (kind === 3 && name === PLAN_GLOBAL) planGlobal = index - importedGlobals;
    }
  }
  if (planGlobal < 0) throw new Error(`runtime.wasm does not export the global ${PLAN_GLOBAL}`);

  let dataEnd = 0, dataCount = 0;
  const data = sec(SEC_DATA);
  if (data) {
    const dr = new Reader(bytes, data.start);
    for (let n = dataCount = dr.u32(); n > 0; n--) {
      const flags = dr.u32();
      let offset: number | undefined;
      if (flags === 0) offset = dr.constExpr();
      else if (flags === 2) { dr.u32(); offset = dr.constExpr(); }
      const len = dr.u32();
      dr.skip(len);
      if (flags !== 1) {
        if (offset === undefined) throw new Error('runtime.wasm: data segment with a non-constant offset');
        dataEnd = Math.max(dataEnd, offset + len);
      }
    }
  }
  return { bytes, sections, dataEnd, dataCount, planGlobal, memLimits };
}

function section(id: number, content: number[] | Uint8Array): Uint8Array {
  const size = u32leb(content.length);
  const out = new Uint8Array(1 + size.length + content.length);
  out[0] = id;
  out.set(size, 1);
  out.set(content, 1 + size.length);
  return out;
}

/** The runtime with `plan` linked in: returns the new module bytes. */
export function linkPlan(rt: RuntimeLayout, plan: Uint8Array): Uint8Array {
  const { bytes } = rt;
  const planAddr = Math.ceil(rt.dataEnd / 16) * 16;
  const planEnd = planAddr + plan.length;
  const minPages = Math.max(rt.memLimits.min, Math.ceil(planEnd / PAGE));

  const parts: Uint8Array[] = [bytes.subarray(0, 8)];
  let sawData = false;
  for (const s of rt.sections) {
    const content = bytes.subarray(s.start, s.end);
    if (s.id === SEC_IMPORT) {
      const before = bytes.subarray(s.start, rt.memLimits.start);
      const after = bytes.subarray(rt.memLimits.end, s.end);
      const limits = [0x00, ...u32leb(minPages)];
      const c = new Uint8Array(before.length + limits.length + after.length);
      c.set(before, 0);
      c.set(limits, before.length);
      c.set(after, before.length + limits.length);
      parts.push(section(s.id, c));
    } else if (s.id === SEC_GLOBAL) {
      parts.push(section(s.id, rewriteGlobal(bytes, s, rt.planGlobal, planAddr)));
    } else if (s.id === SEC_DATACOUNT) {
      parts.push(section(s.id, u32leb(rt.dataCount + 1)));
    } else if (s.id === SEC_DATA) {
      sawData = true;
      const r = new Reader(bytes, s.start);
      r.u32();
      const segs = bytes.subarray(r.pos, s.end);
      const head = u32leb(rt.dataCount + 1);
      const seg = [0x00, 0x41, ...i32leb(planAddr), 0x0b, ...u32leb(plan.length)];
      const c = new Uint8Array(head.length + segs.length + seg.length + plan.length);
      c.set(head, 0);
      c.set(segs, head.length);
      c.set(seg, head.length + segs.length);
      c.set(plan, head.length + segs.length + seg.length);
      parts.push(section(s.id, c));
    } else {
      parts.push(bytes.subarray(s.headerStart, s.end));
    }
  }
  if (!sawData) throw new Error('runtime.wasm has no data section');
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let at = 0;
  for (const p of parts) { out.set(p, at); at += p.length; }
  return out;
}

function rewriteGlobal(bytes: Uint8Array, s: Section, target: number, value: number): Uint8Array {
  const r = new Reader(bytes, s.start);
  const n = r.u32();
  const out: number[] = [...u32leb(n)];
  for (let i = 0; i < n; i++) {
    const start = r.pos;
    const valtype = r.byte();
    const mut = r.byte();
    r.constExpr();
    if (i === target) {
      if (valtype !== 0x7f || mut !== 1) throw new Error(`runtime.wasm: ${PLAN_GLOBAL} must be a mutable i32`);
      out.push(valtype, mut, 0x41, ...i32leb(value), 0x0b);
    } else {
      for (let j = start; j < r.pos; j++) out.push(bytes[j]);
    }
  }
  return Uint8Array.from(out);
}
