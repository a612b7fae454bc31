import * as fs from 'fs';
import * as os from 'os';
import * as path from 'path';
import { parseGatewayArgs, splitCommand } from '../../src/cli/commands/gateway';

describe('pdp gateway arguments', () => {
  test('single upstream with a server name', () => {
    const p = parseGatewayArgs(['--upstream', 'http://b:3000/mcp', '--pdp', 'http://pdp:8181', '--port', '9000', '--server-name', 'billing'], {});
    expect(p.upstreams).toEqual([{ url: 'http://b:3000/mcp', serverName: 'billing' }]);
    expect(p).toMatchObject({ pdp: 'http://pdp:8181', port: 9000 });
  });

  test('named upstreams, API key from the environment, upstream headers, header names', () => {
    const p = parseGatewayArgs(
      ['--upstream', 'billing=http://b/mcp', '--upstream=crm=http://c/mcp', '--pdp=http://p', '--upstream-header', 'X-Gw: 1', '--agent-token-header', 'X-Agent'],
      { PDP_API_KEY: 'k' },
    );
    expect(p.upstreams).toEqual([
      { url: 'http://b/mcp', serverName: 'billing', headers: { 'x-gw': '1' } },
      { url: 'http://c/mcp', serverName: 'crm', headers: { 'x-gw': '1' } },
    ]);
    expect(p.apiKey).toBe('k');
    expect(p.headers).toEqual({ agentToken: 'x-agent' });
  });

  test('stdio upstreams: a command line split without a shell, named or not, with an environment', () => {
    expect(parseGatewayArgs(['--upstream-command', 'node server.js --flag', '--pdp', 'http://p'], {}).upstreams).toEqual([{ command: 'node', args: ['server.js', '--flag'] }]);
    const p = parseGatewayArgs(
      ['--upstream-command', 'files=npx -y "@acme/files server" --root \'/srv/my files\'', '--upstream', 'crm=http://c/mcp', '--upstream-env', 'TOKEN=a=b', '--pdp', 'http://p'],
      {},
    );
    expect(p.upstreams).toEqual([
      { command: 'npx', args: ['-y', '@acme/files server', '--root', '/srv/my files'], serverName: 'files', env: { TOKEN: 'a=b' } },
      { url: 'http://c/mcp', serverName: 'crm' },
    ]);
  });

  test('splitCommand: quotes and escapes as a shell, nothing expanded', () => {
    expect(splitCommand(`a "b c" 'd "e"' f\\ g "h\\"i" $HOME ''`)).toEqual(['a', 'b c', 'd "e"', 'f g', 'h"i', '$HOME', '']);
    expect(() => splitCommand('a "b')).toThrow(/unterminated/);
  });

  test('MCP authorization: servers with their keys, scopes, public URL', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gw-cli-'));
    const jwks = path.join(dir, 'jwks.json');
    fs.writeFileSync(jwks, '{"keys":[]}');
    const p = parseGatewayArgs(
      ['--upstream', 'http://b/mcp', '--pdp', 'http://p', '--auth-server', 'https://idp.example', '--auth-jwks', 'https://idp.example/jwks',
        '--auth-server', 'https://other.example', '--auth-jwks', jwks, '--auth-scope', 'mcp:tools', '--public-url', 'https://gw.example'],
      {},
    );
    expect(p.auth).toEqual({
      authorizationServers: [{ issuer: 'https://idp.example', jwks_uri: 'https://idp.example/jwks' }, { issuer: 'https://other.example', jwks_file: jwks }],
      scopes: ['mcp:tools'],
    });
    expect(p.publicUrl).toBe('https://gw.example');
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test.each([
    [[], /--upstream or --upstream-command is required/],
    [['--upstream-command', '  ', '--pdp', 'http://p'], /no command/],
    [['--upstream-command', 'node s.js', '--upstream-header', 'X: 1', '--pdp', 'http://p'], /HTTP upstreams only/],
    [['--upstream', 'http://a', '--upstream-env', 'A=1', '--pdp', 'http://p'], /goes with --upstream-command/],
    [['--upstream', 'http://a', '--pdp', 'http://p', '--auth-server', 'https://idp'], /needs its --auth-jwks/],
    [['--upstream', 'http://a', '--pdp', 'http://p', '--auth-jwks', 'https://idp/jwks'], /right after its --auth-server/],
    [['--upstream', 'http://a', '--pdp', 'http://p', '--auth-scope', 's'], /goes with --auth-server/],
    [['--upstream', 'http://a', '--pdp', 'http://p', '--auth-server', 'https://idp', '--auth-jwks', '/no/such/file'], /neither an http\(s\) URL nor a file/],
    [['--upstream', 'http://a'], /--pdp is required/],
    [['--upstream', 'ftp://a', '--pdp', 'http://p'], /not an http\(s\) URL/],
    [['--upstream', 'http://a', '--upstream', 'http://b', '--pdp', 'http://p'], /name each one/],
    [['--upstream', 'http://a', '--pdp', 'http://p', '--port', 'x'], /--port/],
    [['--upstream', 'http://a', '--pdp', 'http://p', '--bogus'], /unknown option --bogus/],
    [['--upstream', 'http://a', '--pdp'], /--pdp needs a value/],
  ])('refuses %j', (args, message) => {
    expect(() => parseGatewayArgs(args as string[], {})).toThrow(message);
  });
});
