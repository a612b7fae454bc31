/** Runs fn with stdout and stderr captured (a CLI command's output), returning its value and the text. */
export async function quietly<T>(fn: () => Promise<T>): Promise<{ value: T; out: string }> {
  const out: string[] = [];
  const o = jest.spyOn(process.stdout, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  const e = jest.spyOn(process.stderr, 'write').mockImplementation((s: string | Uint8Array) => (out.push(String(s)), true));
  try {
    return { value: await fn(), out: out.join('') };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}
