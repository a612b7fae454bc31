/**
 * Reads what the SDK cannot tell us about a wasm module before instantiating it: the minimum size of
 * its imported memory. `WebAssembly.Module.imports()` names imports but not their limits, and the
 * SDK creates a 5-page memory unless told otherwise, so a policy with more static data fails to link.
 */

function readUleb(buf: Uint8Array, pos: number): [number, number] {
  let result = 0;
  let shift = 0;
  for (;;) {
    if (pos >= buf.length) throw new Error('truncated LEB128');
    const b = buf[pos++];
    result += (b & 0x7f) * 2 ** shift;
    if ((b & 0x80) === 0) return [result, pos];
    shift += 7;
    if (shift > 35) throw new Error('LEB128 too long');
  }
}

/** The minimum page count of the `env.memory` import, or undefined when the module imports none. */
export function importedMemoryMinimum(wasm: Uint8Array): number | undefined {
  if (wasm.length < 8 || wasm[0] !== 0 || wasm[1] !== 0x61 || wasm[2] !== 0x73 || wasm[3] !== 0x6d) {
    throw new Error('not a WebAssembly module (bad magic number)');
  }
  let pos = 8;
  while (pos < wasm.length) {
    const id = wasm[pos++];
    let size: number;
    [size, pos] = readUleb(wasm, pos);
    const end = pos + size;
    if (id === 2) {
      let count: number;
      [count, pos] = readUleb(wasm, pos);
      for (let i = 0; i < count; i++) {
        let len: number;
        [len, pos] = readUleb(wasm, pos);
        pos += len; // module name
        [len, pos] = readUleb(wasm, pos);
        const field = Buffer.from(wasm.subarray(pos, pos + len)).toString('utf8');
        pos += len;
        const kind = wasm[pos++];
        if (kind === 0) {
          [, pos] = readUleb(wasm, pos); // type index
        } else if (kind === 1) {
          pos++; // reftype
          const flags = wasm[pos++];
          [, pos] = readUleb(wasm, pos);
          if (flags & 1) [, pos] = readUleb(wasm, pos);
        } else if (kind === 2) {
          const flags = wasm[pos++];
          let min: number;
          [min, pos] = readUleb(wasm, pos);
          if (flags & 1) [, pos] = readUleb(wasm, pos);
          if (field === 'memory') return min;
        } else if (kind === 3) {
          pos += 2; // valtype, mutability
        } else {
          throw new Error(`unknown import kind ${kind}`);
        }
      }
      return undefined;
    }
    pos = end;
  }
  return undefined;
}
