# Control 1: identity continuity. The human on whose behalf an agent calls a tool must be present and
# verified, and must be the same human all the way down the delegation chain. A missing or only
# asserted user is denied unless the catalog marks the tool public; an invalid token is always denied.
package mcp.authz

user_present if {
	is_string(input.user.id)
	input.user.id != ""
}

user_invalid if input.user.assurance == "invalid"

user_token_verified if {
	input.user.verified == true
	input.user.assurance == "verified"
}

# The id the enforcement point names must be the subject of the verified token.
user_subject_mismatch if {
	user_present
	is_string(input.user.claims.sub)
	input.user.claims.sub != input.user.id
}

# The principal the agent's delegation works for (`on_behalf_of`: the token's subject under RFC 8693,
# or the user an agent-subject token names) must be the user of this request, or an agent could carry
# one user's delegation into another user's call.
chain_user_mismatch if {
	principal := input.agent.on_behalf_of
	not principal == input.user.id
}

user_verified if {
	user_present
	user_token_verified
	not user_subject_mismatch
}

user_tenant := input.user.claims.tenant if user_verified

user_roles contains role if {
	user_verified
	some role in input.user.claims.roles
	is_string(role)
}

identity_established if {
	user_verified
	not chain_user_mismatch
}

identity_established if {
	tool_is_public
	not user_invalid
	not user_subject_mismatch
	not chain_user_mismatch
}

default user_label := "the user"

user_label := input.user.id if user_present

deny contains {"code": "identity.user_invalid", "message": msg} if {
	user_invalid
	msg := sprintf("the token of %s failed verification", [user_label])
}

deny contains {"code": "identity.user_missing", "message": msg} if {
	not user_present
	not user_invalid
	not tool_is_public
	msg := sprintf("%s acts for a user, and the request names none", [tool_label])
}

deny contains {"code": "identity.user_unverified", "message": msg} if {
	user_present
	not user_invalid
	not user_token_verified
	not tool_is_public
	msg := sprintf("%s is only asserted, not verified by a token; %s needs a verified user", [user_label, tool_label])
}

deny contains {"code": "identity.user_mismatch", "message": msg} if {
	user_subject_mismatch
	msg := sprintf("the request names %s but the token's subject is %v", [user_label, input.user.claims.sub])
}

deny contains {"code": "identity.chain_user_mismatch", "message": msg} if {
	chain_user_mismatch
	msg := sprintf("the agent's delegation works for %v, not for %s", [input.agent.on_behalf_of, user_label])
}
