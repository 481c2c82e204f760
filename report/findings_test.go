package report

import (
	"slices"
	"testing"
	"time"
)

func TestFindings(t *testing.T) {
	var g Findings
	fail := func(rule string) Scenario { return Scenario{RuleID: rule, Outcome: Failed} }
	g.Count("a", Finding{Title: "A", Detail: "fix a", Failed: 9, Rules: []string{"x"}}, fail("r1"))
	g.Count("b", Finding{Title: "B"}, Scenario{RuleID: "r3", Outcome: NotGraded})
	g.Count("b", Finding{Title: "ignored"}, Scenario{RuleID: "r4", Outcome: NotGraded})
	g.Count("b", Finding{Title: "ignored"}, fail("r2"))
	g.Count("a", Finding{Title: "ignored"}, fail("r1"))
	got := g.Sorted()
	want := []Finding{
		{Title: "B", Rules: []string{"r2"}, Failed: 1, NotGraded: 2},
		{Title: "A", Detail: "fix a", Rules: []string{"r1"}, Failed: 2},
	}
	if len(got) != len(want) {
		t.Fatalf("Sorted() = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i].Title != want[i].Title || got[i].Detail != want[i].Detail || !slices.Equal(got[i].Rules, want[i].Rules) ||
			got[i].Failed != want[i].Failed || got[i].NotGraded != want[i].NotGraded {
			t.Errorf("finding %d = %+v, want %+v", i, got[i], want[i])
		}
	}
}

func TestDurationRange(t *testing.T) {
	for _, tc := range []struct {
		ds   []time.Duration
		want string
	}{
		{[]time.Duration{4040 * time.Millisecond}, "about 4s"},
		{[]time.Duration{4 * time.Second, 4900 * time.Millisecond}, "about 4s"},
		{[]time.Duration{3800 * time.Millisecond, 5210 * time.Millisecond}, "between 3.8s and 5.2s"},
	} {
		if got := DurationRange(tc.ds); got != tc.want {
			t.Errorf("DurationRange(%v) = %q, want %q", tc.ds, got, tc.want)
		}
	}
}
