package clientsteps

// The rule IDs the steps name: a precondition that fails needs the rule
// its behaviour belongs to. They are the @rule: tags of the features.
const (
	ruleJoinShape   = "client-joining.join-shape"
	ruleDataShape   = "client-messages.data-shape"
	ruleAtLeast     = "client-heartbeat.at-least"
	ruleDataShown   = "client-display.data-shown"
	causeNoStart    = "no-start"    // the command could not be started
	causeManualView = "manual-view" // manual mode: the suite cannot see the client's window
)
