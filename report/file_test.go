package report

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWriteFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "r.txt")
	if err := WriteFile(path, func(w io.Writer) error { _, err := io.WriteString(w, "ok\n"); return err }); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "ok\n" {
		t.Errorf("the file holds %q (%v), want \"ok\\n\"", b, err)
	}
	broken := errors.New("broken")
	if err := WriteFile(path, func(io.Writer) error { return broken }); !errors.Is(err, broken) || !strings.Contains(err.Error(), path) {
		t.Errorf("a failed render: %v, want it, naming the file", err)
	}
	missing := filepath.Join(path, "no", "such")
	if err := WriteFile(missing, func(io.Writer) error { return nil }); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("an impossible path: %v, want an error naming it", err)
	}
}
