package report

import (
	"bytes"
	"html"
	"strings"
	"testing"
)

// TestLateFailure: a failure confirmed with longer waits says so, and
// says what to try if the target is only slow, in text and in HTML.
func TestLateFailure(t *testing.T) {
	r := richReport()
	for i := range r.Scenarios {
		if r.Scenarios[i].Outcome == Failed {
			r.Scenarios[i].Late = true
			break
		}
	}
	var buf bytes.Buffer
	if err := WriteText(&buf, r); err != nil {
		t.Fatalf("WriteText: %v", err)
	}
	page := html.UnescapeString(renderHTML(t, r))
	for name, out := range map[string]string{"text": buf.String(), "HTML": page} {
		for _, want := range []string{"alone with longer waits", "a longer -wait"} {
			if !strings.Contains(out, want) {
				t.Errorf("the %s report lacks %q", name, want)
			}
		}
	}
}
