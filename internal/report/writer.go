package report

import (
	"fmt"
	"strings"
)

// Options tune a writer. The zero value is plain output.
type Options struct {
	// Color enables ANSI colours in the text format; the caller decides
	// (terminal detection, NO_COLOR), the writer never guesses.
	Color bool
}

// New returns the writer for a --format value.
func New(format string, opts Options) (Writer, error) {
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text":
		return &Text{Color: opts.Color}, nil
	case "json":
		return &JSON{}, nil
	case "sarif":
		return &SARIF{}, nil
	}
	return nil, fmt.Errorf("unknown report format %q (valid: %s)", format, strings.Join(Formats, ", "))
}
