/**
 * `pdp serve --bundle <file.tar.gz|dir|http(s) url> [--bundle …] [--port N] [--addr A]
 *            [--decision-entrypoint EP] [--authzen-entrypoint EP] [--config file] [--workers N]
 *            [--v0-compatible]`
 * Serve any bundle: an OPA bundle file, an unpacked bundle directory, a directory of .rego + data files
 * (compiled in-process), or an HTTP URL (polled with ETag).
 */
import { normalizeEntrypoint } from '../entrypoint';
import { loadConfig, ConfigError, type ConfigOverrides } from '../../server/config';
import { runServer } from '../../server/run';
import { BuiltinPluginError, loadBuiltinPlugins } from '../../builtins/plugins';

export const summary = 'serve bundles (file, directory of .rego, or http url) over HTTP';

const USAGE = `usage: pdp serve --bundle <file.tar.gz|dir|url> [--bundle ...] [--port N] [--addr A]
                 [--decision-entrypoint EP] [--authzen-entrypoint EP] [--config file] [--workers N]
                 [--v0-compatible] [--builtins FILE]

  --v0-compatible  compile .rego directories as Rego v0 unless their .manifest says otherwise
  --builtins FILE  load built-ins of your own from a plug-in module (also: config \`builtins\`)
`;

export function parseServeArgs(args: string[]): ConfigOverrides | string {
  const over: ConfigOverrides = { bundles: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    const eq = a.indexOf('=');
    const flag = a.startsWith('--') && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith('--') && eq > 0 ? a.slice(eq + 1) : undefined;
    const val = (): string | undefined => inline ?? args[++i];
    switch (flag) {
      case '--bundle':
      case '-b': {
        const v = val();
        if (!v) return 'missing value for --bundle';
        over.bundles!.push(v);
        break;
      }
      case '--port':
      case '-p': {
        const v = val();
        if (!v || !/^\d+$/.test(v) || Number(v) > 65535) return `--port needs an integer in [0, 65535], got ${JSON.stringify(v)}`;
        over.port = Number(v);
        break;
      }
      case '--addr': {
        const v = val();
        if (!v) return 'missing value for --addr';
        over.addr = v;
        break;
      }
      case '--decision-entrypoint':
      case '-e': {
        const v = val();
        if (!v) return 'missing value for --decision-entrypoint';
        over.decisionEntrypoint = normalizeEntrypoint(v);
        break;
      }
      case '--authzen-entrypoint': {
        const v = val();
        if (!v) return 'missing value for --authzen-entrypoint';
        over.authzenEntrypoint = normalizeEntrypoint(v);
        break;
      }
      case '--config':
      case '-c': {
        const v = val();
        if (!v) return 'missing value for --config';
        over.configFile = v;
        break;
      }
      case '--workers': {
        const v = val();
        if (!v || !/^\d+$/.test(v) || Number(v) < 1) return `--workers needs a positive integer, got ${JSON.stringify(v)}`;
        over.workers = Number(v);
        break;
      }
      case '--v0-compatible':
        over.v0Compatible = true;
        break;
      case '--builtins': {
        const v = val();
        if (!v) return 'missing value for --builtins';
        (over.builtins ??= []).push(v);
        break;
      }
      default:
        return `unknown option ${a}`;
    }
  }
  return over;
}

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  const over = parseServeArgs(args);
  if (typeof over === 'string') {
    process.stderr.write(`pdp serve: ${over}\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig(over);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pdp serve: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  try {
    // every worker re-runs this command, so each loads the plug-ins before its bundles
    loadBuiltinPlugins(config.builtins ?? [], config.config_dir);
  } catch (e) {
    if (!(e instanceof BuiltinPluginError)) throw e;
    process.stderr.write(`pdp serve: ${e.message}\n`);
    return 2;
  }
  if (config.bundles.length === 0) {
    process.stderr.write(`pdp serve: no bundle: give --bundle or a config file with bundles\n${USAGE}`);
    return 2;
  }
  return runServer(config);
}
