# Control 4: layer-7 parameter rules.
package mcp.authz_test

import data.mcp.authz

# A summary lookup is allowed while a broad export in the same task is denied.
test_summary_lookup_allowed_broad_export_denied_in_same_task if {
	allowed(request(bob, direct_agent("billing-bot"), lookup, {"customer_id": "c-1001", "view": "summary"}, refund_task))
	broad := request(bob, direct_agent("billing-bot"), invoice_export, {"tenant": "acme", "max_records": 5000}, refund_task)
	denied_with(broad, "parameters.exceeds_scope_limit")
}

test_narrow_export_is_allowed if {
	# a high-risk tool: allowed once its user approved the call
	allowed(approved(request(bob, direct_agent("billing-bot"), invoice_export, {"tenant": "acme", "max_records": 100, "format": "csv"}, refund_task)))
}

test_refund_within_limits_is_allowed if allowed(refund_request(80))

test_refund_above_scope_limit_is_denied if denied_with(refund_request(250), "parameters.exceeds_scope_limit")

test_refund_above_role_limit_is_denied if {
	# alice's support_agent role caps refunds at 50, under the task's 200.
	doc := request(alice, direct_agent("support-bot"), refund, {"customer_id": "c-1001", "amount": 120, "currency": "EUR"}, refund_task)
	denied_with(doc, "parameters.exceeds_role_limit")
	not "parameters.exceeds_scope_limit" in codes(doc)
}

test_refund_needs_a_scope_cap if {
	uncapped := task(["billing/*"], ["billing"], {}, ["write"])
	doc := request(bob, direct_agent("billing-bot"), refund, {"customer_id": "c-1001", "amount": 10, "currency": "EUR"}, uncapped)
	denied_with(doc, "parameters.scope_limit_missing")
}

test_refund_needs_a_role_cap if {
	# crm_admin grants nothing in billing, so this user has no role limit for max_amount.
	user := verified_user("u-erin", "acme", ["support_agent"], "nobody")
	roles := {"support_agent": {"tools": ["billing/*"], "limits": {}}}
	doc := request(user, direct_agent("billing-bot"), refund, {"customer_id": "c-1001", "amount": 10, "currency": "EUR"}, refund_task)
	d := authz.decision with input as doc with data.estate.roles as roles
	d.allow == false
	some r in d.reasons
	r.code == "parameters.role_limit_missing"
}

test_amount_as_string_is_denied if denied_with(refund_request("80"), "parameters.wrong_type")

test_negative_amount_is_denied if denied_with(refund_request(-5), "parameters.out_of_range")

test_currency_outside_enumeration_is_denied if {
	doc := request(bob, direct_agent("billing-bot"), refund, {"customer_id": "c-1001", "amount": 10, "currency": "BTC"}, refund_task)
	denied_with(doc, "parameters.not_allowed_value")
}

test_customer_of_another_tenant_is_denied if {
	doc := request(bob, direct_agent("billing-bot"), lookup, {"customer_id": "c-2001"}, refund_task)
	denied_with(doc, "parameters.foreign_record")
}

test_unknown_customer_is_denied if {
	doc := request(bob, direct_agent("billing-bot"), lookup, {"customer_id": "c-9999"}, refund_task)
	denied_with(doc, "parameters.foreign_record")
}

test_customer_id_pattern_is_enforced if {
	doc := request(bob, direct_agent("billing-bot"), lookup, {"customer_id": "c-1001' OR 1=1"}, refund_task)
	denied_with(doc, "parameters.pattern_mismatch")
}

test_export_of_another_tenant_is_denied if {
	doc := request(bob, direct_agent("billing-bot"), invoice_export, {"tenant": "globex", "max_records": 10}, refund_task)
	denied_with(doc, "parameters.foreign_tenant")
}

test_export_above_catalog_maximum_is_denied if {
	big := task(["billing/*"], ["billing"], {"max_records": 50000}, [])
	doc := request(bob, direct_agent("billing-bot"), invoice_export, {"tenant": "acme", "max_records": 20000}, big)
	denied_with(doc, "parameters.out_of_range")
	denied_with(doc, "parameters.exceeds_role_limit")
}

test_unexpected_argument_is_denied if {
	doc := request(bob, direct_agent("billing-bot"), lookup, {"customer_id": "c-1001", "include_card_numbers": true}, refund_task)
	denied_with(doc, "parameters.unexpected")
}

test_missing_required_argument_is_denied if {
	doc := request(bob, direct_agent("billing-bot"), refund, {"customer_id": "c-1001", "amount": 10}, refund_task)
	denied_with(doc, "parameters.missing")
}

test_null_counts_as_missing if {
	doc := request(bob, direct_agent("billing-bot"), refund, {"customer_id": "c-1001", "amount": 10, "currency": null}, refund_task)
	denied_with(doc, "parameters.missing")
}

test_arguments_must_be_an_object if {
	doc := request(bob, direct_agent("billing-bot"), lookup, ["c-1001"], refund_task)
	denied_with(doc, "parameters.malformed")
}

test_update_may_set_only_listed_fields if {
	ok := request(carol, direct_agent("crm-sync"), call("crm", "contacts.update"), {"contact_id": "ct-1", "fields": {"email": "a@acme.test"}}, crm_task)
	allowed(ok)
	bad := request(carol, direct_agent("crm-sync"), call("crm", "contacts.update"), {"contact_id": "ct-1", "fields": {"credit_limit": 1000000}}, crm_task)
	denied_with(bad, "parameters.unexpected_key")
}

test_reply_length_is_bounded if {
	chunks := [s | some _ in numbers.range(1, 401); s := "0123456789"]
	long := concat("", chunks)
	doc := request(alice, direct_agent("support-bot"), call("support", "tickets.reply"), {"ticket_id": "T-100", "body": long}, support_task)
	denied_with(doc, "parameters.too_long")
}

test_listing_a_tool_skips_argument_rules if {
	listing := {"server": "billing", "name": "refunds.create", "method": "tools/list"}
	allowed(request(bob, direct_agent("billing-bot"), listing, {}, refund_task))
}
