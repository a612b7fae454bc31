/**
 * `pdp test <file|dir>... [--run REGEX] [--json] [-v]`: runs the `test_*` rules of every `*_test.rego`
 * file under the given paths (with their `.rego` and `data.json` siblings), compiled by our compiler.
 * Prints every test with its result and time; exits 1 when a test fails or errors (a test whose package,
 * or a package it needs, does not compile is an error carrying the compile error), a file does not parse,
 * or no test passed. `--json` prints the report as one JSON document on stdout, last, and the
 * per-test lines on stderr.
 */
import { formatJson, formatText } from '../../testing/report';
import { BuiltinPluginError, loadBuiltinPlugins } from '../../builtins/plugins';
import { runFailed, runTestsInPaths } from '../../testing/runner';
import { parseCommandArgs } from '../args';

export const summary = 'run the Rego tests (test_* rules in *_test.rego) of policy directories';

const USAGE = `usage: pdp test <file|dir>... [--run REGEX] [--json] [-v] [--v0-compatible] [--builtins FILE]

  --run REGEX   only tests whose name (data.<package>.<rule>) matches REGEX
  --json        print {"passed", "failed", "tests": [...]} on stdout, last
  -v            group by file, show each test's source line and the compile time
  --v0-compatible  read the policies as Rego v0 (rules without if/contains) unless a
                .manifest says otherwise, as OPA 1.x does with this flag
  --builtins FILE  load built-ins of your own from a plug-in module (docs/builtins.md)`;

interface Args {
  paths: string[];
  run?: RegExp;
  json: boolean;
  verbose: boolean;
  v0Compatible: boolean;
  builtins: string[];
}

function parseArgs(args: string[]): Args | string {
  const out: Args = { paths: [], json: false, verbose: false, v0Compatible: false, builtins: [] };
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    let runPattern: string | undefined;
    if (a === '--json') out.json = true;
    else if (a === '-v' || a === '--verbose') out.verbose = true;
    else if (a === '--v0-compatible') out.v0Compatible = true;
    else if (a === '--builtins') {
      if (i + 1 >= args.length) return `${a} needs a module file`;
      out.builtins.push(args[++i]);
    }
    else if (a === '--run' || a === '-r') {
      if (i + 1 >= args.length) return `${a} needs a regular expression`;
      runPattern = args[++i];
    } else if (a.startsWith('--run=')) runPattern = a.slice('--run='.length);
    else if (a.startsWith('-')) return `unknown option ${a}`;
    else out.paths.push(a);
    if (runPattern !== undefined) {
      try {
        out.run = new RegExp(runPattern);
      } catch (e) {
        return `--run: invalid regular expression ${JSON.stringify(runPattern)}: ${(e as Error).message}`;
      }
    }
  }
  if (out.paths.length === 0) return 'no policy directory given';
  return out;
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs('test', args, USAGE, parseArgs);
  if (typeof parsed === 'number') return parsed;
  try {
    loadBuiltinPlugins(parsed.builtins);
  } catch (e) {
    if (!(e instanceof BuiltinPluginError)) throw e;
    process.stderr.write(`pdp test: ${e.message}\n`);
    return 2;
  }
  const report = await runTestsInPaths(parsed.paths, { run: parsed.run, v0Compatible: parsed.v0Compatible });
  const text = formatText(report, { verbose: parsed.verbose });
  if (parsed.json) {
    process.stderr.write(text);
    process.stdout.write(formatJson(report));
  } else {
    const failed = runFailed(report);
    (failed ? process.stderr : process.stdout).write(text);
  }
  return runFailed(report) ? 1 : 0;
}
