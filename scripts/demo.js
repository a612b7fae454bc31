#!/usr/bin/env node
'use strict';
/**
 * `npm run demo`: the whole chain on one machine.
 *
 *   MCP client ──► gateway :8080 /{billing,crm,support}/mcp ──► demo MCP servers :3000
 *                        │
 *                        └── POST /v1/decide(/batch) ──► PDP :8181 (default policy from rego/)
 *
 * It makes a throw-away identity provider (an ES256 key pair), the PDP's own signing key (`pdp keys gen`),
 * an API key for the gateway, and tokens for a support agent acting for alice, then runs a few calls
 * through the gateway and prints what the policy decided. Then bob's billing-bot asks for a refund above
 * the approval threshold: denied with `approval.required` and a link, approved on the PDP's page, retried
 * and allowed; the demo billing server verifies the Txn-Token it gets and prints the person it names.
 * Everything stays up until Ctrl-C. Ports: PDP_PORT, GATEWAY_PORT, MCP_PORT.
 * Needs `npm run build` first (it runs the compiled dist/).
 */
const fs = require('fs');
const os = require('os');
const path = require('path');
const http = require('http');
const net = require('net');
const crypto = require('crypto');
const { spawn, execFileSync } = require('child_process');

const root = path.join(__dirname, '..');
const dist = path.join(root, 'dist');
const PDP_PORT = Number(process.env.PDP_PORT || 8181);
const GATEWAY_PORT = Number(process.env.GATEWAY_PORT || 8080);
const MCP_PORT = Number(process.env.MCP_PORT || 3000);
const ISSUER = 'https://demo-idp.local';

function need(file) {
  if (!fs.existsSync(path.join(dist, file))) {
    console.error(`demo: dist/${file} is missing; run \`npm run build\` first`);
    process.exit(2);
  }
  return require(path.join(dist, file));
}

function pdpCommand() {
  for (const name of ['serve', 'start']) if (fs.existsSync(path.join(dist, 'cli', 'commands', `${name}.js`))) return name;
  console.error('demo: this build has no `pdp serve` command yet (dist/cli/commands/serve.js)');
  process.exit(2);
}

function get(url) {
  return new Promise((resolve) => {
    const req = http.get(url, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    });
    req.on('error', () => resolve(0));
    req.setTimeout(1000, () => req.destroy());
  });
}

async function waitReady(url, child, seconds) {
  for (let i = 0; i < seconds * 4; i++) {
    if (child.exitCode !== null) throw new Error(`the PDP exited with code ${child.exitCode}`);
    if ((await get(url)) === 200) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`the PDP was not ready at ${url} after ${seconds}s`);
}

/** Whether 127.0.0.1:port can be listened on now (port 0 always can). */
function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

/**
 * Refuse to run on a taken port: the tour would otherwise talk to whatever holds it (an older PDP
 * answering /ready, say) and show decisions that are not this run's.
 */
async function checkPorts() {
  const ports = { PDP_PORT, GATEWAY_PORT, MCP_PORT };
  for (const [name, port] of Object.entries(ports)) {
    if (!(await portFree(port))) {
      console.error(`demo: port ${port} (${name}) is in use; stop what holds it or choose another: ${name}=<port> npm run demo`);
      process.exit(1);
    }
  }
}

