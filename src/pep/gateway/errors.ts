/**
 * JSON-RPC errors the gateway answers with. The codes are part of the gateway's contract:
 * -32001 denied by policy (or by an obligation the gateway cannot meet), -32602 the decision input
 * could not be built from the request, -32603 no usable decision (PDP unreachable, timeout, error).
 */
import { McpError } from '@modelcontextprotocol/sdk/types.js';
import type { Decision, Reason } from '../types';

export const DENIED = -32001;
export const INVALID_PARAMS = -32602;
export const INTERNAL_ERROR = -32603;

/**
 * An McpError whose message is exactly `message`. McpError's constructor prefixes "MCP error <code>: ",
 * the SDK server sends `error.message` as is, and the agent's SDK client prefixes it again: without
 * this, agents read "MCP error -32001: MCP error -32001: denied: …".
 */
export function gatewayError(code: number, message: string, data?: unknown): McpError {
  const e = new McpError(code, message, data);
  e.message = message;
  return e;
}

/** The `data` of every gateway error: machine-readable reasons and, when there was one, the decision id. */
export interface DenyData {
  reasons: Reason[];
  decision_id?: string;
  /** for `approval.required`: the link where the person approves, the action digest, the summary */
  approval_request?: Decision['approval_request'];
}

export function denied(reasons: Reason[], decisionId?: string, approvalRequest?: Decision['approval_request']): McpError {
  const data: DenyData = decisionId ? { reasons, decision_id: decisionId } : { reasons };
  if (approvalRequest) data.approval_request = approvalRequest;
  const approveAt = approvalRequest ? ` — approve at ${approvalRequest.url}` : '';
  return gatewayError(DENIED, `denied: ${summarize(reasons)}${approveAt}`, data);
}

export function invalidInput(message: string): McpError {
  return gatewayError(INVALID_PARAMS, message, { reasons: [{ code: 'gateway.invalid_input', message }] } satisfies DenyData);
}

/** A deny decision → the JSON-RPC error for it: the policy said no, or there was no usable answer. */
export function errorForDeny(decision: Decision): McpError {
  const f = decision.failure;
  if (!f) return denied(decision.reasons, decision.decision_id, decision.approval_request);
  const data: DenyData = { reasons: decision.reasons };
  if (decision.decision_id) data.decision_id = decision.decision_id;
  // The PDP refusing the input itself (schema, size) means the request could not be turned into a
  // valid decision input; anything else means we have no decision at all.
  const badInput = f.kind === 'invalid_input' || (f.kind === 'rejected' && (f.status === 400 || f.status === 413 || f.status === 422));
  if (badInput) return gatewayError(INVALID_PARAMS, `decision input rejected: ${summarize(decision.reasons)}`, data);
  return gatewayError(INTERNAL_ERROR, `no decision (failing closed): ${summarize(decision.reasons)}`, data);
}

function summarize(reasons: Reason[]): string {
  if (reasons.length === 0) return 'no reason given';
  return reasons.map((r) => (r.message ? `${r.code}: ${r.message}` : r.code)).join('; ');
}
