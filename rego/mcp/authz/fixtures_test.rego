# Fixtures shared by the tests of package mcp.authz: people, agents, tasks, and small builders that
# assemble a full decision input. Tests state only what differs from a plainly allowed call.
package mcp.authz_test

import data.mcp.authz

# ------------------------------------------------------------------ people

verified_user(id, tenant, roles, may_act) := {
	"id": id,
	"verified": true,
	"assurance": "verified",
	"claims": {"sub": id, "tenant": tenant, "roles": roles, "may_act": {"sub": may_act}},
	"attributes": {},
}

# First-line support at acme; her token lets support-bot act for her.
alice := verified_user("u-alice", "acme", ["support_agent"], "support-bot")

# Finance at acme; no may_act: billing agents act for acme users by registration.
bob := verified_user("u-bob", "acme", ["billing_specialist"], "nobody")

# CRM administrator at acme: sees contact details unredacted.
carol := verified_user("u-carol", "acme", ["crm_admin"], "nobody")

# Support at globex.
dave := verified_user("u-dave", "globex", ["support_agent"], "support-bot")

asserted_alice := {"id": "u-alice", "verified": false, "assurance": "asserted", "claims": {}, "attributes": {}}

invalid_alice := {"id": "u-alice", "verified": false, "assurance": "invalid", "claims": {}, "attributes": {}}

# ------------------------------------------------------------------ agents

direct_agent(id) := {
	"id": id,
	"verified": true,
	"assurance": "verified",
	"claims": {"sub": id},
	"delegation": [],
	"attributes": {},
}

# A token-exchanged agent token (RFC 8693): subject is the user, `act` chain current actor first,
# as the PDP's identity resolver presents it.
delegated_agent(user_id, chain) := {
	"id": chain[0],
	"verified": true,
	"assurance": "verified",
	"claims": {"sub": user_id},
	"delegation": [{"sub": actor} | some actor in chain],
	"on_behalf_of": user_id,
	"attributes": {},
}

# ------------------------------------------------------------------ tasks

future := "2099-12-31T23:59:59Z"

past := "2020-01-01T00:00:00Z"

task(tools, domains, constraints, grants) := {
	"id": "t-7",
	"assurance": "verified",
	"scope": {
		"tools": tools,
		"data_domains": domains,
		"constraints": constraints,
		"grants": grants,
		"expires_at": future,
	},
}

# The refunds task of the DESIGN example: refunds, plus an invoice export, in billing.
refund_task := task(
	["billing/refunds.*", "billing/invoices.export"],
	["billing"],
	{"max_amount": 200, "max_records": 100},
	["write"],
)

support_task := task(["support/*", "crm/contacts.search"], ["support", "crm", "public"], {}, ["write"])

crm_task := task(["crm/*"], ["crm"], {"max_records": 500}, ["write"])

# ------------------------------------------------------------------ calls

call(server, name) := {"server": server, "name": name, "method": "tools/call", "annotations": {}}

request(user, agent, tool, params, task_doc) := {
	"user": user,
	"agent": agent,
	"tool": tool,
	"parameters": params,
	"task": task_doc,
	"context": {"request_id": "r-test"},
}

lookup := call("billing", "refunds.lookup")

refund := call("billing", "refunds.create")

invoice_export := call("billing", "invoices.export")

# Alice's support-bot looks up acme customer c-1001's refunds: allowed.
lookup_request := request(alice, direct_agent("support-bot"), lookup, {"customer_id": "c-1001", "view": "summary"}, refund_task)

# Bob's billing-bot refunds 80 EUR: allowed, no obligation.
refund_request(amount) := request(
	bob,
	direct_agent("billing-bot"),
	refund,
	{"customer_id": "c-1001", "amount": amount, "currency": "EUR"},
	refund_task,
)

# The same call with an approval the PDP verified (signature, expiry, action digest) for its user.
approved(doc) := object.union(doc, {"approval": {
	"verified": true,
	"approved_by": doc.user.id,
	"approved_at": "2026-12-03T12:00:00Z",
	"jti": "appr-1",
}})

# ------------------------------------------------------------------ assertions

decide(doc) := d if {
	d := authz.decision with input as doc
}

allowed(doc) if decide(doc).allow == true

denied(doc) if decide(doc).allow == false

# Denied, and one of the reasons carries this code.
denied_with(doc, code) if {
	d := decide(doc)
	d.allow == false
	some r in d.reasons
	r.code == code
}

codes(doc) := {r.code | some r in decide(doc).reasons}
