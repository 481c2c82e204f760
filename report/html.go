package report

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io"
	"slices"
	"strings"
	"time"
)

//go:embed html.tmpl html.css palette.css
var htmlAssets embed.FS

// htmlTemplate is the page, parsed once; html/template escapes every value
// for where it lands, so a target's bytes can never become markup.
var htmlTemplate = template.Must(template.New("html.tmpl").Funcs(template.FuncMap{
	"label":    outcomeLabel,
	"class":    outcomeClass,
	"offset":   func(d time.Duration) template.HTML { return template.HTML(offset(d)) }, // digits, "+", "." and "s" only
	"seconds":  seconds,
	"quote":    func(b []byte) string { return QuoteBytes(b, len(b)) },
	"bytes":    entryHTML,
	"lateHint": func() string { return lateHint },
}).ParseFS(htmlAssets, "html.tmpl"))

// quotedHTML escapes what Go-quoted text can hold that HTML would read
// as markup. It leaves quotes alone: a transcript has thousands, and they
// land in element content, never in an attribute.
var quotedHTML = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;")

// entryHTML renders an entry's bytes for an element's content. The quoting
// leaves only printable, valid UTF-8, so escaping &, < and > is enough.
func entryHTML(e *Entry) template.HTML {
	return template.HTML(quotedHTML.Replace(QuoteBytes(e.Data, e.Size)))
}

// Palette is the colours of the grading pages (this report,
// chatgrade's class report): CSS custom properties (--pass, --fail,
// --warn, --ng, their backgrounds, text and lines), light and dark, for
// a page's style sheet to begin with so that the pages look alike.
func Palette() string { return palette }

// palette is read once, and only read after.
var palette = mustRead(htmlAssets, "palette.css")

// htmlCSS is the page's style sheet, inlined into every page.
var htmlCSS = template.CSS(palette + mustRead(htmlAssets, "html.css"))

func mustRead(fs embed.FS, name string) string {
	b, err := fs.ReadFile(name)
	if err != nil {
		panic(err) // the file is embedded: only a broken build gets here
	}
	return string(b)
}

// htmlPage is what the template shows: the report, and what follows from it
// in the order the page shows it.
type htmlPage struct {
	*Report
	CSS          template.CSS
	Verdict      Verdict
	VerdictClass string
	VerdictWhy   string
	Counts       Counts
	ShouldFailed string // "warned", or "failed" with Strict
	Started      string
	Findings     []htmlFinding // the report's, with links to their rules
	Features     []htmlFeature
}

// htmlFinding is a finding with links to its rules.
type htmlFinding struct {
	Finding
	Refs []htmlRef
}

// htmlRef names a rule, and says whether the page shows it: a link needs
// somewhere to land (a Needs may name a rule that was not selected).
type htmlRef struct {
	ID     string
	OnPage bool
}

// htmlFeature is one feature's rules, the worst first.
type htmlFeature struct {
	Name    string
	Anchor  string // "feature-1": a feature's name may hold spaces
	Outcome Outcome
	Tally   string // "1 failed, 2 passed"
	Rules   []htmlRule
}

// htmlRule is one rule and its outcome.
type htmlRule struct {
	Rule
	Outcome       Outcome
	Passed, Total int
	Shown         []htmlScenario // in full: for a rule that did not pass
}

// htmlScenario is a scenario of a rule that did not pass.
type htmlScenario struct {
	*Scenario
	Needs htmlRef
}

// WriteHTML writes r as one self-contained HTML page: inline style, no
// script, no fonts, nothing fetched, readable on a phone and on a desktop.
// The page gives the verdict and counts first, then what went wrong and the
// target's profile, then every rule grouped by feature, failures first;
// each scenario that did not pass shows its step, Expected, Actual or why
// it was not graded, and its transcript folded in a details element.
func WriteHTML(w io.Writer, r *Report) error {
	p := htmlPage{
		Report:       r,
		CSS:          htmlCSS,
		Verdict:      r.Verdict(),
		Counts:       r.Counts(),
		ShouldFailed: "warned",
	}
	p.VerdictClass, p.VerdictWhy = verdictWords(r, p.Verdict, p.Counts)
	if r.Strict {
		p.ShouldFailed = "failed"
	}
	if !r.Started.IsZero() {
		p.Started = r.Started.Format(time.RFC3339)
	}
	onPage := make(map[string]bool)
	for _, s := range r.Scenarios {
		onPage[s.RuleID] = true
	}
	for _, f := range r.Findings {
		hf := htmlFinding{Finding: f}
		for _, id := range f.Rules {
			hf.Refs = append(hf.Refs, htmlRef{id, onPage[id]})
		}
		p.Findings = append(p.Findings, hf)
	}
	p.Features = htmlFeatures(r, onPage)

	// Render to memory first: a template error leaves no half page behind.
	var buf bytes.Buffer
	if err := htmlTemplate.Execute(&buf, &p); err != nil {
		return fmt.Errorf("report: rendering HTML: %w", err)
	}
	if _, err := w.Write(buf.Bytes()); err != nil {
		return fmt.Errorf("report: writing HTML: %w", err)
	}
	return nil
}

