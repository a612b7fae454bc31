/**
 * Command line hygiene, for every sub-command the built CLI has (found in dist/cli/commands, so a new
 * command is covered without editing this file): `--help` and `-h` exit 0 with its usage on stdout, an
 * unknown option exits non-zero with the usage. Plus `pdp --version`, and `pdp token`'s options.
 */
import * as fs from 'fs';
import * as path from 'path';
import { execFile } from 'child_process';

const ROOT = path.join(__dirname, '..', '..');
const PDP = path.join(ROOT, 'bin', 'pdp.js');
const COMMANDS = fs
  .readdirSync(path.join(ROOT, 'dist', 'cli', 'commands'))
  .filter((f) => f.endsWith('.js'))
  .map((f) => f.slice(0, -3));

function pdp(args: string[], cwd = ROOT): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [PDP, ...args], { cwd, timeout: 30_000, env: { ...process.env, PDP_CONFIG: '' } }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : -1) : 0, stdout, stderr });
    });
  });
}

test('the CLI has the commands this test expects to find', () => {
  expect(COMMANDS).toEqual(expect.arrayContaining(['build', 'check', 'keys', 'serve', 'start', 'test', 'token']));
});

test.each(COMMANDS)('pdp %s --help and -h print its usage and exit 0', async (name) => {
  for (const flag of ['--help', '-h']) {
    const r = await pdp([name, flag]);
    expect({ flag, code: r.code, usage: r.stdout }).toEqual({ flag, code: 0, usage: expect.stringMatching(new RegExp(`^usage:\\s+pdp ${name}\\b`)) });
  }
});

test.each(COMMANDS)('pdp %s --no-such-option is refused with the usage', async (name) => {
  const r = await pdp([name, '--no-such-option']);
  expect(r.code).not.toBe(0);
  expect(r.stderr).toMatch(/usage:/);
  expect(r.stderr).not.toMatch(/\n\s+at /); // a message, not a stack trace
});

test('pdp --version prints the package version', async () => {
  const version = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  expect(await pdp(['--version'])).toEqual({ code: 0, stdout: `pdp ${version}\n`, stderr: '' });
});

describe('pdp token', () => {
  const dir = fs.mkdtempSync(path.join(require('os').tmpdir(), 'pdp-token-'));
  const claims = (jwt: string) => JSON.parse(Buffer.from(jwt.trim().split('.')[1], 'base64url').toString());
  beforeAll(async () => {
    expect((await pdp(['keys', 'gen', '--out', dir, '--name', 'idp'])).code).toBe(0);
  });

  test('--exp takes a duration and sets the expiry (it used to be ignored)', async () => {
    const r = await pdp(['token', '--key', path.join(dir, 'idp.private.pem'), '--sub', 'u-1', '--exp', '2h']);
    expect(r.code).toBe(0);
    const c = claims(r.stdout);
    expect(c.exp - c.iat).toBe(7200);
  });

  test('--ttl in seconds still works; both at once is refused', async () => {
    const key = path.join(dir, 'idp.private.pem');
    const c = claims((await pdp(['token', '--key', key, '--sub', 'u-1', '--ttl', '90'])).stdout);
    expect(c.exp - c.iat).toBe(90);
    const both = await pdp(['token', '--key', key, '--sub', 'u-1', '--ttl', '90', '--exp', '1h']);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/--ttl or --exp, not both/);
    const bad = await pdp(['token', '--key', key, '--sub', 'u-1', '--exp', 'tomorrow']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--exp must be seconds or a duration/);
  });

  test('a misspelt option is refused, not silently ignored', async () => {
    const r = await pdp(['token', '--key', path.join(dir, 'idp.private.pem'), '--sub', 'u-1', '--expires', '1h']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown option --expires/);
  });
});

test('pdp keys refuses an option its sub-command does not take', async () => {
  const r = await pdp(['keys', 'apikey', '--alg', 'ES256']);
  expect(r.code).toBe(2);
  expect(r.stderr).toMatch(/unknown option --alg/);
});
