package features

import "embed"

// Client holds the client suite's feature files, under client/: the
// rules a chat client is graded by, with the steps of package
// clientsteps. The conventions are the server features': one @rule:ID
// and one of @must and @should per scenario, the group being the
// feature's tag (@client-joining, @client-messages, @client-heartbeat,
// @client-quitting, @client-display, @client-robustness). Other tags:
//
//   - @slow: a heartbeat rule; it waits about two IMAV intervals.
//   - @quit-word: only graded when the client leaves by a typed word (the
//     end of input is then tested apart).
//   - @screen: judged by what the client prints; left out in manual mode,
//     where the suite cannot see a GUI client's window.
//
// Aliases in the text (alice, bob, ...) stand for fresh names of at most
// nine characters, typed by the suite as the user.
//
//go:embed client/*.feature
var Client embed.FS

// ClientOrder returns the client feature files, as Client names them, in
// the order of the reports.
func ClientOrder() []string {
	return []string{
		"client/joining.feature", "client/messages.feature", "client/heartbeat.feature",
		"client/quitting.feature", "client/display.feature", "client/robustness.feature",
	}
}
