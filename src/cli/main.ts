/**
 * `pdp` — the project's command line. Each sub-command lives in its own module under
 * `src/cli/commands/<name>.ts` exporting `run(args: string[]): Promise<number>` (the exit code)
 * and a one-line `summary`. Adding a command means adding a file and a line in COMMANDS.
 */
export interface Command {
  summary: string;
  run(args: string[]): Promise<number>;
}

const COMMANDS: Record<string, () => Command> = {
  // name: () => require('./commands/name'),
};

export function registerCommand(name: string, load: () => Command): void {
  COMMANDS[name] = load;
}

function loadCommands(): void {
  // Commands are discovered from the commands folder so that parallel work never edits one shared list.
  // eslint-disable-next-line @typescript-eslint/no-var-requires
  const fs = require('fs') as typeof import('fs');
  const path = require('path') as typeof import('path');
  const dir = path.join(__dirname, 'commands');
  if (!fs.existsSync(dir)) return;
  for (const file of fs.readdirSync(dir)) {
    if (!file.endsWith('.js')) continue;
    const name = file.slice(0, -3);
    if (!(name in COMMANDS)) COMMANDS[name] = () => require(path.join(dir, file)) as Command;
  }
}

function usage(): string {
  const lines = ['usage: pdp <command> [options]   (pdp <command> --help for its options; pdp --version)', '', 'commands:'];
  for (const name of Object.keys(COMMANDS).sort()) {
    let summary = '';
    try {
      summary = COMMANDS[name]().summary;
    } catch {
      summary = '(failed to load)';
    }
    lines.push(`  ${name.padEnd(14)} ${summary}`);
  }
  return lines.join('\n');
}

export async function main(argv: string[]): Promise<number> {
  loadCommands();
  const [name, ...rest] = argv;
  if (name === '--version' || name === '-V' || name === 'version') {
    // eslint-disable-next-line @typescript-eslint/no-var-requires
    const { productVersion } = require('../util/version') as typeof import('../util/version');
    process.stdout.write(`pdp ${productVersion()}\n`);
    return 0;
  }
  if (!name || name === '-h' || name === '--help' || name === 'help') {
    process.stdout.write(usage() + '\n');
    return name ? 0 : 2;
  }
  const load = COMMANDS[name];
  if (!load) {
    process.stderr.write(`pdp: unknown command '${name}'\n${usage()}\n`);
    return 2;
  }
  return load().run(rest);
}
