# Control 7: a fresh human approval for high-risk calls. A call that grants.rego finds worth a person's
# confirmation (a high-risk or destructive tool, an amount above the catalog's `approval_above`) is
# allowed only with an approval the PDP has verified itself: signed with the PDP's key, unexpired, for
# exactly this call (the action digest: server, tool, parameters, user, agent, task) and approved by the
# person the call is for. `input.approval` is set only by that verification, never from the request body.
#
#   input.approval   .verified (true only when all of the above held), .approved_by, .approved_at, .jti,
#                    .error {reason, message} when a token was given but refused
#
# Without one, the answer is a deny `approval.required` whose `summary` the PDP shows on its approval page,
# next to the link in the answer's `approval_request` (docs/approvals.md).
package mcp.authz

# Listing a tool asks only whether it may be offered; the person approves the concrete call.
approval_needed if {
	is_call
	count(approval_reasons) > 0
}

approval_verified if {
	input.approval.verified == true
	input.approval.approved_by == input.user.id
}

default approval_satisfied := false

approval_satisfied if not approval_needed

approval_satisfied if approval_verified

approval_explanation := concat("; ", sort([m | some m in approval_reasons]))

# What the person reads on the approval page: who, what, with which arguments, and why it needs them.
approval_summary := sprintf("%s asks to call %s for %s with %s (%s)", [
	actor_label,
	tool_label,
	user_label,
	json.marshal(arguments),
	approval_explanation,
])

default approval_refusal := ""

approval_refusal := sprintf("; the approval given was refused: %v", [input.approval.error.message]) if {
	not approval_verified
	is_string(input.approval.error.message)
}

approval_reason := {
	"code": "approval.required",
	"message": sprintf("%s needs a fresh approval by %s: %s%s", [tool_label, user_label, approval_explanation, approval_refusal]),
	"summary": approval_summary,
}
