/**
 * Reads who is calling from the HTTP request that carried one MCP message. Identity is read per
 * message, never cached from `initialize`, so every call is decided on its own credentials.
 * Only tokens are taken from the agent's request (the PDP verifies them); ids an agent could
 * simply claim are never forwarded as if the gateway vouched for them.
 */
import { randomUUID } from 'crypto';
import { invalidInput } from './errors';
import type { McpError } from '@modelcontextprotocol/sdk/types.js';

/** Header names (lower case) the gateway reads. */
export interface IdentityHeaderNames {
  /** user token; when it is `authorization` the value must be `Bearer <token>` (default `authorization`) */
  userToken: string;
  /** agent token, raw or `Bearer <token>` (default `x-agent-token`) */
  agentToken: string;
  /** signed task-scope grant (default `x-task-token`) */
  taskToken: string;
  /** joins the PDP's decision log with the caller's (default `x-request-id`; generated when absent) */
  requestId: string;
  /** a person's approval of this call, signed by the PDP's approval page; passed to the PDP, which verifies it (default `x-pdp-approval`) */
  approval: string;
}

export const DEFAULT_HEADERS: IdentityHeaderNames = {
  userToken: 'authorization',
  agentToken: 'x-agent-token',
  taskToken: 'x-task-token',
  requestId: 'x-request-id',
  approval: 'x-pdp-approval',
};

export interface CallerIdentity {
  userToken?: string;
  agentToken?: string;
  taskToken?: string;
  requestId: string;
  /** an approval token; only the PDP can tell whether it approves this call */
  approvalToken?: string;
}

type Headers = Record<string, string | string[] | undefined> | undefined;

const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;
const MAX_TOKEN = 16 * 1024;

/** Throws the -32602 McpError when a credential header is present but unusable. */
export function readIdentity(headers: Headers, names: IdentityHeaderNames): CallerIdentity {
  const get = (name: string): string | undefined => {
    const v = headers?.[name.toLowerCase()];
    if (Array.isArray(v)) {
      if (new Set(v).size > 1) throw invalidInput(`header ${name} given more than once with different values`);
      return v[0];
    }
    return v;
  };
  const id: CallerIdentity = { requestId: '' };
  const user = get(names.userToken);
  if (user !== undefined && user !== '') id.userToken = token(names.userToken, user, names.userToken === 'authorization');
  const agent = get(names.agentToken);
  if (agent !== undefined && agent !== '') id.agentToken = token(names.agentToken, agent, false);
  const task = get(names.taskToken);
  if (task !== undefined && task !== '') id.taskToken = token(names.taskToken, task, false);
  const rid = get(names.requestId);
  if (rid !== undefined && (rid.length > 200 || !/^[\x21-\x7e]+$/.test(rid))) throw invalidInput(`header ${names.requestId} is not a printable id of at most 200 characters`);
  id.requestId = rid || randomUUID();
  const approval = get(names.approval);
  if (approval !== undefined && approval !== '') id.approvalToken = token(names.approval, approval, false);
  return id;
}

function token(header: string, value: string, bearerRequired: boolean): string {
  const m = /^Bearer[ ]+(\S+)[ ]*$/i.exec(value);
  if (bearerRequired && !m) throw invalidInput(`header ${header} must be "Bearer <token>"`);
  const t = m ? m[1] : value.trim();
  if (t.length > MAX_TOKEN || !TOKEN.test(t)) throw invalidInput(`header ${header} does not hold a token`);
  return t;
}

export type { McpError };
