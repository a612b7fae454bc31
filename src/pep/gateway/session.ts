/**
 * One agent session through the gateway: the agent talks to an SDK `Server` (our side), every
 * request is decided, and permitted ones are sent on through an SDK `Client` connected to the
 * upstream MCP server. One upstream session per agent session, so upstream state never mixes.
 */
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { ElicitResultSchema, ErrorCode, McpError, PingRequestSchema, ResultSchema } from '@modelcontextprotocol/sdk/types.js';
import type { JSONRPCRequest, Notification } from '@modelcontextprotocol/sdk/types.js';
import { randomUUID } from 'crypto';
import type { PdpClient } from '../client';
import type { Decision, DecisionInput } from '../types';
import { denied, errorForDeny, gatewayError, INTERNAL_ERROR, invalidInput } from './errors';
import { CallerIdentity, IdentityHeaderNames, readIdentity } from './identity';
import type { GatewayMetrics } from './metrics';
import { callDuties, listable, redactResult } from './obligations';
import { connectUpstream, describeUpstream, UpstreamRoute, withTxnToken } from './upstream';

export { GATEWAY_VERSION } from './upstream';
export type { UpstreamRoute } from './upstream';

export interface SessionDeps {
  route: UpstreamRoute;
  pdp: Pick<PdpClient, 'decide' | 'decideBatch'>;
  headerNames: IdentityHeaderNames;
  log: (event: Record<string, unknown>) => void;
  /** ask the agent's user for a needed approval through MCP elicitation, when the client can (default true) */
  elicitApprovals?: boolean;
  /** how long to wait for the person's answer to such an elicitation (default 5 minutes) */
  elicitationTimeoutMs?: number;
  /** counts calls by outcome and upstream failures (default: not counted) */
  metrics?: GatewayMetrics;
}

type Tool = { name: string; annotations?: Record<string, unknown>; [k: string]: unknown };
type RequestExtra = {
  signal: AbortSignal;
  sessionId?: string;
  requestInfo?: { headers: Record<string, string | string[] | undefined> };
  sendNotification: (n: any) => Promise<void>;
};

const MAX_LIST_PAGES = 50;

export class GatewaySession {
  readonly transport: StreamableHTTPServerTransport;
  private readonly server: Server;
  private readonly tools = new Map<string, Tool>();
  private closed = false;
  /** the upstream connection ended without the gateway closing it */
  private gone = false;

