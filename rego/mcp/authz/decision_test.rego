# Control 6: default deny, a reason for every deny, and the shape of the decision.
package mcp.authz_test


test_allowed_decision_shape if {
	d := decide(refund_request(80))
	d == {"allow": true, "reasons": [], "obligations": {}}
}

test_empty_input_is_denied_with_reasons if {
	d := decide({})
	d.allow == false
	count(d.reasons) > 0
	"catalog.unknown_tool" in codes({})
	"identity.user_missing" in codes({})
	"agent.missing" in codes({})
	"task.missing" in codes({})
}

test_unknown_tool_is_denied if {
	doc := request(alice, direct_agent("support-bot"), call("billing", "refunds.wipe_all"), {}, task(["billing/*"], ["billing"], {}, ["write", "destructive"]))
	denied_with(doc, "catalog.unknown_tool")
}

test_unknown_server_is_denied if {
	doc := request(alice, direct_agent("support-bot"), call("payroll", "salaries.read"), {}, task(["*/*"], ["payroll"], {}, []))
	denied_with(doc, "catalog.unknown_tool")
}

test_unsupported_method_is_denied if {
	tool := {"server": "billing", "name": "refunds.lookup", "method": "resources/read"}
	denied_with(request(alice, direct_agent("support-bot"), tool, {"customer_id": "c-1001"}, refund_task), "request.unsupported_method")
}

test_every_reason_has_code_and_message if {
	bad := [
		{},
		request(invalid_alice, null, lookup, {}, null),
		refund_request(250),
		request(bob, direct_agent("billing-bot"), invoice_export, {"tenant": "globex", "max_records": 5000}, refund_task),
	]
	every doc in bad {
		d := decide(doc)
		d.allow == false
		count(d.reasons) > 0
		every r in d.reasons {
			is_string(r.code)
			is_string(r.message)
			r.message != ""
		}
	}
}

test_reasons_name_the_tool_and_task if {
	doc := request(alice, direct_agent("support-bot"), invoice_export, {"tenant": "acme", "max_records": 10}, task(["billing/refunds.*"], ["billing"], {}, []))
	some r in decide(doc).reasons
	r.code == "task_scope.tool_not_granted"
	r.message == "billing/invoices.export is outside task t-7"
}
