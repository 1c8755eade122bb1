package model

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestNpyHeaderMatchesNumpy compares the npy header reader with numpy's
// own (format._read_array_header) on real numpy.save output and generated
// variants: whenever numpy would find an object dtype (and unpickle the
// data), the scan must walk the data as a pickle or report MLG111; real
// numpy output must be judged exactly.
func TestNpyHeaderMatchesNumpy(t *testing.T) {
	out := filepath.Join(t.TempDir(), "npy.json")
	testenv.RunPython(t, filepath.Join("testdata", "npy_oracle.py"), nil, out)
	raw, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var cases []struct {
		Hex       string
		Numpy     string
		Canonical bool
	}
	if err := json.Unmarshal(raw, &cases); err != nil {
		t.Fatal(err)
	}
	counts := map[string]int{}
	for _, c := range cases {
		b, _ := hex.DecodeString(c.Hex)
		h, err := readNpyHeader(io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b))))
		got := "plain"
		switch {
		case err != nil:
			got = "unverified"
		case !h.loads:
			got = "refuse"
		case h.verdict == dtObject:
			got = "object"
		case h.verdict == dtUnknown:
			got = "unknown"
		}
		counts[c.Numpy+"->"+got]++
		hdr := string(b[min(len(b), 10):])
		switch {
		case c.Canonical && got != c.Numpy:
			t.Errorf("numpy.save output %q: numpy says %s, the reader %s (%v)", hdr, c.Numpy, got, err)
		case c.Numpy == "object" && got != "object" && got != "unknown" && got != "unverified":
			t.Errorf("%q: numpy unpickles this (object dtype), the reader says %s (%v)", hdr, got, err)
		case c.Numpy == "plain" && got == "object":
			t.Errorf("%q: numpy reads plain data, the reader would walk it as a pickle", hdr)
		}
	}
	t.Logf("%d headers, numpy->reader: %v", len(cases), counts)
}
