/**
 * Entrypoint names as users type them on the command line: `data.mcp.authz.decision`,
 * `mcp.authz.decision` and `/mcp/authz/decision/` all mean the plan name `mcp/authz/decision`.
 */
export function normalizeEntrypoint(v: string): string {
  return v.replace(/^data[./]/, '').replace(/\./g, '/').replace(/^\/+|\/+$/g, '');
}
