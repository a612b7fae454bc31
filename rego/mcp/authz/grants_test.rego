# Control 5: explicit grants for side effects, and obligations on high-risk calls.
package mcp.authz_test


delete_contact := call("crm", "contacts.delete")

test_write_without_grant_is_denied if {
	read_only := task(["billing/refunds.*"], ["billing"], {"max_amount": 200}, [])
	doc := request(bob, direct_agent("billing-bot"), refund, {"customer_id": "c-1001", "amount": 10, "currency": "EUR"}, read_only)
	denied_with(doc, "grant.write_required")
}

test_destructive_without_grant_is_denied if {
	doc := request(carol, direct_agent("crm-sync"), delete_contact, {"contact_id": "ct-1"}, crm_task)
	denied_with(doc, "grant.destructive_required")
}

test_destructive_with_grant_needs_approval if {
	granted := task(["crm/*"], ["crm"], {}, ["write", "destructive"])
	d := decide(request(carol, direct_agent("crm-sync"), delete_contact, {"contact_id": "ct-1"}, granted))
	d.allow == true
	count(d.obligations.require_approval.reasons) > 0
}

test_annotation_can_tighten_a_read_tool if {
	tool := {"server": "support", "name": "tickets.read", "method": "tools/call", "annotations": {"readOnlyHint": false}}
	no_write := task(["support/*"], ["support"], {}, [])
	denied_with(request(alice, direct_agent("support-bot"), tool, {"ticket_id": "T-100"}, no_write), "grant.write_required")
}

test_destructive_annotation_needs_destructive_grant if {
	tool := {"server": "support", "name": "tickets.reply", "method": "tools/call", "annotations": {"destructiveHint": true}}
	doc := request(alice, direct_agent("support-bot"), tool, {"ticket_id": "T-100", "body": "done"}, support_task)
	denied_with(doc, "grant.destructive_required")
}

test_annotation_cannot_loosen_a_write_tool if {
	tool := {"server": "support", "name": "tickets.reply", "method": "tools/call", "annotations": {"readOnlyHint": true}}
	no_write := task(["support/*"], ["support"], {}, [])
	denied_with(request(alice, direct_agent("support-bot"), tool, {"ticket_id": "T-100", "body": "done"}, no_write), "grant.write_required")
}

test_small_refund_has_no_obligation if {
	d := decide(refund_request(80))
	d.allow == true
	d.obligations == {}
}

test_refund_above_threshold_requires_approval if {
	d := decide(refund_request(150))
	d.allow == true
	some reason in d.obligations.require_approval.reasons
	contains(reason, "amount=150")
}

test_export_requires_approval_and_redaction if {
	d := decide(request(bob, direct_agent("billing-bot"), invoice_export, {"tenant": "acme", "max_records": 50}, refund_task))
	d.allow == true
	d.obligations.redact_fields == ["iban", "card_last4"]
	count(d.obligations.require_approval.reasons) == 1
}

test_pii_role_sees_unredacted_contacts if {
	d := decide(request(carol, direct_agent("crm-sync"), call("crm", "contacts.export"), {"tenant": "acme", "max_records": 100}, crm_task))
	d.allow == true
	not d.obligations.redact_fields
	d.obligations.require_approval
}

test_search_is_redacted_for_support if {
	d := decide(request(alice, direct_agent("support-bot"), call("crm", "contacts.search"), {"query": "smith"}, support_task))
	d.allow == true
	d.obligations == {"redact_fields": ["email", "phone"]}
}

test_denied_call_carries_no_obligation if {
	d := decide(refund_request(250))
	d.allow == false
	d.obligations == {}
}
