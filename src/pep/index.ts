/** Enforcement points: the PDP client, the Express middleware and the MCP gateway. */
export { PdpClient, toDecision, txnTokenBindsCall } from './client';
export { actionDigest, actionOf } from '../identity/action-digest';
export type { Action } from '../identity/action-digest';
export { verifyTxnToken, txnTokenKeys } from './txn-token-verify';
export type { TxnTokenResult, TxnTokenVerifyOptions } from './txn-token-verify';
export type { PdpClientOptions, CallOptions } from './client';
export { pdpMiddleware, bearerToken } from './express';
export type { PdpMiddlewareOptions, PdpGrant } from './express';
export { startGateway } from './gateway/gateway';
export type { GatewayOptions, GatewayRoute, RunningGateway } from './gateway/gateway';
export type { UpstreamRoute } from './gateway/upstream';
export type { GatewayAuthOptions, AuthorizationServer } from './gateway/oauth';
export { DEFAULT_HEADERS } from './gateway/identity';
export type { IdentityHeaderNames } from './gateway/identity';
export { DENIED, INVALID_PARAMS, INTERNAL_ERROR } from './gateway/errors';
export * from './types';
