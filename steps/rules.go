package steps

// The rule IDs the steps name: a precondition that fails needs the rule
// its behaviour belongs to. They are the @rule: tags of the features.
const (
	ruleValidName     = "joining.valid-name"
	ruleInvalidName   = "joining.invalid-name"
	ruleDuplicate     = "duplicates.refused"
	ruleToOthers      = "messages.to-others"
	ruleTooLong       = "messages.too-long"
	ruleListOnJoin    = "presence.list-on-join"
	ruleListToJoiner  = "presence.list-to-joiner"
	ruleKeepAlive     = "heartbeat.keep-alive"
	ruleUnknown       = "errors.unknown"
	ruleJoinedNoReply = "heartbeat.no-reply"
)

// Causes group outcomes with one root cause in the report's findings.
const (
	causeRefusesValid = "refuses-valid"      // the server refuses a valid JOIN (full, or refuses everyone)
	causeHeartbeat    = "heartbeat-too-slow" // the server dropped a client that kept sending IMAV
)
