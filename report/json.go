package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// jsonReport is the JSON document: the verdict and the counts first, for
// a reader or a jq filter, then the report's own fields. ReadJSON ignores
// the first two: they follow from the rest.
type jsonReport struct {
	Verdict Verdict    `json:"verdict"`
	Counts  jsonCounts `json:"counts"`
	*Report
}

// jsonCounts is Counts with snake_case names.
type jsonCounts struct {
	MustPassed      int `json:"must_passed"`
	MustFailed      int `json:"must_failed"`
	MustNotGraded   int `json:"must_not_graded"`
	ShouldPassed    int `json:"should_passed"`
	ShouldFailed    int `json:"should_failed"`
	ShouldNotGraded int `json:"should_not_graded"`
}

// WriteJSON writes r as indented JSON, with its verdict and counts first.
// The output is stable: the same report always gives the same bytes.
// Durations are integer nanoseconds (fields ending in _ns), times are
// RFC 3339, and transcript and sample bytes are base64, so that they
// survive exactly; text fields are UTF-8 (JSON has no other strings).
func WriteJSON(w io.Writer, r *Report) error {
	doc := jsonReport{
		Verdict: r.Verdict(),
		Counts:  jsonCounts(r.Counts()),
		Report:  r,
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false) // a file, not a page: keep "<" readable
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("report: writing JSON: %w", err)
	}
	return nil
}

// ErrNotReport is returned by ReadJSON for JSON that is not a report: not
// an object, or an object with no "scenarios".
var ErrNotReport = errors.New("report: not a chatspec report")

// ReadJSON reads a report written by WriteJSON. Fields it does not know
// are ignored, so that an older reader can read a newer report; anything
// after the report but white space is an error.
func ReadJSON(rd io.Reader) (*Report, error) {
	dec := json.NewDecoder(rd)
	var raw json.RawMessage
	if err := dec.Decode(&raw); err != nil {
		return nil, fmt.Errorf("report: reading JSON: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("report: reading JSON: data after the report (at byte %d)", dec.InputOffset())
	}
	var probe struct {
		Scenarios json.RawMessage `json:"scenarios"`
	}
	if err := json.Unmarshal(raw, &probe); err != nil {
		return nil, fmt.Errorf("%w: the JSON is not an object", ErrNotReport)
	}
	if len(probe.Scenarios) == 0 {
		return nil, fmt.Errorf(`%w: it has no "scenarios"`, ErrNotReport)
	}
	r := new(Report)
	if err := json.Unmarshal(raw, r); err != nil {
		return nil, fmt.Errorf("report: reading JSON: %w", err)
	}
	return r, nil
}
