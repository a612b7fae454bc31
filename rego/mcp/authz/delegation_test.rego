# Control 2: the agent and its delegation chain.
package mcp.authz_test

import data.mcp.authz

test_registered_agent_via_may_act_is_allowed if allowed(lookup_request)

test_registered_agent_via_registration_is_allowed if allowed(refund_request(80))

test_missing_agent_is_denied if {
	doc := request(alice, null, lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "agent.missing")
}

test_unregistered_agent_is_denied if {
	doc := request(alice, direct_agent("rogue-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "agent.unregistered")
}

test_unverified_agent_is_denied if {
	agent := {"id": "support-bot", "verified": false, "assurance": "asserted", "claims": {}, "delegation": []}
	doc := request(alice, agent, lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "agent.unverified")
}

test_asserted_agent_allowed_when_estate_accepts_it if {
	agent := {"id": "support-bot", "verified": false, "assurance": "asserted", "claims": {}, "delegation": []}
	doc := request(alice, agent, lookup, {"customer_id": "c-1001"}, refund_task)
	settings := {"max_delegation_depth": 2, "require_verified_task": true, "accept_asserted_agents": true}
	d := authz.decision with input as doc with data.estate.settings as settings
	d.allow == true
}

test_invalid_agent_token_is_denied if {
	agent := {"id": "support-bot", "verified": false, "assurance": "invalid", "claims": {}, "delegation": []}
	doc := request(alice, agent, lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "agent.invalid")
}

test_agent_outside_its_servers_is_denied if {
	doc := request(bob, direct_agent("crm-sync"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "agent.server_not_allowed")
}

test_agent_not_permitted_for_user_is_denied if {
	# support-bot acts only through may_act, and bob's token names nobody.
	doc := request(bob, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "delegation.not_permitted")
}

test_registration_covers_only_its_tenants if {
	# billing-bot acts for acme users by registration; dave is at globex.
	doc := request(dave, direct_agent("billing-bot"), lookup, {"customer_id": "c-2001"}, refund_task)
	denied_with(doc, "delegation.not_permitted")
}

test_two_hop_chain_is_allowed if {
	doc := request(bob, delegated_agent("u-bob", ["refund-worker", "planner"]), refund, {"customer_id": "c-1001", "amount": 20, "currency": "EUR"}, refund_task)
	allowed(doc)
}

test_chain_deeper_than_configured_is_denied if {
	doc := request(bob, delegated_agent("u-bob", ["refund-worker", "planner", "billing-bot"]), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "delegation.too_deep")
}

test_agent_own_depth_limit_is_tighter if {
	# support-bot is registered with max_delegation_depth 1.
	doc := request(alice, delegated_agent("u-alice", ["support-bot", "planner"]), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "delegation.too_deep")
}

test_depth_limit_comes_from_settings if {
	doc := request(bob, delegated_agent("u-bob", ["refund-worker", "planner"]), lookup, {"customer_id": "c-1001"}, refund_task)
	settings := {"max_delegation_depth": 1, "require_verified_task": true, "accept_asserted_agents": false}
	d := authz.decision with input as doc with data.estate.settings as settings
	d.allow == false
	some r in d.reasons
	r.code == "delegation.too_deep"
}

test_only_current_actor_grants_registration if {
	# billing-bot is registered, but it is only an earlier actor; the current actor is not.
	doc := request(bob, delegated_agent("u-bob", ["rogue-bot", "billing-bot"]), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "agent.unregistered")
}

test_only_current_actor_grants_may_act if {
	# alice's may_act names support-bot, which is only the earlier actor here.
	user := verified_user("u-alice", "acme", ["support_agent"], "support-bot")
	doc := request(user, delegated_agent("u-alice", ["billing-bot", "support-bot"]), lookup, {"customer_id": "c-1001"}, task(["billing/*"], ["billing"], {}, []))
	d := decide(doc)
	d.allow == true # billing-bot acts for acme by its own registration
	doc2 := request(dave, delegated_agent("u-dave", ["billing-bot", "support-bot"]), lookup, {"customer_id": "c-2001"}, task(["billing/*"], ["billing"], {}, []))
	denied_with(doc2, "delegation.not_permitted")
}

test_malformed_chain_is_denied if {
	agent := {"id": "billing-bot", "verified": true, "assurance": "verified", "claims": {"sub": "u-bob"}, "delegation": [{"client": "x"}]}
	doc := request(bob, agent, lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "delegation.malformed")
}
