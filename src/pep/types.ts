/**
 * The decision contract as an enforcement point sees it (DESIGN.md §3). The request type is the
 * server's own (a type-only import: nothing of the server is loaded at run time).
 */

import type { DecideRequest } from '../server/types';

/** One principal (user or agent): a token the PDP verifies, and/or attributes the PEP asserts. */
export type Principal = NonNullable<DecideRequest['user']>;

/**
 * The body of `POST /v1/decide`. Only `tool` is required. The server defines the contract
 * (src/server/types.ts); this is the same type, imported for types only, so the client carries no
 * server code at run time.
 */
export type DecisionInput = DecideRequest;

/** Why a decision came out the way it did. Codes are stable; messages are for humans. */
export interface Reason {
  code: string;
  message: string;
  [k: string]: unknown;
}

/** Why the client had to decide deny on its own (no usable answer from the PDP). */
export type FailureKind =
  /** could not connect, connection dropped, or 502/503/504 from a proxy in front of the PDP */
  | 'unavailable'
  /** no answer within the deadline */
  | 'timeout'
  /** the PDP rejected the request: 400, 401, 413, 415, 422 … (the input or the PEP's credentials) */
  | 'rejected'
  /** the PDP answered 500 or another unexpected status */
  | 'error'
  /** 200 but the body is not a decision */
  | 'invalid_response'
  /** the input could not even be sent (e.g. not serialisable) */
  | 'invalid_input';

/** A decision as the PEP acts on it. `allow` is true only when the PDP said so, in a well-formed answer. */
export interface Decision {
  allow: boolean;
  reasons: Reason[];
  obligations: Record<string, unknown>;
  decision_id?: string;
  policy?: { bundle?: string; revision?: string; entrypoint?: string };
  /** set when the client decided deny itself because the PDP gave no usable answer */
  failure?: { kind: FailureKind; status?: number };
  /** a deny `approval.required`: what the person approves and where (docs/approvals.md) */
  approval_request?: { url: string; action_digest: string; summary: string; expires_at: string };
  /** the PDP-verified approval an allow used */
  approval?: { verified: true; jti: string; approved_by: string };
  /** the Txn-Token for the upstream call, when asked for with `issue_txn_token` (checked to bind this call) */
  txn_token?: string;
}

/** A batch item; `defaults` of the batch call are merged under each item by the PDP. */
export type BatchItem = DecisionInput;

/** AuthZEN Authorization API 1.0 shapes (only what a PEP needs). */
export interface AuthzenEntity {
  type: string;
  id: string;
  properties?: Record<string, unknown>;
}
export interface AuthzenEvaluationRequest {
  subject?: AuthzenEntity;
  action?: { name: string; properties?: Record<string, unknown> };
  resource?: AuthzenEntity;
  context?: Record<string, unknown>;
}
export interface AuthzenEvaluationsRequest extends AuthzenEvaluationRequest {
  evaluations: AuthzenEvaluationRequest[];
  options?: { evaluations_semantic?: 'execute_all' | 'deny_on_first_deny' | 'permit_on_first_permit'; [k: string]: unknown };
}
export interface AuthzenDecision {
  decision: boolean;
  context?: Record<string, unknown>;
}