async function main() {
  await checkPorts();
  const pep = need('pep/index.js');
  const { startDemoMcpServer } = need('pep/demo-server.js');
  const { Client } = require('@modelcontextprotocol/sdk/client/index.js');
  const { StreamableHTTPClientTransport } = require('@modelcontextprotocol/sdk/client/streamableHttp.js');
  const jose = require('jose');

  // 1. A throw-away identity provider and the gateway's API key.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdp-demo-'));
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256');
  const jwk = { ...(await jose.exportJWK(publicKey)), kid: 'demo-1', alg: 'ES256', use: 'sig' };
  fs.writeFileSync(path.join(dir, 'idp.jwks.json'), JSON.stringify({ keys: [jwk] }));
  const apiKey = crypto.randomBytes(24).toString('base64url');
  // the PDP's own key, for approvals and transaction tokens, made the way an operator makes it
  execFileSync(process.execPath, [path.join(root, 'bin', 'pdp.js'), 'keys', 'gen', '--name', 'pdp', '--out', dir], { stdio: 'ignore' });
  const pdpUrl = `http://127.0.0.1:${PDP_PORT}`;
  const config = {
    server: { addr: '127.0.0.1', port: PDP_PORT },
    workers: 1,
    bundles: [{ name: 'mcp', source: path.join(root, 'rego') }],
    decision_logs: { output: path.join(dir, 'decisions.log') },
    identity: { issuers: [{ issuer: ISSUER, audiences: ['pdp'], jwks_file: path.join(dir, 'idp.jwks.json'), algorithms: ['ES256'] }] },
    authentication: { mode: 'api_key', api_keys: [{ id: 'mcp-gateway', hash: 'sha256:' + crypto.createHash('sha256').update(apiKey).digest('hex') }] },
    signing: { key_file: path.join(dir, 'pdp.private.pem'), issuer: pdpUrl },
    approvals: { ttl_seconds: 300, public_url: pdpUrl },
  };
  fs.writeFileSync(path.join(dir, 'pdp.json'), JSON.stringify(config, null, 2));

  // 2. The PDP, as its own process (it is what you would deploy).
  const pdpProc = spawn(process.execPath, [path.join(root, 'bin', 'pdp.js'), pdpCommand()], {
    env: { ...process.env, PDP_CONFIG: path.join(dir, 'pdp.json'), PDP_WORKERS: '1' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const stopAll = [];
  const shutdown = async (code) => {
    for (const f of stopAll.reverse()) await f().catch(() => undefined);
    if (pdpProc.exitCode === null) pdpProc.kill('SIGTERM');
    process.exit(code);
  };
  process.on('SIGINT', () => shutdown(0));
  process.on('SIGTERM', () => shutdown(0));
  try {
    await waitReady(`${pdpUrl}/ready`, pdpProc, 60);
  } catch (e) {
    console.error(`demo: ${e.message}`);
    return shutdown(1);
  }

  // 3. The demo MCP servers and the gateway in front of them.
  // each demo server verifies the Txn-Token of every call against the PDP's JWKS and says whom it names
  const demo = await startDemoMcpServer({
    port: MCP_PORT,
    txnToken: { keys: pep.txnTokenKeys(`${pdpUrl}/.well-known/jwks.json`), issuer: pdpUrl },
    onCall: (c) => {
      const t = c.txn;
      console.log(t && t.ok
        ? `      [${c.server} server] ${c.tool}: Txn-Token verified, for ${t.person} by ${t.delegation.join(' ← ')} (txn ${t.txn})`
        : `      [${c.server} server] ${c.tool}: refused, Txn-Token ${t ? t.reason : 'not checked'}`);
    },
  });
  stopAll.push(() => demo.close());
  const gw = await pep.startGateway({
    upstreams: ['billing', 'crm', 'support'].map((s) => ({ url: demo.endpoint(s), serverName: s })),
    pdp: { url: pdpUrl, apiKey },
    port: GATEWAY_PORT,
  });
  stopAll.push(() => gw.close());

  // 4. Tokens: alice (support, tenant acme) lets support-bot act for her on a refunds task.
  // one issuer signs every kind, so each token's typ names its kind (docs/identity.md, "Token kinds")
  const sign = (claims, typ, ttl = 3600) =>
    new jose.SignJWT(claims)
      .setProtectedHeader({ alg: 'ES256', kid: 'demo-1', typ })
      .setIssuer(ISSUER)
      .setAudience('pdp')
      .setIssuedAt()
      .setExpirationTime(`${ttl}s`)
      .sign(privateKey);
  const userToken = await sign({ sub: 'u-alice', tenant: 'acme', roles: ['support_agent'], may_act: { sub: 'support-bot' } }, 'user+jwt');
  const agentToken = await sign({ sub: 'support-bot' }, 'agent+jwt');
  const taskToken = await sign({
    sub: 'u-alice',
    jti: 't-7',
    scope: {
      tools: ['billing/refunds.*', 'support/*', 'crm/contacts.search'],
      data_domains: ['billing', 'support', 'crm', 'public'],
      constraints: { max_amount: 200 },
      grants: ['write'],
    },
  }, 'task+jwt');
  const headers = { authorization: `Bearer ${userToken}`, 'x-agent-token': agentToken, 'x-task-token': taskToken };

  // 5. A few calls, to show the decisions.
  console.log('\n== a short tour (SDK Client → gateway → demo MCP servers) ==');
  const tour = [
    ['billing', 'refunds.lookup', { customer_id: 'c-1001' }],
    ['billing', 'refunds.create', { customer_id: 'c-1001', amount: 50, currency: 'EUR' }],
    ['billing', 'refunds.create', { customer_id: 'c-1001', amount: 150, currency: 'EUR' }],
    ['billing', 'refunds.create', { customer_id: 'c-2001', amount: 20, currency: 'EUR' }],
    ['crm', 'contacts.search', { query: 'ada' }],
    ['crm', 'contacts.delete', { contact_id: 'ct-1' }],
  ];
  const clients = {};
  for (const server of ['billing', 'crm', 'support']) {
    const c = new Client({ name: 'demo-agent', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/${server}/mcp`), { requestInit: { headers } }));
    clients[server] = c;
    stopAll.push(() => c.close());
    const { tools } = await c.listTools().catch((e) => ({ tools: [], error: e }));
    console.log(`tools/list ${server}: ${tools.map((t) => t.name).join(', ') || '(none)'}`);
  }
  for (const [server, name, args] of tour) {
    const label = `${server}/${name} ${JSON.stringify(args)}`;
    try {
      const r = await clients[server].callTool({ name, arguments: args });
      console.log(`ALLOW ${label}\n      → ${JSON.stringify(r.structuredContent ?? r.content)}`);
    } catch (e) {
      const reasons = (e.data && e.data.reasons) || [];
      console.log(`DENY  ${label}  [${e.code}]\n      → ${reasons.map((x) => x.code).join(', ') || e.message}`);
    }
  }

  // 6. An approval that is a proof: bob's billing-bot (delegated by bob, RFC 8693) refunds 150 EUR.
  console.log('\n== a refund above the approval threshold (100) ==');
  const bob = {
    authorization: `Bearer ${await sign({ sub: 'u-bob', tenant: 'acme', roles: ['billing_specialist'] }, 'user+jwt')}`,
    'x-agent-token': await sign({ sub: 'u-bob', act: { sub: 'billing-bot' } }, 'agent+jwt'),
    'x-task-token': await sign({ sub: 'u-bob', jti: 't-9', scope: { tools: ['billing/refunds.*'], data_domains: ['billing'], constraints: { max_amount: 500 }, grants: ['write'] } }, 'task+jwt'),
  };
  const bobClient = async (extra = {}) => {
    const c = new Client({ name: 'billing-bot', version: '1.0.0' });
    await c.connect(new StreamableHTTPClientTransport(new URL(`${gw.url}/billing/mcp`), { requestInit: { headers: { ...bob, ...extra } } }));
    stopAll.push(() => c.close());
    return c;
  };
  const bigRefund = { name: 'refunds.create', arguments: { customer_id: 'c-1001', amount: 150, currency: 'EUR' } };
  let link;
  try {
    await (await bobClient()).callTool(bigRefund);
    console.log('unexpected: allowed without approval');
  } catch (e) {
    link = e.data && e.data.approval_request && e.data.approval_request.url;
    console.log(`DENY  billing/refunds.create 150 EUR  [${e.code}] → ${(e.data.reasons || []).map((x) => x.code).join(', ')}`);
    console.log(`      summary: ${e.data.approval_request && e.data.approval_request.summary}`);
    console.log(`      approve at: ${link}`);
  }
  if (link) {
    // what bob does on the page (open the link in a browser to see it), here as the page's JSON form; he signs
    // in afresh: the user token the agent already holds is older than the request and would be refused
    const res = await fetch(link, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ id_token: await sign({ sub: 'u-bob' }, 'user+jwt'), decision: 'approve' }) });
    const approval = await res.json();
    console.log(`bob approves on the page → approval ${approval.jti}, valid until ${approval.expires_at}`);
    const again = await bobClient({ 'x-pdp-approval': approval.approval_token });
    const r = await again.callTool(bigRefund);
    console.log(`ALLOW billing/refunds.create 150 EUR with the approval → ${JSON.stringify(r.structuredContent)}`);
    try {
      await again.callTool({ ...bigRefund, arguments: { ...bigRefund.arguments, amount: 400 } });
    } catch (e) {
      console.log(`DENY  billing/refunds.create 400 EUR with the same approval → ${(e.data.reasons || []).map((x) => x.code).join(', ')} (it approved 150, not 400)`);
    }
  }

  // 7. How to use it yourself.
  fs.writeFileSync(path.join(dir, 'headers.json'), JSON.stringify(headers, null, 2));
  console.log(`
== running ==
PDP             ${pdpUrl}   (config ${path.join(dir, 'pdp.json')}, decision log ${config.decision_logs.output})
                approval pages ${pdpUrl}/approvals/…, keys ${pdpUrl}/.well-known/jwks.json
demo MCP        ${demo.url}/{billing,crm,support}/mcp
gateway         ${gw.url}/billing/mcp  ${gw.url}/crm/mcp  ${gw.url}/support/mcp

Point any Streamable HTTP MCP client at a gateway URL with these headers (also in ${path.join(dir, 'headers.json')}):
  Authorization: Bearer <alice's user token>
  X-Agent-Token: <support-bot's token>
  X-Task-Token:  <the refunds task grant>
  X-PDP-Approval: <approval>   (for a call that needs one: open the link in the denial, sign in
                               with the user token, approve, paste the approval shown there)
For example with the MCP Inspector: npx @modelcontextprotocol/inspector  → Transport "Streamable HTTP",
URL ${gw.url}/billing/mcp, and add the headers above.

Ctrl-C stops everything.`);
}

main().catch((e) => {
  console.error(`demo: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
});
