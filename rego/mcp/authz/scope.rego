# Control 3: the task scope. Every call is checked against the task the user approved: the tool must
# match one of the scope's patterns, its data domain must be in the scope, and the scope must be
# signed (when the estate requires it) and unexpired. The user's roles bound what a task can grant:
# an agent never gets more than the user it works for.
package mcp.authz

task_scope := input.task.scope if is_object(input.task.scope)

default task_label := "the task"

task_label := sprintf("task %v", [input.task.id]) if is_string(input.task.id)

task_signed if input.task.assurance == "verified"

task_signed if data.estate.settings.require_verified_task == false

# A task expires at the scope's expires_at and at the signed task token's own expiry
# (input.task.expires_at); every expiry given must lie ahead, and there must be at least one.
task_expiry contains ns if ns := time.parse_rfc3339_ns(task_scope.expires_at)

task_expiry contains ns if ns := time.parse_rfc3339_ns(input.task.expires_at)

expiry_unreadable if {
	stamp := task_scope.expires_at
	not time.parse_rfc3339_ns(stamp)
}

expiry_unreadable if {
	stamp := input.task.expires_at
	not time.parse_rfc3339_ns(stamp)
}

scope_unexpired if {
	count(task_expiry) > 0
	not expiry_unreadable
	now := time.now_ns()
	every ns in task_expiry {
		now < ns
	}
}

scope_allows_tool if {
	some pattern in task_scope.tools
	is_string(pattern)
	glob.match(pattern, ["/"], tool_ref)
}

default scope_domains := []

scope_domains := task_scope.data_domains if is_array(task_scope.data_domains)

scope_allows_domain if catalog_tool.domain in scope_domains

roles_granting_tool contains role if {
	some role in user_roles
	some pattern in data.estate.roles[role].tools
	glob.match(pattern, ["/"], tool_ref)
}

user_entitled if count(roles_granting_tool) > 0

user_entitled if tool_is_public

scope_permits if {
	task_signed
	scope_unexpired
	scope_allows_tool
	scope_allows_domain
	user_entitled
}

deny contains {"code": "task.missing", "message": msg} if {
	not task_scope
	msg := "no approved task scope: every call must belong to a task the user approved"
}

deny contains {"code": "task.unverified", "message": msg} if {
	task_scope
	not task_signed
	msg := sprintf("the scope of %s is not backed by a verified task token", [task_label])
}

deny contains {"code": "task_scope.no_expiry", "message": msg} if {
	task_scope
	count(task_expiry) == 0
	msg := sprintf("%s has no expires_at", [task_label])
}

deny contains {"code": "task_scope.no_expiry", "message": msg} if {
	expiry_unreadable
	msg := sprintf("an expires_at of %s is not an RFC 3339 time", [task_label])
}

deny contains {"code": "task_scope.expired", "message": msg} if {
	some ns in task_expiry
	ns <= time.now_ns()
	msg := sprintf("%s has expired", [task_label])
}

deny contains {"code": "task_scope.tool_not_granted", "message": msg} if {
	task_scope
	not scope_allows_tool
	msg := sprintf("%s is outside %s", [tool_label, task_label])
}

deny contains {"code": "task_scope.domain_not_granted", "message": msg} if {
	task_scope
	catalog_tool
	not scope_allows_domain
	msg := sprintf("%s touches the %v data domain, which %s does not include", [tool_label, catalog_tool.domain, task_label])
}

deny contains {"code": "role.tool_not_granted", "message": msg} if {
	user_verified
	catalog_tool
	not user_entitled
	msg := sprintf("no role of %s grants %s", [user_label, tool_label])
}
