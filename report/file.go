package report

import (
	"fmt"
	"io"
	"os"
)

// WriteFile creates (or truncates) the file at path and writes it with
// render, one of this package's writers or any other; a failed render
// or close is an error naming the file.
func WriteFile(path string, render func(io.Writer) error) error {
	f, err := os.Create(path)
	if err != nil {
		return err // *fs.PathError: it names the file
	}
	if err := render(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
