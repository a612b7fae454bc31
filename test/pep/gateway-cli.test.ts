import { parseGatewayArgs } from '../../src/cli/commands/gateway';

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

  test.each([
    [[], /--upstream is required/],
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
