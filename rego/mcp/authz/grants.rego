# Control 5: side effects need explicit approval. A tool that writes needs "write" in the task's
# grants, a destructive one "destructive". The catalog is the source of truth; the MCP server's own
# annotations can only make a tool stricter, never looser. High-risk calls need a person's fresh,
# verified approval (approval_reasons below; enforced in approval.rego). Allowed calls can carry the
# obligation redact_fields (these fields are removed from the tool's result) whenever the tool's result
# holds personal data the caller has no right to see.
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

# ------------------------------------------------------------------ what needs a person's approval

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

# ------------------------------------------------------------------ personal data in results
#
# The catalog names, per tool, the result fields that hold personal data (`pii_fields`, in the
# gateway's redact_fields syntax: a bare name at any depth, or a dotted path from the top). Every
# allowed call of such a tool is told to redact exactly those fields unless a role that grants the
# user this tool has `see_pii: true`. The right to see personal data comes with the role that grants
# the tool, so a CRM administrator who also works first-line support still gets billing data redacted.

user_sees_pii if {
	some role in roles_granting_tool
	data.estate.roles[role].see_pii == true
}

field_list_valid(fields) if {
	is_array(fields)
	every f in fields {
		is_string(f)
		f != ""
	}
}

# Defined only for a well-formed list; a malformed one is denied below instead of half-redacting.
default pii_fields := []

pii_fields := catalog_tool.pii_fields if field_list_valid(catalog_tool.pii_fields)

obligation.redact_fields := pii_fields if {
	count(pii_fields) > 0
	not user_sees_pii
}

deny contains {"code": "catalog.bad_pii_fields", "message": msg} if {
	fields := catalog_tool.pii_fields
	not field_list_valid(fields)
	msg := sprintf("the catalog entry of %s has pii_fields that are not a list of field names", [tool_label])
}

# Catalogs written before pii_fields listed the fields under redact_fields. Refuse rather than
# silently stop redacting them.
deny contains {"code": "catalog.bad_pii_fields", "message": msg} if {
	catalog_tool.redact_fields
	msg := sprintf("the catalog entry of %s uses redact_fields; list its personal result fields in pii_fields", [tool_label])
}
