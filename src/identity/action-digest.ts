/**
 * The action digest: one short string that names exactly one tool invocation — which server, which tool,
 * which method, with which parameters, for which person, by which agent, in which task. An approval and a
 * transaction token carry it, so "approved 40 EUR" can never be shown for a call of 400 EUR.
 *
 *   digest = base64url( SHA-256( JCS( {v, server, tool, method, parameters, user, actor, task} ) ) )
 *
 * Absent members are `null` (an absent server is not the same action as server ""), `parameters` defaults
 * to `{}` and `method` to "tools/call". The same function runs in the PDP (on the verified identities),
 * in the gateway and client, and in a tool server (src/pep/txn-token-verify.ts); docs/approvals.md has
 * test vectors. Only node's crypto is used, so the enforcement points can import it without server code.
 */
import { createHash } from 'crypto';
import { canonicalJson } from './jcs';

/** Version of the digest's input shape; bump it if a member is ever added. */
export const ACTION_DIGEST_VERSION = 1;

export interface Action {
  server: string | null;
  tool: string | null;
  method: string;
  parameters: unknown;
  /** the originating person (the verified user id) */
  user: string | null;
  /** the current actor: the agent making the call (outermost `act`) */
  actor: string | null;
  task: string | null;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => v !== null && typeof v === 'object' && !Array.isArray(v);
const strOrNull = (v: unknown): string | null => (typeof v === 'string' ? v : null);

/**
 * The action of a decision input: `tool.{server,name,method}`, `parameters`, `user.id`, `agent.id`, `task.id`.
 * On the PDP side this is the input after identity resolution, so the ids are the verified ones.
 */
export function actionOf(input: unknown): Action {
  const i = isObj(input) ? input : {};
  const tool = isObj(i.tool) ? i.tool : {};
  const id = (k: string) => (isObj(i[k]) ? strOrNull((i[k] as Obj).id) : null);
  return {
    server: strOrNull(tool.server),
    tool: strOrNull(tool.name),
    method: typeof tool.method === 'string' ? tool.method : 'tools/call',
    parameters: i.parameters === undefined ? {} : i.parameters,
    user: id('user'),
    actor: id('agent'),
    task: id('task'),
  };
}

/** base64url(SHA-256(JCS(action))). Throws CanonicalJsonError when the parameters are not plain JSON. */
export function actionDigest(action: Action): string {
  const canonical = canonicalJson({
    v: ACTION_DIGEST_VERSION,
    server: action.server ?? null,
    tool: action.tool ?? null,
    method: action.method ?? 'tools/call',
    parameters: action.parameters === undefined ? {} : action.parameters,
    user: action.user ?? null,
    actor: action.actor ?? null,
    task: action.task ?? null,
  });
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}
