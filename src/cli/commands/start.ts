/**
 * `pdp start` (= `npm start`): build the default bundle from rego/ if it is missing or stale, then
 * serve it on 127.0.0.1:8181 (PDP_PORT, PDP_ADDR, PDP_CONFIG, PDP_WORKERS change that). With a config
 * file that lists bundles, those are served instead and nothing is built.
 */
import * as fs from 'fs';
import * as path from 'path';
import cluster from 'cluster';
import { loadConfig, ConfigError } from '../../server/config';
import { runServer } from '../../server/run';
import { ensureDefaultBundle } from '../../bundles/default-bundle';

export const summary = 'build the default policy bundle if needed and serve it (npm start)';

function projectRoot(): string {
  // dist/cli/commands → repo root; prefer the working directory when it has a rego/ folder
  if (fs.existsSync(path.join(process.cwd(), 'rego'))) return process.cwd();
  return path.resolve(__dirname, '..', '..', '..');
}

const USAGE = 'usage: pdp start   (env: PDP_PORT, PDP_ADDR, PDP_CONFIG, PDP_WORKERS)\n';

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (args.length > 0) {
    process.stderr.write(`pdp start: takes no arguments (got ${args.join(' ')}); use pdp serve for options\n${USAGE}`);
    return 2;
  }
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`pdp start: ${err.message}\n`);
      return 2;
    }
    throw err;
  }
  if (config.bundles.length === 0) {
    const root = projectRoot();
    const file = path.join(root, 'bundles', 'mcp.tar.gz');
    if (cluster.isPrimary) {
      try {
        const t0 = Date.now();
        const r = await ensureDefaultBundle(path.join(root, 'rego'), file, config.decision_entrypoint);
        process.stderr.write(
          r.built
            ? `pdp start: built ${path.relative(process.cwd(), file) || file} from rego/ in ${Date.now() - t0} ms (${r.entrypoints?.join(', ')})\n`
            : `pdp start: ${path.relative(process.cwd(), file) || file} is up to date\n`,
        );
      } catch (err) {
        process.stderr.write(`pdp start: cannot build the default bundle from rego/:\n${(err as Error).message}\n`);
        return 1;
      }
    }
    config.bundles = [{ name: 'mcp', source: file }];
  }
  return runServer(config);
}
