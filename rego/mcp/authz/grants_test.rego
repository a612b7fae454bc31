# Control 5: explicit grants for side effects, and obligations on high-risk calls.
package mcp.authz_test

import data.mcp.authz


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
	doc := request(carol, direct_agent("crm-sync"), delete_contact, {"contact_id": "ct-1"}, granted)
	denied_with(doc, "approval.required")
	allowed(approved(doc))
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
	d.allow == false
	[reason] := d.reasons
	reason.code == "approval.required"
	contains(reason.message, "amount=150")
	contains(reason.summary, "billing/refunds.create")
	contains(reason.summary, `"amount":150`)
}

test_verified_approval_lets_the_refund_through if {
	d := decide(approved(refund_request(150)))
	d.allow == true
	d.obligations == {}
}

test_unverified_approval_is_no_approval if {
	doc := object.union(refund_request(150), {"approval": {"verified": false, "error": {"reason": "digest_mismatch", "message": "approves another call"}}})
	d := decide(doc)
	d.allow == false
	contains(d.reasons[0].message, "approves another call")
}

test_approval_by_another_person_is_no_approval if {
	doc := object.union(refund_request(150), {"approval": {"verified": true, "approved_by": "u-alice", "jti": "a-1"}})
	denied_with(doc, "approval.required")
}

test_no_approval_is_asked_for_a_call_denied_anyway if {
	d := decide(refund_request(250))
	d.allow == false
	not "approval.required" in {r.code | some r in d.reasons}
}

test_listing_a_high_risk_tool_needs_no_approval if {
	listing := object.union(refund_request(150), {"tool": {"method": "tools/list"}})
	allowed(listing)
}

test_export_requires_approval_and_redaction if {
	doc := request(bob, direct_agent("billing-bot"), invoice_export, {"tenant": "acme", "max_records": 50}, refund_task)
	denied_with(doc, "approval.required")
	d := decide(approved(doc))
	d.allow == true
	d.obligations.redact_fields == ["iban", "card_last4"]
}

test_pii_role_sees_unredacted_contacts if {
	doc := request(carol, direct_agent("crm-sync"), call("crm", "contacts.export"), {"tenant": "acme", "max_records": 100}, crm_task)
	denied_with(doc, "approval.required")
	d := decide(approved(doc))
	d.allow == true
	not d.obligations.redact_fields
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

# ------------------------------------------------------------------ personal data in results

# The gap the demo showed: a support agent's refund lookup returned the customer's IBAN.
test_refund_lookup_is_redacted_for_support if {
	d := decide(lookup_request)
	d == {"allow": true, "reasons": [], "obligations": {"redact_fields": ["iban"]}}
}

test_ticket_read_is_redacted_for_support if {
	d := decide(request(alice, direct_agent("support-bot"), call("support", "tickets.read"), {"ticket_id": "T-100"}, support_task))
	d.allow == true
	d.obligations == {"redact_fields": ["customer_email"]}
}

# A finance role allowed to see payment details: same lookup, nothing to redact.
pii_roles := object.union(data.estate.roles, {"billing_auditor": {"tools": ["billing/refunds.lookup"], "see_pii": true}})

test_pii_role_sees_unredacted_refunds if {
	auditor := verified_user("u-alice", "acme", ["support_agent", "billing_auditor"], "support-bot")
	doc := request(auditor, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	d := authz.decision with input as doc with data.estate.roles as pii_roles
	d == {"allow": true, "reasons": [], "obligations": {}}
}

# see_pii comes with the role that grants the tool: a CRM administrator's right to see contacts
# does not extend to the billing data she can reach as a support agent.
test_see_pii_of_another_tool_does_not_unredact if {
	both := verified_user("u-alice", "acme", ["support_agent", "crm_admin"], "support-bot")
	doc := request(both, direct_agent("support-bot"), lookup, {"customer_id": "c-1001"}, refund_task)
	d := decide(doc)
	d.allow == true
	d.obligations.redact_fields == ["iban"]
}

# Every tool of every catalog, offered to a role that grants everything: the obligation is exactly
# the catalog's pii_fields (same fields, same order), and absent when the tool has none. A tool added
# without pii_fields fails here.
everything_task := task(["*/*"], ["billing", "crm", "support", "public"], {}, ["write", "destructive"])

listing(server, name) := request(
	verified_user("u-erin", "acme", ["viewer"], "nobody"),
	direct_agent("planner"),
	{"server": server, "name": name, "method": "tools/list", "annotations": {}},
	{},
	everything_task,
)

redaction_is(obligations, fields) if {
	count(fields) > 0
	obligations.redact_fields == fields
}

redaction_is(obligations, fields) if {
	count(fields) == 0
	not obligations.redact_fields
}

test_redaction_lists_exactly_the_catalog_fields if {
	count(data.estate.catalog) >= 3
	every server, entry in data.estate.catalog {
		every name, spec in entry.tools {
			d := authz.decision with input as listing(server, name) with data.estate.roles as {"viewer": {"tools": ["*/*"]}}
			d.allow == true
			redaction_is(d.obligations, spec.pii_fields)
		}
	}
}

test_pii_role_gets_no_redaction_on_any_tool if {
	every server, entry in data.estate.catalog {
		every name, _ in entry.tools {
			d := authz.decision with input as listing(server, name) with data.estate.roles as {"viewer": {"tools": ["*/*"], "see_pii": true}}
			d.allow == true
			not d.obligations.redact_fields
		}
	}
}

# A malformed catalog entry is refused, never half-redacted.
lookup_entry := data.estate.catalog.billing.tools["refunds.lookup"]

with_lookup_entry(extra) := {"refunds.lookup": object.union(lookup_entry, extra)}

test_pii_fields_must_be_a_list_of_names if {
	d1 := authz.decision with input as lookup_request with data.estate.catalog.billing.tools as with_lookup_entry({"pii_fields": "iban"})
	d1.allow == false
	"catalog.bad_pii_fields" in {r.code | some r in d1.reasons}
	d2 := authz.decision with input as lookup_request with data.estate.catalog.billing.tools as with_lookup_entry({"pii_fields": ["iban", ""]})
	d2.allow == false
	"catalog.bad_pii_fields" in {r.code | some r in d2.reasons}
	d3 := authz.decision with input as lookup_request with data.estate.catalog.billing.tools as with_lookup_entry({"pii_fields": ["iban", 7]})
	d3.allow == false
	d3.obligations == {}
}

# A catalog still written with the old key would otherwise lose its redaction silently.
test_legacy_redact_fields_key_is_refused if {
	d := authz.decision with input as lookup_request with data.estate.catalog.billing.tools as with_lookup_entry({"redact_fields": ["iban"]})
	d.allow == false
	"catalog.bad_pii_fields" in {r.code | some r in d.reasons}
}

test_tool_without_pii_fields_has_no_redaction if {
	entry := object.remove(lookup_entry, ["pii_fields"])
	d := authz.decision with input as lookup_request with data.estate.catalog.billing.tools as {"refunds.lookup": entry}
	d.allow == true
	d.obligations == {}
}
