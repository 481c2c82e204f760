package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chatspec/chatspec/bench"
)

// TestBaselineJSON runs the command against its own baseline server for a
// counted number of messages and checks the JSON it prints.
func TestBaselineJSON(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-baseline", "-lines", "4", "-clients", "5", "-senders", "2", "-messages", "10",
		"-settle", "-1ns", "-drain", "30s", "-json", "-q"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v\nstderr: %s", args, err, stderr.String())
	}
	var out struct {
		Target   *bench.Result `json:"target"`
		Baseline *bench.Result `json:"baseline"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &out); err != nil {
		t.Fatalf("output is not JSON: %v\n%s", err, stdout.String())
	}
	if out.Target != nil || out.Baseline == nil {
		t.Fatalf("target %v, baseline %v: want only a baseline", out.Target, out.Baseline)
	}
	if b := out.Baseline; b.Joined != 5 || b.Received != 5*2*10 || b.Lost != 0 {
		t.Errorf("joined %d received %d lost %d, want 5 100 0", b.Joined, b.Received, b.Lost)
	}
}

func TestReferenceTable(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-server", "reference", "-baseline", "-clients", "4", "-senders", "-1", "-messages", "3",
		"-settle", "-1ns", "-drain", "30s", "-q"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v\nstderr: %s", args, err, stderr.String())
	}
	for _, want := range []string{"reference", "baseline (16/write)", "ratio", "deliveries/s", "4/4"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("table lacks %q:\n%s", want, stdout.String())
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"-addr", "127.0.0.1:1", "-server", "reference"},
		{"-server", "other"},
		{"-baseline", "extra"},
		{"-baseline", "-clients", "1000000000"},
	} {
		var stdout, stderr bytes.Buffer
		if err := run(args, &stdout, &stderr); err == nil {
			t.Errorf("run %q succeeded, want an error", args)
		}
	}
}

// TestHTMLFile: -html writes the page beside the table.
func TestHTMLFile(t *testing.T) {
	file := filepath.Join(t.TempDir(), "run.html")
	var stdout, stderr bytes.Buffer
	args := []string{"-server", "reference", "-clients", "3", "-senders", "1", "-echo", "-probes", "1",
		"-messages", "5", "-settle", "-1ns", "-drain", "30s", "-q", "-html", file}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v\nstderr: %s", args, err, stderr.String())
	}
	page, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<!DOCTYPE html>", "<svg", "chatbench -server reference", "readers dropped"} {
		if !strings.Contains(string(page), want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if !strings.Contains(stdout.String(), "readers dropped") {
		t.Errorf("no table on standard output:\n%s", stdout.String())
	}
}

// TestSoakRows checks that -soak prints the over-time table (its rows
// depend on time, so only the header is checked).
func TestSoakRows(t *testing.T) {
	var stdout, stderr bytes.Buffer
	args := []string{"-baseline", "-clients", "3", "-senders", "1", "-rate", "100", "-soak", "300ms",
		"-interval", "100ms", "-settle", "-1ns", "-q"}
	if err := run(args, &stdout, &stderr); err != nil {
		t.Fatalf("run %q: %v\nstderr: %s", args, err, stderr.String())
	}
	for _, want := range []string{"over time:", "delivered/s", "missing", "in flight"} {
		if !strings.Contains(stdout.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, stdout.String())
		}
	}
}