// verdictWords returns the verdict's CSS class and a sentence that says
// why.
func verdictWords(r *Report, v Verdict, c Counts) (class, why string) {
	switch v {
	case Pass:
		if r.Strict {
			return "pass", "Every rule that was graded passed, SHOULD rules included."
		}
		return "pass", "Every MUST rule passed."
	case Fail:
		if r.Strict && c.ShouldFailed > 0 {
			if c.MustFailed == 0 {
				return "fail", fmt.Sprintf("%s failed (strict).", plural(c.ShouldFailed, "SHOULD scenario"))
			}
			return "fail", fmt.Sprintf("%d MUST and %s failed (strict).", c.MustFailed, plural(c.ShouldFailed, "SHOULD scenario"))
		}
		return "fail", fmt.Sprintf("%s failed.", plural(c.MustFailed, "MUST scenario"))
	case Incomplete:
		return "warn", fmt.Sprintf("Nothing failed, but %s could not be graded.", plural(c.MustNotGraded, "MUST scenario"))
	}
	return "ng", "Nothing could be graded."
}

// plural returns "1 scenario" or "3 scenarios".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// outcomeRank orders outcomes for the page: failures first.
func outcomeRank(o Outcome) int {
	switch o {
	case Failed:
		return 0
	case Warned:
		return 1
	case NotGraded:
		return 2
	}
	return 3
}

// htmlFeatures groups the rules by feature: the features with the worst
// rule first, and in each the rules failed, warned, not graded, then
// passed; the report's order otherwise.
func htmlFeatures(r *Report, onPage map[string]bool) []htmlFeature {
	var out []htmlFeature
	index := make(map[string]int)
	for _, rule := range r.Rules() {
		j, ok := index[rule.Feature]
		if !ok {
			j = len(out)
			index[rule.Feature] = j
			out = append(out, htmlFeature{Name: rule.Feature, Anchor: fmt.Sprintf("feature-%d", j+1), Outcome: Passed})
		}
		hr := htmlRule{Rule: rule, Outcome: rule.Outcome()}
		hr.Passed, hr.Total = rule.Tally()
		// Every scenario of a run that could grade nothing says the same:
		// the page says it once, above.
		if hr.Outcome != Passed && r.CannotGrade == nil {
			for _, s := range rule.Scenarios {
				hr.Shown = append(hr.Shown, htmlScenario{s, htmlRef{s.Needs, onPage[s.Needs]}})
			}
		}
		f := &out[j]
		f.Rules = append(f.Rules, hr)
		if outcomeRank(hr.Outcome) < outcomeRank(f.Outcome) {
			f.Outcome = hr.Outcome
		}
	}
	for i := range out {
		f := &out[i]
		slices.SortStableFunc(f.Rules, func(a, b htmlRule) int { return outcomeRank(a.Outcome) - outcomeRank(b.Outcome) })
		f.Tally = ruleTally(f.Rules)
	}
	slices.SortStableFunc(out, func(a, b htmlFeature) int { return outcomeRank(a.Outcome) - outcomeRank(b.Outcome) })
	return out
}

// ruleTally counts rules by outcome: "1 failed, 2 passed".
func ruleTally(rules []htmlRule) string {
	var n [4]int
	for _, r := range rules {
		n[outcomeRank(r.Outcome)]++
	}
	var parts []string
	for i, o := range [...]Outcome{Failed, Warned, NotGraded, Passed} {
		if n[i] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n[i], o))
		}
	}
	return strings.Join(parts, ", ")
}

// outcomeLabel is the word that marks an outcome, so that colour is never
// the only signal.
func outcomeLabel(o Outcome) string {
	switch o {
	case Passed:
		return "PASS"
	case Failed:
		return "FAIL"
	case Warned:
		return "WARN"
	}
	return "NOT GRADED"
}

// outcomeClass is an outcome's CSS class.
func outcomeClass(o Outcome) string {
	switch o {
	case Passed:
		return "pass"
	case Failed:
		return "fail"
	case Warned:
		return "warn"
	}
	return "ng"
}
