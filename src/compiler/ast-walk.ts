/**
 * Visits every AST node (object) below `root` once, depth first, skipping locations. `fn` returns false
 * to leave a node's children unvisited. For passes that look for one kind of node anywhere (number
 * literals, `data` references) without caring about the grammar around it.
 */
export function visitNodes(root: unknown, fn: (node: Record<string, unknown>) => boolean | void): void {
  const seen = new Set<unknown>();
  const visit = (node: unknown): void => {
    if (node === null || typeof node !== 'object' || seen.has(node)) return;
    seen.add(node);
    if (Array.isArray(node)) {
      node.forEach(visit);
      return;
    }
    if (fn(node as Record<string, unknown>) === false) return;
    for (const [k, v] of Object.entries(node)) if (k !== 'loc') visit(v);
  };
  visit(root);
}