  private constructor(
    private readonly deps: SessionDeps,
    private readonly upstream: Client,
    readonly serverName: string,
    onSessionId: (id: string, s: GatewaySession) => void,
    onClose: (s: GatewaySession) => void,
  ) {
    const info = upstream.getServerVersion() ?? { name: serverName, version: '0' };
    const upCaps = upstream.getServerCapabilities() ?? {};
    this.server = new Server(
      { ...info, name: info.name, version: info.version },
      {
        // Only tools are offered: resources, prompts and the rest are not authorised by the gateway.
        capabilities: { tools: { listChanged: true }, ...(upCaps.logging ? { logging: {} } : {}) },
        instructions: upstream.getInstructions(),
      },
    );
    this.server.setRequestHandler(PingRequestSchema, async (_req, extra) => {
      await this.upstream.ping({ signal: extra.signal });
      return {};
    });
    this.server.fallbackRequestHandler = (req, extra) => this.onRequest(req, extra as unknown as RequestExtra);
    this.server.fallbackNotificationHandler = async (n) => this.forwardUp(n);
    this.upstream.fallbackNotificationHandler = async (n) => this.forwardDown(n);
    this.server.onclose = () => {
      void this.close();
      onClose(this);
    };
    this.transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      onsessioninitialized: (id) => onSessionId(id, this),
    });
  }

  /** Connects upstream first (so the agent sees the upstream's name and instructions), then our side. */
  static async open(deps: SessionDeps, onSessionId: (id: string, s: GatewaySession) => void, onClose: (s: GatewaySession) => void): Promise<GatewaySession> {
    let session: GatewaySession | undefined;
    const upstream = await connectUpstream(deps.route, () => session?.upstreamGone());
    const serverName = deps.route.serverName ?? upstream.getServerVersion()?.name;
    if (!serverName) {
      await upstream.close();
      throw new Error('upstream did not report a server name; configure one (--server-name)');
    }
    const s = (session = new GatewaySession(deps, upstream, serverName, onSessionId, onClose));
    await s.server.connect(s.transport);
    return s;
  }

  /** The upstream connection ended on its own (e.g. its process exited): every later call fails at once. */
  private upstreamGone(): void {
    if (this.closed || this.gone) return;
    this.gone = true;
    this.deps.metrics?.upstreamError(this.serverName, 'closed');
    this.deps.log({ event: 'upstream.gone', server: this.serverName, upstream: describeUpstream(this.deps.route) });
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await Promise.allSettled([this.upstream.close(), this.server.close()]);
  }

  private async onRequest(req: JSONRPCRequest, extra: RequestExtra): Promise<Record<string, unknown>> {
    switch (req.method) {
      case 'tools/call':
        return this.callTool(req, extra);
      case 'tools/list':
        return this.listTools(req, extra);
      case 'logging/setLevel':
        return this.upstreamRequest(req, extra);
      default:
        throw denied([{ code: 'gateway.method_not_allowed', message: `method ${req.method} is not authorised through the gateway` }]);
    }
  }

  private identity(extra: RequestExtra): CallerIdentity {
    return readIdentity(extra.requestInfo?.headers, this.deps.headerNames);
  }

  private baseInput(id: CallerIdentity, extra: RequestExtra): Omit<DecisionInput, 'tool'> {
    const input: Omit<DecisionInput, 'tool'> = {};
    if (id.userToken) input.user = { token: id.userToken };
    if (id.agentToken) input.agent = { token: id.agentToken };
    if (id.taskToken) input.task = { token: id.taskToken };
    if (id.approvalToken) input.approval = { token: id.approvalToken };
    input.context = { request_id: id.requestId, ...(extra.sessionId ? { mcp_session_id: extra.sessionId } : {}) };
    return input;
  }

  private async callTool(req: JSONRPCRequest, extra: RequestExtra): Promise<Record<string, unknown>> {
    const params = req.params as Record<string, unknown> | undefined;
    const name = params?.name;
    if (typeof name !== 'string' || name === '') throw invalidInput('tools/call needs params.name, a non-empty string');
    const args = params?.arguments;
    if (args !== undefined && !isPlainObject(args)) throw invalidInput('tools/call params.arguments must be an object');
    const id = this.identity(extra);
    const tool = await this.findTool(name, extra.signal);
    if (!tool) throw invalidInput(`unknown tool ${JSON.stringify(name)} on server ${JSON.stringify(this.serverName)}`);
    const input: DecisionInput = {
      ...this.baseInput(id, extra),
      tool: { server: this.serverName, name, method: 'tools/call', ...(tool.annotations ? { annotations: tool.annotations } : {}) },
      parameters: (args as Record<string, unknown> | undefined) ?? {},
      // the PDP signs, for an allowed call, who it is for: the upstream gets that, never the agent's tokens
      issue_txn_token: true,
    };
    let decision = await this.deps.pdp.decide(input, { requestId: id.requestId });
    if (decision.allow !== true && decision.approval_request && !id.approvalToken) {
      // the agent's client may be able to ask its user: the answer is an approval the PDP still verifies
      const token = await this.elicitApproval(decision.approval_request, req, extra);
      if (token !== undefined) decision = await this.deps.pdp.decide({ ...input, approval: { token } }, { requestId: id.requestId });
    }
    this.deps.log({
      event: 'decision', method: 'tools/call', server: this.serverName, tool: name, allow: decision.allow, decision_id: decision.decision_id,
      request_id: id.requestId, reasons: decision.reasons.map((r) => r.code),
      ...(decision.approval ? { approval_jti: decision.approval.jti } : {}), ...(decision.approval_request ? { approval_url: decision.approval_request.url } : {}),
    });
    const duties = decision.allow === true ? callDuties(decision) : undefined;
    this.deps.metrics?.call(this.serverName, decision.allow !== true && decision.failure ? 'error' : duties?.ok ? 'allow' : 'deny');
    if (!duties) throw errorForDeny(decision);
    if (!duties.ok) throw denied(duties.reasons, decision.decision_id);

    const forward = () => this.upstreamRequest(req, extra);
    const result = await withTxnToken(decision.txn_token, forward);
    const redacted = redactResult(result, duties.redact);
    if (!redacted.ok) {
      throw denied([{ code: 'obligation.redaction_failed', message: `result withheld: ${redacted.message}` }], decision.decision_id);
    }
    return redacted.result;
  }

  /**
   * MCP elicitation (form mode) for a needed approval: the message holds the PDP's summary and approval
   * link; the person approves on the PDP's page and pastes the approval it shows. The gateway takes the
   * answer only as a token for the PDP to verify: a host, or an agent driving one, that answers by itself
   * cannot produce a valid approval (the page wants a sign-in newer than the request, which the user token
   * the agent holds is not), so a host's "yes" counts for nothing on its own.
   */
  private async elicitApproval(ask: NonNullable<Decision['approval_request']>, req: JSONRPCRequest, extra: RequestExtra): Promise<string | undefined> {
    if (this.deps.elicitApprovals === false || !this.clientCanElicitForms()) return undefined;
    const message = `Approval needed: ${ask.summary}\n\nOpen ${ask.url} , sign in, approve, and paste the approval shown there (valid until ${ask.expires_at}).`;
    try {
      const answer = await this.server.request(
        {
          method: 'elicitation/create',
          params: {
            mode: 'form',
            message,
            requestedSchema: {
              type: 'object',
              properties: { approval: { type: 'string', title: 'Approval', description: `the approval shown at ${ask.url}`, minLength: 1, maxLength: 16384 } },
              required: ['approval'],
            },
          },
        } as any,
        ElicitResultSchema,
        { relatedRequestId: req.id, signal: extra.signal, timeout: this.deps.elicitationTimeoutMs ?? 300_000 },
      );
      const value = answer.action === 'accept' ? answer.content?.approval : undefined;
      this.deps.log({ event: 'approval.elicited', server: this.serverName, action: answer.action, answered: typeof value === 'string' });
      return typeof value === 'string' && value.trim() !== '' ? value.trim() : undefined;
    } catch (e) {
      // no answer (timeout, cancelled, client error): the call stays denied with the link
      this.deps.log({ event: 'approval.elicitation_failed', server: this.serverName, error: String((e as Error)?.message ?? e) });
      return undefined;
    }
  }

  /** Form-mode elicitation: declared as `{form: …}`, or as `{}` (the older spelling, meaning form). */
  private clientCanElicitForms(): boolean {
    const e = this.server.getClientCapabilities()?.elicitation as Record<string, unknown> | undefined;
    return e !== undefined && (e.form !== undefined || Object.keys(e).length === 0);
  }

  private async listTools(req: JSONRPCRequest, extra: RequestExtra): Promise<Record<string, unknown>> {
    const id = this.identity(extra);
    const page = await this.upstreamRequest(req, extra);
    const tools = toolsOf(page);
    for (const t of tools) this.tools.set(t.name, t);
    if (tools.length === 0) return page;
    const base = this.baseInput(id, extra);
    const items: DecisionInput[] = tools.map((t) => ({
      ...base,
      tool: { server: this.serverName, name: t.name, method: 'tools/list', ...(t.annotations ? { annotations: t.annotations } : {}) },
    }));
    const decisions = await this.deps.pdp.decideBatch(items, undefined, { requestId: id.requestId });
    // A failed batch comes back as the same failure for every item: report it rather than an empty list.
    if (decisions.length && decisions.every((d) => d.failure)) throw errorForDeny(decisions[0]);
    const visible = tools.filter((_t, i) => decisions[i] && listable(decisions[i]));
    this.deps.log({ event: 'list', server: this.serverName, tools: tools.length, visible: visible.length, request_id: id.requestId });
    return { ...page, tools: visible };
  }

  /** The tool's metadata (for its annotations), re-listing the upstream once when it is not known. */
  private async findTool(name: string, signal: AbortSignal): Promise<Tool | undefined> {
    const known = this.tools.get(name);
    if (known) return known;
    this.tools.clear();
    let cursor: string | undefined;
    for (let i = 0; i < MAX_LIST_PAGES; i++) {
      const page = await this.upstreamCall({ method: 'tools/list', params: cursor ? { cursor } : {} }, signal);
      for (const t of toolsOf(page)) this.tools.set(t.name, t);
      cursor = typeof page.nextCursor === 'string' ? page.nextCursor : undefined;
      if (!cursor) break;
    }
    return this.tools.get(name);
  }

  /** Sends the agent's request upstream unchanged, relaying progress with the agent's own token. */
  private async upstreamRequest(req: JSONRPCRequest, extra: RequestExtra): Promise<Record<string, unknown>> {
    const params = req.params as Record<string, any> | undefined;
    const token = params?._meta?.progressToken;
    const onprogress =
      token === undefined
        ? undefined
        : (p: Record<string, unknown>) => {
            void extra.sendNotification({ method: 'notifications/progress', params: { ...p, progressToken: token } }).catch(() => undefined);
          };
    return this.upstreamCall({ method: req.method, params }, extra.signal, onprogress);
  }

  private async upstreamCall(request: { method: string; params?: Record<string, unknown> }, signal: AbortSignal, onprogress?: (p: any) => void): Promise<Record<string, unknown>> {
    try {
      return (await this.upstream.request(request as any, ResultSchema, { signal, onprogress })) as Record<string, unknown>;
    } catch (e) {
      // failures of our own connection, not answers of the upstream: the SDK reports them as McpErrors
      // too (ConnectionClosed, RequestTimeout, whose code would read as a policy deny)
      if (signal.aborted) throw gatewayError(INTERNAL_ERROR, 'request cancelled by the agent'); // not the upstream's failure
      if (this.gone) throw this.upstreamFailure('gone', 'upstream MCP server is gone (its process exited or the connection closed); open a new session');
      if (e instanceof McpError && e.code === ErrorCode.RequestTimeout && /^MCP error -?\d+: Request timed out$/.test(e.message)) {
        throw this.upstreamFailure('timeout', 'upstream MCP server did not answer in time');
      }
      // the upstream's own JSON-RPC error, passed through unchanged: our SDK client prefixed its
      // message with "MCP error <code>: ", which the agent's client would add a second time
      if (e instanceof McpError) throw gatewayError(e.code, e.message.replace(new RegExp(`^MCP error ${e.code}: `), ''), e.data);
      throw this.upstreamFailure('transport', `upstream MCP server failed: ${(e as Error)?.message ?? e}`);
    }
  }

  private upstreamFailure(kind: 'gone' | 'timeout' | 'transport', message: string): McpError {
    this.deps.metrics?.upstreamError(this.serverName, kind);
    return gatewayError(INTERNAL_ERROR, message, { reasons: [{ code: 'gateway.upstream_error', message }] });
  }

  private async forwardUp(n: Notification): Promise<void> {
    try {
      await this.upstream.notification(n as any);
    } catch {
      // a notification the upstream side cannot take (capability not negotiated): dropped
    }
  }

  private async forwardDown(n: Notification): Promise<void> {
    if (n.method === 'notifications/tools/list_changed') this.tools.clear();
    try {
      await this.server.notification(n as any);
    } catch {
      // not negotiated with the agent: dropped
    }
  }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function toolsOf(page: Record<string, unknown>): Tool[] {
  if (!Array.isArray(page.tools)) throw gatewayError(INTERNAL_ERROR, 'upstream tools/list answer has no tools list');
  return page.tools.filter((t): t is Tool => isPlainObject(t) && typeof t.name === 'string');
}
