import * as fs from 'fs';
import * as path from 'path';
import { parse } from 'yaml';

/** The OPA conformance cases (test data only; the product never reads /work/shared at run time). */
export const CONFORMANCE_DIR = path.resolve(__dirname, '../../../shared/opa-conformance');

export interface ConformanceCase {
  note: string;
  file: string;
  modules: string[];
  query?: string;
  input_term?: string;
}

export function loadConformanceCases(): ConformanceCase[] {
  const out: ConformanceCase[] = [];
  const walk = (dir: string): void => {
    for (const name of fs.readdirSync(dir).sort()) {
      const p = path.join(dir, name);
      if (fs.statSync(p).isDirectory()) {
        if (name !== '_unconfirmed') walk(p);
      } else if (/\.ya?ml$/.test(name) && name !== 'opa-wasm-exceptions.yaml') {
        const doc = parse(fs.readFileSync(p, 'utf8')) as { cases?: Array<Record<string, unknown>> };
        for (const c of doc.cases ?? []) {
          out.push({
            note: String(c.note),
            file: p,
            modules: (c.modules as string[] | undefined) ?? [],
            query: c.query as string | undefined,
            input_term: c.input_term as string | undefined,
          });
        }
      }
    }
  };
  walk(CONFORMANCE_DIR);
  return out;
}
