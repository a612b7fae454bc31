/**
 * JSON Schema (ajv) for the `identity` config section and for one trusted issuer (shared with JWT caller
 * authentication). HMAC and `none` are absent from the algorithm enum on purpose: see types.ts.
 */
import Ajv from 'ajv';
import { ASYMMETRIC_ALGORITHMS } from './types';
import { IdentityConfigError } from './key-sources';

const kindRuleSchema = {
  type: 'object',
  additionalProperties: false,
  minProperties: 1,
  properties: {
    typ: { oneOf: [{ type: 'string', minLength: 1 }, { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } }] },
    claim: {
      type: 'object',
      additionalProperties: false,
      required: ['name', 'value'],
      properties: { name: { type: 'string', minLength: 1 }, value: { type: ['string', 'number', 'boolean'] } },
    },
    audience: { type: 'string', minLength: 1 },
  },
} as const;

export const issuerSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['issuer', 'audiences', 'algorithms'],
  properties: {
    issuer: { type: 'string', minLength: 1 },
    audiences: { type: 'array', minItems: 1, items: { type: 'string', minLength: 1 } },
    algorithms: { type: 'array', minItems: 1, uniqueItems: true, items: { enum: [...ASYMMETRIC_ALGORITHMS] } },
    use_for: {
      type: 'array',
      minItems: 1,
      uniqueItems: true,
      items: { enum: ['user', 'agent', 'task', 'txn', 'caller'] },
    },
    jwks_file: { type: 'string', minLength: 1 },
    jwks_uri: { type: 'string', minLength: 1 },
    public_key_pem: { type: 'string', minLength: 1 },
    jwks_cooldown_seconds: { type: 'number', minimum: 0 },
    jwks_cache_max_age_seconds: { type: 'number', minimum: 0 },
    jwks_timeout_ms: { type: 'integer', minimum: 1 },
    kinds: {
      type: 'object',
      additionalProperties: false,
      properties: { user: kindRuleSchema, agent: kindRuleSchema, task: kindRuleSchema, txn: kindRuleSchema, caller: kindRuleSchema },
    },
  },
  oneOf: [{ required: ['jwks_file'] }, { required: ['jwks_uri'] }, { required: ['public_key_pem'] }],
} as const;

/** Schema of the `identity:` section. Usable as a sub-schema of the service's whole-config schema. */
export const identityConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    issuers: { type: 'array', items: issuerSchema },
    clock_skew_seconds: { type: 'number', minimum: 0, maximum: 600 },
    require_exp: { type: 'boolean' },
    require_low_s: { type: 'boolean' },
  },
} as const;

let ajv: Ajv | undefined;
function getAjv(): Ajv {
  if (!ajv) ajv = new Ajv({ allErrors: true, strict: false });
  return ajv;
}

/** Validate a config section against a schema; throw IdentityConfigError listing every problem. */
export function assertValid(schema: object, value: unknown, where: string): void {
  const validate = getAjv().compile(schema);
  if (!validate(value)) {
    const problems = (validate.errors ?? [])
      .map((e) => `${where}${e.instancePath || ''}: ${e.message}${e.params && 'allowedValues' in e.params ? ` (${(e.params as { allowedValues: unknown[] }).allowedValues.join(', ')})` : ''}`)
      .join('; ');
    throw new IdentityConfigError(`invalid ${where} config: ${problems}`);
  }
}
