# Control 2: the agent. The current actor must be a registered, verified agent, allowed on this
# server, permitted to act for this user (the user's `may_act` or its registration), and reached
# through a delegation chain no deeper than configured. Only the current actor (element 0 of the
# chain) grants anything: earlier actors are recorded for audit and can neither help nor vouch.
package mcp.authz

default delegation := []

delegation := input.agent.delegation if is_array(input.agent.delegation)

delegation_malformed if {
	chain := input.agent.delegation
	not is_array(chain)
}

# (`not is_string(link.sub)` would be undefined, not true, for a link without a subject: a negation
# evaluates its reference arguments first.)
link_has_subject(link) if is_string(link.sub)

delegation_malformed if {
	some link in delegation
	not link_has_subject(link)
}

# The current actor: the outermost `act`, or the agent itself when there is no chain.
actor := delegation[0].sub if count(delegation) > 0

actor := input.agent.id if count(delegation) == 0

agent_present if {
	is_string(actor)
	actor != ""
}

default actor_label := "the agent"

actor_label := actor if agent_present

registration := data.estate.agents[actor]

agent_assurance_accepted if {
	input.agent.verified == true
	input.agent.assurance == "verified"
}

agent_assurance_accepted if {
	input.agent.assurance == "asserted"
	data.estate.settings.accept_asserted_agents == true
}

# The tighter of the estate-wide and the agent's own limit.
agent_depth_limited if is_number(registration.max_delegation_depth)

max_delegation_depth := min([data.estate.settings.max_delegation_depth, registration.max_delegation_depth]) if {
	agent_depth_limited
}

max_delegation_depth := data.estate.settings.max_delegation_depth if {
	not agent_depth_limited
}

delegation_within_depth if count(delegation) <= max_delegation_depth

actor_acts_for_user if input.user.claims.may_act.sub == actor

actor_acts_for_user if user_tenant in registration.acts_for_tenants

# Nobody to act for: a public tool called without a user.
actor_acts_for_user if {
	tool_is_public
	not user_verified
}

server_registered if input.tool.server in registration.servers

agent_permitted if {
	agent_present
	not delegation_malformed
	registration
	agent_assurance_accepted
	server_registered
	delegation_within_depth
	actor_acts_for_user
}

deny contains {"code": "agent.missing", "message": msg} if {
	not agent_present
	msg := "the request names no agent: every tool call must come from a registered agent"
}

deny contains {"code": "agent.invalid", "message": msg} if {
	input.agent.assurance == "invalid"
	msg := sprintf("the token of %s failed verification", [actor_label])
}

deny contains {"code": "agent.unverified", "message": msg} if {
	agent_present
	not agent_assurance_accepted
	not input.agent.assurance == "invalid"
	msg := sprintf("%s is not verified by a token", [actor_label])
}

deny contains {"code": "agent.unregistered", "message": msg} if {
	agent_present
	not registration
	msg := sprintf("%s is not a registered agent", [actor_label])
}

deny contains {"code": "agent.server_not_allowed", "message": msg} if {
	registration
	not server_registered
	msg := sprintf("%s is not registered for the %v server", [actor_label, input.tool.server])
}

deny contains {"code": "delegation.malformed", "message": msg} if {
	delegation_malformed
	msg := "the delegation chain is not a list of actors with a subject each"
}

deny contains {"code": "delegation.too_deep", "message": msg} if {
	agent_present
	not delegation_within_depth
	msg := sprintf("the delegation chain has %d actors; at most %v are allowed", [count(delegation), max_delegation_depth])
}

deny contains {"code": "delegation.not_permitted", "message": msg} if {
	registration
	not actor_acts_for_user
	msg := sprintf("%s may not act for %s: neither the user's may_act nor the agent's registration allows it", [actor_label, user_label])
}

