/**
 * The configuration: defaults ← config file (YAML or JSON, `PDP_CONFIG` or --config) ← PDP_*
 * variables ← command-line flags. Validated with ajv at start; a bad config stops the process with
 * every problem listed. The `identity` and `authentication` sections are validated by their owners
 * (src/identity, src/server/caller-auth.ts) when those are constructed.
 */
import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import Ajv from 'ajv';
import YAML from 'yaml';
import configSchema from './schemas/config.schema.json';
import type { PdpConfig } from './types';

export class ConfigError extends Error {
  readonly code = 'config_error';
}

export const DEFAULT_DECISION_ENTRYPOINT = 'mcp/authz/decision';
/**
 * How deep a request's JSON may nest. A decide body is ~5 levels and tool arguments rarely 20; recursive
 * serialisation (policy input, decision log) fails a few thousand levels down, so the limit sits well
 * below that and well above any real request.
 */
export const DEFAULT_MAX_JSON_DEPTH = 64;
/** A request (headers and body) not received in full within this is answered 408 and closed. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

export function defaultConfig(): PdpConfig {
  return {
    server: { addr: '127.0.0.1', port: 8181, body_limit_bytes: 1024 * 1024, max_json_depth: DEFAULT_MAX_JSON_DEPTH, request_timeout_ms: DEFAULT_REQUEST_TIMEOUT_MS },
    decision_entrypoint: DEFAULT_DECISION_ENTRYPOINT,
    bundles: [],
    decision_logs: { output: 'stdout', mask: [], buffer_size_limit_events: 10000 },
    persistence_directory: '.pdp',
  };
}

let validator: ReturnType<Ajv['compile']> | undefined;

function validate(raw: unknown, where: string): void {
  validator ??= new Ajv({ allErrors: true, strict: false }).compile(configSchema);
  if (!validator(raw)) {
    const problems = (validator.errors ?? []).map((e) => {
      const at = e.instancePath || '(top level)';
      const extra = e.keyword === 'additionalProperties' ? ` '${(e.params as { additionalProperty: string }).additionalProperty}'` : '';
      return `  ${at}: ${e.message}${extra}`;
    });
    throw new ConfigError(`invalid configuration in ${where}:\n${problems.join('\n')}`);
  }
}

export function readConfigFile(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
  }
  let raw: unknown;
  try {
    raw = /\.json$/i.test(file) ? JSON.parse(text) : YAML.parse(text);
  } catch (err) {
    throw new ConfigError(`config file ${file} is not valid ${/\.json$/i.test(file) ? 'JSON' : 'YAML'}: ${(err as Error).message}`);
  }
  if (raw === null || raw === undefined) raw = {};
  validate(raw, file);
  // relative paths in a config file are relative to the file
  const dir = path.dirname(path.resolve(file));
  const cfg = raw as Record<string, unknown> & { bundles?: Array<{ source: string }>; persistence_directory?: string };
  for (const b of cfg.bundles ?? []) {
    if (!/^https?:\/\//i.test(b.source) && !path.isAbsolute(b.source)) b.source = path.join(dir, b.source);
  }
  const tls = (cfg.server as { tls?: Record<string, unknown> } | undefined)?.tls;
  for (const k of ['cert_file', 'key_file', 'client_ca_file']) {
    const v = tls?.[k];
    if (typeof v === 'string' && !path.isAbsolute(v)) tls![k] = path.join(dir, v);
  }
  const logs = cfg.decision_logs as { output?: string } | undefined;
  if (logs?.output && !['stdout', 'stderr', 'off'].includes(logs.output) && !path.isAbsolute(logs.output)) logs.output = path.join(dir, logs.output);
  if (cfg.persistence_directory && !path.isAbsolute(cfg.persistence_directory)) cfg.persistence_directory = path.join(dir, cfg.persistence_directory);
  return cfg;
}

export interface ConfigOverrides {
  configFile?: string;
  port?: number;
  addr?: string;
  bundles?: string[];
  decisionEntrypoint?: string;
  /** `--authzen-entrypoint`: what the AuthZEN endpoints evaluate */
  authzenEntrypoint?: string;
  workers?: number;
  /** `--v0-compatible`: every bundle compiled from .rego sources is read as Rego v0 */
  v0Compatible?: boolean;
  /** `--builtins FILE`: plug-in modules of custom built-ins (added to the config file's) */
  builtins?: string[];
}

function intEnv(env: NodeJS.ProcessEnv, name: string, min: number, max: number): number | undefined {
  const v = env[name];
  if (v === undefined || v === '') return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min || Number(v) > max) throw new ConfigError(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(v)}`);
  return Number(v);
}

/** Build the effective config. Throws ConfigError with a message meant for a human. */
export function loadConfig(over: ConfigOverrides = {}, env: NodeJS.ProcessEnv = process.env): PdpConfig {
  const cfg = defaultConfig();
  const file = over.configFile ?? env.PDP_CONFIG;
  if (file) {
    const raw = readConfigFile(file) as Partial<PdpConfig>;
    if (raw.server) cfg.server = { ...cfg.server, ...raw.server };
    if (raw.decision_logs) cfg.decision_logs = { ...cfg.decision_logs, ...raw.decision_logs };
    for (const k of ['decision_entrypoint', 'authzen', 'data_api', 'bundles', 'keys', 'persistence_directory', 'workers', 'identity', 'authentication', 'builtins', 'signing', 'approvals', 'txn_tokens'] as const) {
      if (raw[k] !== undefined) (cfg as unknown as Record<string, unknown>)[k] = raw[k];
    }
  }
  const port = intEnv(env, 'PDP_PORT', 0, 65535);
  if (port !== undefined) cfg.server.port = port;
  if (env.PDP_ADDR) cfg.server.addr = env.PDP_ADDR;
  const workers = intEnv(env, 'PDP_WORKERS', 1, 256);
  if (workers !== undefined) cfg.workers = workers;
  if (env.PDP_DECISION_LOG) cfg.decision_logs.output = env.PDP_DECISION_LOG;
  const limit = intEnv(env, 'PDP_BODY_LIMIT_BYTES', 1024, 1 << 30);
  if (limit !== undefined) cfg.server.body_limit_bytes = limit;

  if (over.port !== undefined) cfg.server.port = over.port;
  if (over.addr !== undefined) cfg.server.addr = over.addr;
  if (over.decisionEntrypoint !== undefined) cfg.decision_entrypoint = over.decisionEntrypoint;
  if (over.authzenEntrypoint !== undefined) cfg.authzen = { ...(cfg.authzen ?? {}), entrypoint: over.authzenEntrypoint };
  if (over.workers !== undefined) cfg.workers = over.workers;
  if (over.bundles && over.bundles.length > 0) cfg.bundles = over.bundles.map((source) => ({ source }));
  if (over.builtins?.length) cfg.builtins = [...(cfg.builtins ?? []), ...over.builtins.map((f) => path.resolve(f))];
  if (over.v0Compatible) cfg.bundles = cfg.bundles.map((b) => ({ ...b, v0_compatible: true }));
  cfg.workers ??= os.cpus().length || 1;
  validate(JSON.parse(JSON.stringify({ ...cfg })), 'the effective configuration');
  // set after validation: it is where the file was, not something a file may say
  if (file) cfg.config_dir = path.dirname(path.resolve(file));
  return cfg;
}
