# METADATA
# title: MCP tool-call authorization
# description: |
#   The default policy of the agent-tool PDP. An enforcement point asks, for every MCP tool
#   invocation, whether this agent may call this tool with these arguments for this user within
#   this task. Each control lives in its own file; this file assembles the decision.
package mcp.authz

# ---------------------------------------------------------------------------------------------
# The input this policy reads (built by the PDP after it has verified every token):
#
#   input.user        the originating human
#     .id               string; the user the enforcement point names
#     .verified         true only when the user's token verified (signature, issuer, audience, expiry)
#     .assurance        "verified" | "asserted" (named by an authenticated PEP, no token) | "invalid"
#     .claims           verified token claims: sub, tenant, roles: [string], may_act: {sub}
#   input.agent       the agent making the call
#     .id               string; the calling agent when its token carries no delegation chain
#     .verified, .assurance, .claims   as for the user
#     .delegation       the delegation chain, current actor first: [{sub}, {sub}, …] (RFC 8693 `act`);
#                       element 0 is the only actor whose registration and may_act grant anything.
#                       Empty when the agent acts on its own; [agent] for a direct delegation.
#     .on_behalf_of     the principal the delegation works for: must be input.user.id
#   input.tool        .server, .name, .method ("tools/call" | "tools/list"), .annotations (MCP hints)
#   input.parameters  the call's arguments (an object)
#   input.task        the task scope the user approved
#     .id, .assurance ("verified" when it came from a signed task token)
#     .expires_at         the task token's own expiry (RFC 3339), if signed
#     .scope.tools        ["billing/refunds.*", …]  glob patterns over "server/tool", "/" separates
#     .scope.data_domains ["billing", …]
#     .scope.constraints  {max_amount, max_records, …}   caps named by the catalog's `bounded_by`
#     .scope.grants       ["write", "destructive"]       explicit approval for side effects
#     .scope.expires_at   RFC 3339
#
# The data it reads (rego/estate/**/data.json):
#   data.estate.catalog[server].tools[name]  domain, access (read|write|destructive), risk,
#                                            public, pii_fields, parameters (constraint specs)
#   data.estate.roles[role]                  tools (patterns), limits, see_pii
#   data.estate.agents[agent]                servers, acts_for_tenants, max_delegation_depth
#   data.estate.directory[kind][id].tenant   which tenant owns a customer, contact, ticket
#   data.estate.settings                     max_delegation_depth, require_verified_task,
#                                            accept_asserted_agents
#
# The decision: {"allow": bool, "reasons": [{"code", "message"}], "obligations": {…}}.
# Every control adds to `deny` a reason with a stable code; allow needs no reason at all.
# ---------------------------------------------------------------------------------------------

# METADATA
# entrypoint: true
# description: The answer the PDP returns for one tool invocation.
decision := {
	"allow": allow,
	"reasons": reasons,
	"obligations": obligations,
}

# Control 6: default deny. A call is allowed only when no control objects AND every control's
# positive condition holds, so a deny rule that failed to fire can never turn into an allow.
default allow := false

# Every control but the approval holds. Kept apart so that a person is asked to approve only a call
# the policy would otherwise allow.
allowed_but_for_approval if {
	count(deny) == 0
	catalog_tool
	identity_established
	agent_permitted
	scope_permits
	grants_satisfied
}

allow if {
	allowed_but_for_approval
	approval_satisfied
}

awaiting_approval if {
	allowed_but_for_approval
	not approval_satisfied
}

# Every deny carries at least one reason: the controls' own, the approval's, or the catch-all below.
default reasons := []

reasons := [r | some r in deny] if count(deny) > 0

reasons := [approval_reason] if awaiting_approval

reasons := [{"code": "policy.default_deny", "message": msg}] if {
	count(deny) == 0
	not allow
	not awaiting_approval
	msg := sprintf("no rule allows %s", [tool_label])
}

# Obligations bind the enforcement point only when the call is allowed.
default obligations := {}

obligations := obligation if allow

# ---------------------------------------------------------------------------------------------
# Lookups shared by the controls.

# "server/tool", the string task and role patterns are matched against (undefined if either is missing).
tool_ref := sprintf("%s/%s", [input.tool.server, input.tool.name]) if {
	is_string(input.tool.server)
	is_string(input.tool.name)
}

# For messages only: always defined, so a reason can always be worded.
default tool_label := "the requested tool"

tool_label := tool_ref

catalog_tool := data.estate.catalog[input.tool.server].tools[input.tool.name]

tool_is_public if catalog_tool.public == true

default method := "tools/call"

method := input.tool.method

# Parameter rules apply to calls; tools/list asks only whether the tool may be offered.
is_call if method == "tools/call"

deny contains {"code": "catalog.unknown_tool", "message": msg} if {
	not catalog_tool
	msg := sprintf("%s is not in the tool catalog", [tool_label])
}

# A negation evaluates its reference arguments first (OPA's rule): `not catalog_tool.access in […]`
# would be undefined, not true, for an entry without an access class, so it is asked positively.
catalog_access_valid if catalog_tool.access in ["read", "write", "destructive"]

deny contains {"code": "catalog.bad_access", "message": msg} if {
	catalog_tool
	not catalog_access_valid
	msg := sprintf("the catalog entry of %s has no valid access class", [tool_label])
}

deny contains {"code": "request.unsupported_method", "message": msg} if {
	not method in ["tools/call", "tools/list"]
	msg := sprintf("method %v is not authorized by this policy", [method])
}
