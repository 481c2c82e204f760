package conformance

import (
	"context"
	"encoding/xml"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chatspec/chatspec/engine"
	"github.com/chatspec/chatspec/protocol"
	"github.com/chatspec/chatspec/reference/chatserver"
	"github.com/chatspec/chatspec/report"
	"github.com/chatspec/chatspec/steps"
)

// TestReportFiles grades a broken server with the three report flags and
// checks that each file holds every scenario of the run, and that the JSON
// reads back into the same Report.
func TestReportFiles(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	rep, _ := grade(t, catalogued(t, "no-echo")[0], protocol.FramingLine, fastPass)
	dir := t.TempDir()
	f := &RunFlags{
		ReportJSON:  filepath.Join(dir, "r.json"),
		ReportHTML:  filepath.Join(dir, "r.html"),
		ReportJUnit: filepath.Join(dir, "r.xml"),
	}
	var text strings.Builder
	if err := f.WriteReports(&text, rep); err != nil {
		t.Fatal(err)
	}
	jf, err := os.Open(f.ReportJSON)
	if err != nil {
		t.Fatal(err)
	}
	defer jf.Close()
	back, err := report.ReadJSON(jf)
	if err != nil {
		t.Fatal(err)
	}
	if len(back.Scenarios) != len(rep.Scenarios) || back.Verdict() != rep.Verdict() {
		t.Errorf("JSON read back: %d scenarios, verdict %s; want %d, %s", len(back.Scenarios), back.Verdict(), len(rep.Scenarios), rep.Verdict())
	}
	html, err := os.ReadFile(f.ReportHTML)
	if err != nil {
		t.Fatal(err)
	}
	var junit struct {
		Suites []struct {
			Cases []struct {
				Name      string `xml:"name,attr"`
				ClassName string `xml:"classname,attr"`
			} `xml:"testcase"`
		} `xml:"testsuite"`
	}
	raw, err := os.ReadFile(f.ReportJUnit)
	if err != nil {
		t.Fatal(err)
	}
	if err := xml.Unmarshal(raw, &junit); err != nil {
		t.Fatal(err)
	}
	var cases []string
	for _, s := range junit.Suites {
		for _, c := range s.Cases {
			cases = append(cases, c.ClassName+" "+c.Name)
		}
	}
	for _, s := range rep.Scenarios {
		if !slices.Contains(cases, s.RuleID+" "+s.Name) {
			t.Errorf("JUnit lacks %s %q", s.RuleID, s.Name)
		}
		if !strings.Contains(string(html), s.RuleID) {
			t.Errorf("HTML lacks %s", s.RuleID)
		}
	}
	if !strings.Contains(text.String(), "messages.echo") || rep.Verdict() != report.Fail {
		t.Errorf("verdict %s; the text report should fail messages.echo:\n%s", rep.Verdict(), text.String())
	}
}

// TestFramingIsDetected grades the reference server in line and writeUTF
// framing, and a server that writes raw bytes, with -framing auto, and
// checks the framing each report's profile names.
func TestFramingIsDetected(t *testing.T) {
	skipWhenGrading(t)
	t.Parallel()
	rawSrv, err := catalogued(t, "raw-server")[0].Start(protocol.FramingLine, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rawSrv.Close() })
	for _, tt := range []struct {
		addr string
		want string
	}{
		{startReference(t, chatserver.Config{HeartbeatTimeout: time.Minute}), "lines"},
		{startReference(t, chatserver.Config{HeartbeatTimeout: time.Minute, Framing: protocol.FramingUTF}), "writeUTF"},
		{rawSrv.Addr(), "raw"},
	} {
		cfg := steps.Config{Addrs: []string{tt.addr}, Detect: true, Wait: 2500 * time.Millisecond}
		rep, err := engine.Run(context.Background(), ServerSuite(cfg), engine.Options{Rules: []string{"joining.valid-name"}})
		if err != nil {
			t.Fatal(err)
		}
		got := ""
		for _, f := range rep.Profile {
			if f.Name == "framing" {
				got = f.Value
			}
		}
		if !strings.HasPrefix(got, tt.want) || !rep.OK() {
			t.Errorf("%s: framing %q, verdict %s; want %s..., PASS", tt.addr, got, rep.Verdict(), tt.want)
		}
	}
}

// TestDeadlineIsChecked: a run whose -expiry needs more than the time left
// is refused before it starts, with the -timeout it needs.
func TestDeadlineIsChecked(t *testing.T) {
	cfg := steps.Config{Expiry: 15 * time.Minute}
	err := CheckDeadline(cfg, time.Now().Add(10*time.Minute))
	if err == nil || !strings.Contains(err.Error(), "-timeout") {
		t.Errorf("CheckDeadline(-expiry 15m, 10m left) = %v, want an error naming -timeout", err)
	}
	if err := CheckDeadline(steps.Config{Expiry: time.Minute}, time.Now().Add(10*time.Minute)); err != nil {
		t.Errorf("CheckDeadline(-expiry 1m, 10m left) = %v, want nil", err)
	}
}
