package scan

import (
	"bufio"
	"errors"
	"io"
	"strings"
	"unicode/utf8"
)

const (
	// lineKeep is how much of one line is kept for snippets and directives;
	// the rest of a minified monster line is skipped, not buffered.
	lineKeep = 4096
	// snippetMax bounds a snippet in reports.
	snippetMax = 240
)

// eachLine streams r line by line (1-based), handing fn at most lineKeep
// bytes of each line. fn returns false to stop early.
func eachLine(r io.Reader, fn func(n int, line []byte) bool) error {
	br := bufio.NewReaderSize(r, lineKeep)
	n := 0
	for {
		chunk, err := br.ReadSlice('\n')
		keep := chunk
		if errors.Is(err, bufio.ErrBufferFull) {
			// The buffer is reused by the next read: keep a copy.
			keep = append([]byte(nil), chunk...)
		}
		for errors.Is(err, bufio.ErrBufferFull) {
			// Skip the rest of an over-long line.
			_, err = br.ReadSlice('\n')
		}
		if len(keep) > 0 || err == nil {
			n++
			if !fn(n, trimEOL(keep)) {
				return nil
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

func trimEOL(b []byte) []byte {
	for len(b) > 0 && (b[len(b)-1] == '\n' || b[len(b)-1] == '\r') {
		b = b[:len(b)-1]
	}
	return b
}

// makeSnippet trims, redacts and bounds one source line.
func makeSnippet(line []byte, redact func(string) string) string {
	s := strings.TrimSpace(strings.ToValidUTF8(string(line), "\uFFFD"))
	if redact != nil {
		s = redact(s)
	}
	if len(s) > snippetMax {
		cut := snippetMax
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}
