# Control 1: identity continuity.
package mcp.authz_test

import data.mcp.authz

kb_search := call("support", "kb.search")

kb_params := {"query": "reset my password"}

test_verified_user_is_allowed if allowed(lookup_request)

test_missing_user_is_denied if {
	doc := request(null, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "identity.user_missing")
}

test_absent_user_key_is_denied if {
	doc := {
		"agent": direct_agent("support-bot"),
		"tool": lookup,
		"parameters": {"customer_id": "c-1001"},
		"task": refund_task,
	}
	denied_with(doc, "identity.user_missing")
}

test_asserted_user_is_denied if {
	doc := request(asserted_alice, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "identity.user_unverified")
}

test_verified_flag_without_verified_assurance_is_denied if {
	user := {"id": "u-alice", "verified": true, "assurance": "asserted", "claims": alice.claims}
	doc := request(user, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "identity.user_unverified")
}

test_invalid_user_token_is_denied if {
	doc := request(invalid_alice, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "identity.user_invalid")
}

test_user_id_must_match_token_subject if {
	user := verified_user("u-mallory", "acme", ["support_agent"], "support-bot")
	impostor := {
		"id": "u-alice",
		"verified": true,
		"assurance": "verified",
		"claims": user.claims,
	}
	doc := request(impostor, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "identity.user_mismatch")
}

test_delegated_token_must_work_for_the_same_user if {
	doc := request(bob, delegated_agent("u-mallory", ["billing-bot"]), lookup, {"customer_id": "c-1001"}, refund_task)
	denied_with(doc, "identity.chain_user_mismatch")
}

test_public_tool_allowed_without_user if {
	doc := request(null, direct_agent("support-bot"), kb_search, kb_params, support_task)
	allowed(doc)
}

test_public_tool_allowed_for_asserted_user if {
	doc := request(asserted_alice, direct_agent("support-bot"), kb_search, kb_params, support_task)
	allowed(doc)
}

test_public_tool_denied_for_invalid_user if {
	doc := request(invalid_alice, direct_agent("support-bot"), kb_search, kb_params, support_task)
	denied_with(doc, "identity.user_invalid")
}

test_public_flag_comes_from_catalog_not_from_input if {
	tool := {"server": "support", "name": "tickets.read", "method": "tools/call", "annotations": {}, "public": true}
	doc := request(null, direct_agent("support-bot"), tool, {"ticket_id": "T-100"}, support_task)
	denied_with(doc, "identity.user_missing")
}

# with data: an estate that marks tickets.read public lets it through without a user.
test_catalog_can_mark_a_tool_public if {
	tickets := {"tickets.read": {"domain": "support", "access": "read", "risk": "low", "public": true, "parameters": {"ticket_id": {"type": "string"}}}}
	doc := request(null, direct_agent("support-bot"), call("support", "tickets.read"), {"ticket_id": "T-100"}, support_task)
	d := authz.decision with input as doc with data.estate.catalog.support.tools as tickets
	d.allow == true
}
