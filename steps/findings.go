package steps

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/report"
)

// Finish adds to the report what the run learned of the server (shapes
// seen, its timeout, clients it dropped) and the findings: the root
// causes of what failed and what could not be graded, the most
// far-reaching first.
func (s *Server) Finish(rep *report.Report) {
	s.mu.Lock()
	for _, kind := range slices.Sorted(maps.Keys(s.shapes)) {
		ss := s.shapes[kind]
		rep.Profile = append(rep.Profile, report.Fact{
			Name:   kind + " shape",
			Value:  fmt.Sprintf("%q (%s)", ss.example, ss.shape),
			Detail: fmt.Sprintf("%d frame(s) departed from the grammar's shape; the suite read them as %s for every rule but the one about their shape", ss.count, kind),
		})
	}
	if len(s.timeouts) > 0 {
		rep.Profile = append(rep.Profile, report.Fact{Name: "heartbeat timeout", Value: report.DurationRange(s.timeouts), Detail: "measured: how long after its last message a silent client was dropped"})
	}
	if len(s.refusals) > 0 {
		n, frames := 0, slices.Sorted(maps.Keys(s.refusals))
		for _, f := range frames {
			n += s.refusals[f]
		}
		rep.Profile = append(rep.Profile, report.Fact{
			Name:   "client limit",
			Value:  fmt.Sprintf("valid JOINs refused %d time(s): %q", n, frames[0]),
			Detail: "a JOIN of a fresh, valid name got no J_OK: a client limit reached (clients of earlier scenarios not yet removed?) or a server that refuses everyone; with a limit, grade with -godog.concurrency 1",
		})
	}
	if len(s.dropped) > 0 {
		rep.Profile = append(rep.Profile, report.Fact{
			Name:   "dropped while heartbeating",
			Value:  strings.Join(s.dropped, ", "),
			Detail: fmt.Sprintf("the server dropped clients that sent IMAV every %s: -heartbeat is probably longer than its timeout", s.cfg.Heartbeat),
		})
	}
	s.mu.Unlock()
	if s.framing == protocol.FramingRaw {
		f := report.Finding{
			Title: "The server frames nothing: it writes its messages with no delimiter, and takes each read() for one message",
			Detail: "TCP keeps no write boundaries: two messages that arrive together, or one that arrives in pieces, are lost or garbled, for this suite and for any client. " +
				"End every message with a line end (println, readLine) or use writeUTF/readUTF on both sides. The suite read the server as it is for every other rule.",
		}
		for _, sc := range rep.Scenarios {
			if sc.Group() == "framing" && (sc.Outcome == report.Failed || sc.Outcome == report.Warned) {
				f.Failed++
				f.Rules = append(f.Rules, sc.RuleID)
			}
		}
		rep.Findings = append(rep.Findings, f)
	}
	if s.prof.silent {
		f := report.Finding{
			Title:  "After J_OK nothing arrives on a client's connection: no LIST, no DATA",
			Detail: "Does the server send them elsewhere (another connection, UDP)? The assignment's server sends LIST and DATA to each client on that client's TCP connection. Every rule that needs a LIST or a DATA to arrive fails or is not graded because of it.",
		}
		for _, s := range rep.Scenarios {
			switch s.Outcome {
			case report.Failed, report.Warned:
				f.Failed++
				if !slices.Contains(f.Rules, s.RuleID) {
					f.Rules = append(f.Rules, s.RuleID)
				}
			case report.NotGraded:
				f.NotGraded++
			}
		}
		rep.Findings = append(rep.Findings, f)
	}
	rep.Findings = append(rep.Findings, findings(rep)...)
}

// findings groups the scenarios that did not pass by root cause: the
// server's death, a rule whose failure left others not graded, a cause key
// the steps named, and each failed rule on its own.
func findings(rep *report.Report) []report.Finding {
	explained := make(map[string]bool) // rule IDs an earlier finding names
	for _, f := range rep.Findings {
		for _, id := range f.Rules {
			explained[id] = true
		}
	}
	var out []report.Finding
	if st := rep.Stopped; st != nil {
		n := 0
		for _, s := range rep.Scenarios {
			if s.Outcome == report.NotGraded && s.Cause == engine.CauseStopped {
				n++
			}
		}
		out = append(out, report.Finding{
			Title:     "The server stopped answering: " + st.What,
			Detail:    st.Hint,
			NotGraded: n,
		})
	}
	names := make(map[string]string) // rule ID -> rule
	for _, s := range rep.Scenarios {
		names[s.RuleID] = s.Rule
	}
	var g report.Findings
	for _, s := range rep.Scenarios {
		switch {
		case s.Outcome == report.Passed, explained[s.RuleID]:
		case s.Outcome == report.NotGraded && s.Cause == engine.CauseStopped:
			// counted with the stop
		case s.Outcome == report.NotGraded && s.Cause != "":
			title, detail := causeText(s.Cause, s.Reason)
			g.Count("cause:"+s.Cause, report.Finding{Title: title, Detail: detail}, s)
		case s.Outcome == report.NotGraded && s.Needs != "":
			g.Count("needs:"+s.Needs, report.NeedsFinding(s.Needs, names[s.Needs]), s)
		case s.Outcome == report.NotGraded:
			g.Count("reason:"+s.Reason, report.Finding{Title: "Not graded: " + s.Reason}, s)
		case s.Cause != "":
			title, detail := causeText(s.Cause, s.Actual)
			g.Count("cause:"+s.Cause, report.Finding{Title: title, Detail: detail}, s)
		default:
			g.Count("rule:"+s.RuleID, report.Finding{Title: fmt.Sprintf("%s [%s] %s", s.RuleID, s.Level, s.Rule)}, s)
		}
	}
	return append(out, g.Sorted()...)
}

// causeText is the title and advice of a finding of a known cause.
func causeText(cause, example string) (title, detail string) {
	switch cause {
	case causeRefusesValid:
		return "The server refused a valid JOIN where a refusal was being tested",
			"A refusal proves nothing from a server that refuses everyone (is it full? does it allow few clients?): " + example
	case causeHeartbeat:
		return "The server dropped clients that kept sending IMAV",
			"-heartbeat is probably longer than the server's timeout: lower -heartbeat (or raise the server's timeout). " + example
	case "data-shape":
		return "DATA is relayed in another shape than \"DATA <name>: <text>\"",
			"Read leniently for every other rule; only messages.data-shape fails. " + example
	case "list-shape":
		return "LIST names are not separated by spaces alone",
			"Read leniently for every other rule; only presence.list-shape fails. " + example
	case "jer-shape":
		return "J_ER does not have the shape \"J_ER <code>: <text>\"",
			"Read leniently as J_ER for every other rule; only errors.jer-shape fails. " + example
	case "ok-shape":
		return "J_OK is not sent alone",
			"Read leniently as J_OK for every other rule; only joining.ok-shape fails. " + example
	case "greeting":
		return "Something arrives before J_OK", example
	case "refused":
		return "The suite could not connect", example
	}
	return cause, example
}
