package model

import (
	"bytes"
	"io"
	"testing"
)

// A pattern that straddles a window boundary must still be seen whole.
func TestEachWindowKeepsOverlap(t *testing.T) {
	const chunk, overlap = 64, 16
	pat := []byte("EagerPyFunc")
	for at := 0; at < 3*chunk; at++ {
		data := bytes.Repeat([]byte{'.'}, 3*chunk+len(pat))
		copy(data[at:], pat)
		seen, total := false, 0
		eachWindow(io.NewSectionReader(bytes.NewReader(data), 0, int64(len(data))), chunk, overlap, func(w []byte) {
			if len(w) > chunk+overlap {
				t.Fatalf("window of %d bytes, over chunk+overlap", len(w))
			}
			total += len(w)
			seen = seen || bytes.Contains(w, pat)
		})
		if !seen {
			t.Fatalf("pattern at offset %d not seen", at)
		}
		if total < len(data) {
			t.Fatalf("windows covered %d of %d bytes", total, len(data))
		}
	}
}
