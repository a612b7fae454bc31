# Control 5: side effects need explicit approval. A tool that writes needs "write" in the task's
# grants, a destructive one "destructive". The catalog is the source of truth; the MCP server's own
# annotations can only make a tool stricter, never looser. High-risk calls are allowed with
# obligations the enforcement point must honour: require_approval (a human confirms first) and
# redact_fields (these fields are removed from the tool's result).
package mcp.authz

default scope_grants := []

scope_grants := task_scope.grants if is_array(task_scope.grants)

required_grants contains "write" if catalog_tool.access == "write"

required_grants contains "destructive" if catalog_tool.access == "destructive"

# The server says the tool is not read-only although the catalog files it as a read.
required_grants contains "write" if {
	catalog_tool.access == "read"
	input.tool.annotations.readOnlyHint == false
}

# MCP: destructiveHint is meaningful unless the tool is read-only.
required_grants contains "destructive" if {
	input.tool.annotations.destructiveHint == true
	not input.tool.annotations.readOnlyHint == true
}

grants_satisfied if {
	every grant in required_grants {
		grant in scope_grants
	}
}

deny contains {"code": code, "message": msg} if {
	some grant in required_grants
	not grant in scope_grants
	code := sprintf("grant.%s_required", [grant])
	msg := sprintf("%s needs an explicit %v grant in %s", [tool_label, grant, task_label])
}

# ------------------------------------------------------------------ obligations

approval_reasons contains msg if {
	catalog_tool.risk == "high"
	msg := sprintf("%s is a high-risk tool", [tool_label])
}

approval_reasons contains msg if {
	"destructive" in required_grants
	msg := sprintf("%s is destructive", [tool_label])
}

approval_reasons contains msg if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_number(spec.approval_above)
	is_number(value)
	value > spec.approval_above
	msg := sprintf("%v=%v is above the approval threshold of %v", [name, value, spec.approval_above])
}

user_sees_pii if {
	some role in roles_granting_tool
	data.estate.roles[role].see_pii == true
}

obligation.require_approval := {"reasons": [m | some m in approval_reasons]} if count(approval_reasons) > 0

obligation.redact_fields := catalog_tool.redact_fields if {
	count(catalog_tool.redact_fields) > 0
	not user_sees_pii
}
