# Control 4: layer-7 parameter rules. The catalog describes each tool's arguments; every argument of a
# call is checked against it. Amounts and record counts are capped by both the task scope and the
# user's roles, tenant-owned records and exports must stay in the user's own tenant, and values follow
# the catalog's types, enumerations, patterns and ranges. Arguments the catalog does not know are denied.
#
# Constraint specs (data.estate.catalog[server].tools[name].parameters[arg]):
#   type            "string" | "number" | "boolean" | "array" | "object"
#   required        true: the argument must be present (and not null)
#   enum            allowed values
#   pattern         regular expression the string must match (write it anchored: ^…$)
#   max_length      longest allowed string
#   min, max        numeric range
#   bounded_by      name of a cap (e.g. "max_amount") that task.scope.constraints and the user's
#                   role limits must both set, and the value must not exceed either
#   own_tenant      true: the value must be the user's own tenant
#   tenant_owned    directory kind ("customers", …): the record must belong to the user's tenant
#   allowed_keys    for objects: the keys the argument may contain
#   approval_above  a value above this needs a person's verified approval (grants.rego, approval.rego)
package mcp.authz

default arguments := {}

arguments := input.parameters if is_object(input.parameters)

default param_specs := {}

param_specs := catalog_tool.parameters if is_object(catalog_tool.parameters)

# The arguments the value checks below apply to: those of a call, a null counting as absent.
call_arguments := {name: value |
	is_call
	some name, value in arguments
	value != null
}

has_argument(name) if arguments[name] != null

scope_constraints := task_scope.constraints if is_object(task_scope.constraints)

# The largest limit among the roles that grant this tool (undefined when none sets one).
role_limit(cap) := max(limits) if {
	limits := [limit | some role in roles_granting_tool; limit := data.estate.roles[role].limits[cap]; is_number(limit)]
	count(limits) > 0
}

matches_pattern(pattern, value) if {
	is_string(value)
	regex.match(pattern, value)
}

# The task's cap of that name, when it is a number.
scope_limit(cap) := limit if {
	limit := scope_constraints[cap]
	is_number(limit)
}

record_in_user_tenant(kind, id) if {
	is_string(id)
	data.estate.directory[kind][id].tenant == user_tenant
}

deny contains {"code": "parameters.malformed", "message": msg} if {
	is_call
	params := input.parameters
	not is_object(params)
	msg := sprintf("the arguments of %s are not an object", [tool_label])
}

deny contains {"code": "parameters.unexpected", "message": msg} if {
	is_call
	catalog_tool
	some name, _ in arguments
	not param_specs[name]
	msg := sprintf("%s takes no argument %v", [tool_label, name])
}

deny contains {"code": "parameters.missing", "message": msg} if {
	is_call
	some name, spec in param_specs
	spec.required == true
	not has_argument(name)
	msg := sprintf("%s needs the argument %v", [tool_label, name])
}

deny contains {"code": "parameters.wrong_type", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_string(spec.type)
	type_name(value) != spec.type
	msg := sprintf("%v must be a %v, got a %v", [name, spec.type, type_name(value)])
}

deny contains {"code": "parameters.not_allowed_value", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_array(spec.enum)
	not value in spec.enum
	msg := sprintf("%v=%v is not one of %v", [name, value, spec.enum])
}

deny contains {"code": "parameters.pattern_mismatch", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_string(spec.pattern)
	not matches_pattern(spec.pattern, value)
	msg := sprintf("%v=%v does not match %v", [name, value, spec.pattern])
}

deny contains {"code": "parameters.too_long", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_number(spec.max_length)
	is_string(value)
	count(value) > spec.max_length
	msg := sprintf("%v is %d characters long; at most %v are allowed", [name, count(value), spec.max_length])
}

deny contains {"code": "parameters.out_of_range", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_number(spec.min)
	is_number(value)
	value < spec.min
	msg := sprintf("%v=%v is below the minimum of %v", [name, value, spec.min])
}

deny contains {"code": "parameters.out_of_range", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_number(spec.max)
	is_number(value)
	value > spec.max
	msg := sprintf("%v=%v is above the maximum of %v", [name, value, spec.max])
}

deny contains {"code": "parameters.scope_limit_missing", "message": msg} if {
	some name, _ in call_arguments
	spec := param_specs[name]
	cap := spec.bounded_by
	not scope_limit(cap)
	msg := sprintf("%v needs a %v constraint in %s, and it sets none", [name, cap, task_label])
}

deny contains {"code": "parameters.exceeds_scope_limit", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	limit := scope_constraints[spec.bounded_by]
	is_number(limit)
	not value <= limit
	msg := sprintf("%v=%v exceeds %s's %v of %v", [name, value, task_label, spec.bounded_by, limit])
}

deny contains {"code": "parameters.role_limit_missing", "message": msg} if {
	some name, _ in call_arguments
	spec := param_specs[name]
	cap := spec.bounded_by
	not role_limit(cap)
	msg := sprintf("no role of %s sets a %v for %s", [user_label, cap, tool_label])
}

deny contains {"code": "parameters.exceeds_role_limit", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	limit := role_limit(spec.bounded_by)
	not value <= limit
	msg := sprintf("%v=%v exceeds the %v of %v that %s's roles allow", [name, value, spec.bounded_by, limit, user_label])
}

deny contains {"code": "parameters.foreign_tenant", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	spec.own_tenant == true
	not value == user_tenant
	msg := sprintf("%v=%v is not the tenant of %s", [name, value, user_label])
}

deny contains {"code": "parameters.foreign_record", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	kind := spec.tenant_owned
	not record_in_user_tenant(kind, value)
	msg := sprintf("%v=%v is not one of the %v of %s's tenant", [name, value, kind, user_label])
}

deny contains {"code": "parameters.unexpected_key", "message": msg} if {
	some name, value in call_arguments
	spec := param_specs[name]
	is_array(spec.allowed_keys)
	is_object(value)
	some key, _ in value
	not key in spec.allowed_keys
	msg := sprintf("%v may not set %v", [name, key])
}
