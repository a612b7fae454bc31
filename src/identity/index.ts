/**
 * Identity: verification of user / agent / task / Txn-Token tokens and delegation chains.
 * See docs/identity.md for what the policy sees and the delegation rules.
 */
export { createIdentityResolver } from './resolver';
export type { IdentityResolver } from './resolver';
export { identityConfigSchema, issuerSchema } from './schema';
export { TokenVerifier, TXN_TOKEN_TYP, KIND_TYP } from './verify';
export type { VerifyResult } from './verify';
export { flattenAct, MAX_DELEGATION_DEPTH } from './delegation';
export { IdentityConfigError } from './key-sources';
export * from './types';
