/**
 * `pdp capabilities`: prints, in OPA's capabilities JSON shape, the built-ins this PDP supports, each
 * marked with where it runs (`implementation`: native in the wasm runtime, or host JS).
 */
import { capabilities } from '../../builtins/capabilities';

export const summary = 'print the supported built-ins as OPA capabilities JSON';

export async function run(args: string[]): Promise<number> {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write('usage: pdp capabilities [--host-only]\n');
    return 0;
  }
  const unknown = args.filter((a) => a !== '--host-only');
  if (unknown.length) {
    process.stderr.write(`pdp capabilities: unknown argument ${unknown[0]}\nusage: pdp capabilities [--host-only]\n`);
    return 2;
  }
  const caps = capabilities();
  if (args.includes('--host-only')) caps.builtins = caps.builtins.filter((b) => b.implementation === 'host');
  process.stdout.write(JSON.stringify(caps, null, 2) + '\n');
  return 0;
}
