# Deny rules must fire when the field they inspect is missing. A negation evaluates its reference
# arguments first, so `not is_number(x.missing)` is undefined rather than true: each control below
# once read a field inside a `not` and went silent when the field was absent.
package mcp.authz_test

import data.mcp.authz

test_catalog_entry_without_access_is_denied if {
	entry := object.remove(data.estate.catalog.billing.tools["refunds.lookup"], ["access"])
	d := authz.decision with input as lookup_request with data.estate.catalog.billing.tools["refunds.lookup"] as entry
	d.allow == false
	some r in d.reasons
	r.code == "catalog.bad_access"
}

test_chain_link_without_subject_is_malformed if {
	agent := object.union(delegated_agent("u-alice", ["support-bot", "planner"]), {"delegation": [{"sub": "support-bot"}, {"name": "planner"}]})
	doc := request(alice, agent, lookup, {"customer_id": "c-1001", "view": "summary"}, refund_task)
	denied_with(doc, "delegation.malformed")
}

test_registration_without_servers_is_denied if {
	registration := object.remove(data.estate.agents["billing-bot"], ["servers"])
	d := authz.decision with input as refund_request(80) with data.estate.agents["billing-bot"] as registration
	d.allow == false
	some r in d.reasons
	r.code == "agent.server_not_allowed"
}

test_registration_without_depth_limit_uses_the_estate_limit if {
	not data.estate.agents["billing-bot"].max_delegation_depth
	allowed(refund_request(80))
}

test_task_without_constraints_needs_a_scope_cap if {
	uncapped := {"id": "t-7", "assurance": "verified", "scope": {"tools": ["billing/*"], "data_domains": ["billing"], "grants": ["write"], "expires_at": future}}
	doc := request(bob, direct_agent("billing-bot"), refund, {"customer_id": "c-1001", "amount": 10, "currency": "EUR"}, uncapped)
	denied_with(doc, "parameters.scope_limit_missing")
}
