/**
 * The start every subcommand shares: `--help` / `-h` prints its usage (exit 0); options it cannot read
 * print the problem and the usage (exit 2); otherwise the parsed options.
 */
export function parseCommandArgs<T>(command: string, args: string[], usage: string, parse: (args: string[]) => T | string): T | number {
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(usage + '\n');
    return 0;
  }
  const parsed = parse(args);
  if (typeof parsed === 'string') {
    process.stderr.write(`pdp ${command}: ${parsed}\n${usage}\n`);
    return 2;
  }
  return parsed;
}
