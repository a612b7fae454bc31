# Control 3: the task scope the user approved (and the user's roles, which bound any task).
package mcp.authz_test


lookup_in(task_doc) := request(alice, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, task_doc)

test_tool_matching_a_scope_pattern_is_allowed if {
	allowed(lookup_in(task(["billing/refunds.*"], ["billing"], {}, [])))
}

test_exact_tool_pattern_is_allowed if {
	allowed(lookup_in(task(["billing/refunds.lookup"], ["billing"], {}, [])))
}

test_tool_outside_scope_is_denied if {
	denied_with(lookup_in(task(["billing/invoices.*", "crm/*"], ["billing"], {}, [])), "task_scope.tool_not_granted")
}

test_scope_pattern_does_not_cross_servers if {
	# "refunds.*" names no server: it cannot match "billing/refunds.lookup".
	denied_with(lookup_in(task(["refunds.*"], ["billing"], {}, [])), "task_scope.tool_not_granted")
}

test_data_domain_outside_scope_is_denied if {
	denied_with(lookup_in(task(["billing/*"], ["support"], {}, [])), "task_scope.domain_not_granted")
}

test_expired_scope_is_denied if {
	expired := {"id": "t-old", "assurance": "verified", "scope": {"tools": ["billing/*"], "data_domains": ["billing"], "expires_at": past}}
	denied_with(lookup_in(expired), "task_scope.expired")
}

test_task_token_expiry_counts_too if {
	# The scope says 2099, but the signed task token itself has expired.
	stale := {"id": "t-7", "assurance": "verified", "expires_at": past, "scope": refund_task.scope}
	denied_with(lookup_in(stale), "task_scope.expired")
}

test_task_token_expiry_alone_is_enough if {
	signed := {"id": "t-7", "assurance": "verified", "expires_at": future, "scope": {"tools": ["billing/*"], "data_domains": ["billing"]}}
	allowed(lookup_in(signed))
}

test_scope_without_expiry_is_denied if {
	open_ended := {"id": "t-8", "assurance": "verified", "scope": {"tools": ["billing/*"], "data_domains": ["billing"]}}
	denied_with(lookup_in(open_ended), "task_scope.no_expiry")
}

test_scope_with_unparseable_expiry_is_denied if {
	garbled := {"id": "t-8", "assurance": "verified", "scope": {"tools": ["billing/*"], "data_domains": ["billing"], "expires_at": "tomorrow"}}
	denied_with(lookup_in(garbled), "task_scope.no_expiry")
}

test_missing_task_is_denied if {
	denied_with(lookup_in(null), "task.missing")
}

test_unsigned_task_is_denied if {
	unsigned := {"id": "t-7", "assurance": "asserted", "scope": refund_task.scope}
	denied_with(lookup_in(unsigned), "task.unverified")
}

test_role_bounds_the_task if {
	# The task approves invoice exports, but no role of alice's grants them.
	doc := request(alice, direct_agent("support-bot"), invoice_export, {"tenant": "acme", "max_records": 10}, refund_task)
	denied_with(doc, "role.tool_not_granted")
}
