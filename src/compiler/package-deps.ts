/**
 * Which modules a package needs: lets `pdp test` and `pdp check` work on the parts of a library that
 * compile when another part does not (one refused construct must not hide every other result).
 *
 * A module needs every module whose package overlaps a `data.…` reference it makes (its own package, its
 * imports, refs in rules, `with` targets): `data.a.b.c` needs packages `a`, `a.b`, `a.b.c` and everything
 * below `a.b.c`; a ref whose path turns dynamic (`data.a[x]`) or a bare `data` needs everything below its
 * ground part. The closure over these edges over-approximates what evaluation can reach, which is the safe
 * side: a module left out could turn a failing test into a passing one (a missing rule is undefined, not
 * an error).
 *
 * @example
 *   const units = modules.map((m) => moduleUnit(m));
 *   const needed = closureOf(units, [0]); // indices of the units module 0 needs, itself included
 */
import type { Module } from './ast';
import { visitNodes } from './ast-walk';

/** One file as the closure sees it. `pkg` undefined: the package is unknown (matches every reference). */
export interface DepUnit {
  pkg: string[] | undefined;
  /** ground prefixes of the `data` refs the file makes */
  refs: string[][];
}

/** The ground prefixes of every `data` reference in a module, its own package first. */
export function dataRefs(module: Module): string[][] {
  const out: string[][] = [module.package.path];
  visitNodes([module.rules, module.imports], (node) => {
    const n = node as { type?: unknown; head?: { type?: unknown; name?: unknown }; path?: unknown };
    if (n.type === 'ref' && n.head?.type === 'var' && n.head.name === 'data' && Array.isArray(n.path)) {
      const prefix: string[] = [];
      for (const p of n.path as Array<{ type: string; value?: unknown }>) {
        if (p.type !== 'string') break;
        prefix.push(p.value as string);
      }
      out.push(prefix);
    }
  });
  const unique = new Map(out.map((r) => [r.join('\u0000'), r]));
  return [...unique.values()];
}

export function moduleUnit(module: Module): DepUnit {
  return { pkg: module.package.path, refs: dataRefs(module) };
}

/**
 * The package a file that does not parse declares, read from its `package` line; undefined when there is
 * none to read (the file then counts as needed by everything).
 */
export function guessPackage(source: string): string[] | undefined {
  const m = /^\s*package\s+([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*(?:#.*)?$/m.exec(source);
  return m ? m[1].split('.') : undefined;
}

function isPrefix(a: string[], b: string[]): boolean {
  if (a.length > b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function overlaps(ref: string[], pkg: string[] | undefined): boolean {
  return pkg === undefined || isPrefix(ref, pkg) || isPrefix(pkg, ref);
}

/** Indices of the units the `start` units need, transitively, in ascending order (`start` included). */
export function closureOf(units: DepUnit[], start: number[]): number[] {
  const included = new Set<number>(start);
  const todo = [...start];
  for (let i = todo.pop(); i !== undefined; i = todo.pop()) {
    for (const ref of units[i].refs) {
      units.forEach((u, j) => {
        if (included.has(j) || !overlaps(ref, u.pkg)) return;
        included.add(j);
        todo.push(j);
      });
    }
  }
  return [...included].sort((a, b) => a - b);
}
