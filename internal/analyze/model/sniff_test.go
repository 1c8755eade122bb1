package model

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// Every byte CPython's unpickler can start a loading or importing pickle
// with must pass the first-byte filter; the oracle tries each byte with
// many continuations, a recording find_class and a persistent_load.
func TestPickleStartMatchesCPython(t *testing.T) {
	py := testenv.Python(t)
	out, err := exec.Command(py, filepath.Join("testdata", "pickle_start.py")).Output()
	if err != nil {
		t.Fatalf("pickle_start.py: %v\n%s", err, out)
	}
	var starts []int
	if err := json.Unmarshal(out, &starts); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(starts) < 20 {
		t.Fatalf("oracle found only %d start bytes: %v", len(starts), starts)
	}
	for _, b := range starts {
		if !pickleStart[b] {
			t.Errorf("CPython loads or imports from a pickle starting with 0x%02x; the filter drops it", b)
		}
	}
}

func TestMayBePickle(t *testing.T) {
	for _, c := range []struct {
		head string
		size int64
		want bool
	}{
		{"# title\n", 8, false},
		{"import os\n", 10, false},
		{"def f(): pass\n", 14, false},
		{"{\"a\": 1}\n", 9, false},
		{"cos\nsystem\n(S'id'\ntR.", 21, true},
		{"cat\ndog\nmore text\n", 18, false},
		{"(S'x'\nlp0\n.", 11, true},
		{"\x80\x04K\x01.", 5, true},
		{"S'unterminated", 1 << 20, true}, // the head ends inside an argument
	} {
		if got := mayBePickle([]byte(c.head), c.size); got != c.want {
			t.Errorf("mayBePickle(%q) = %v, want %v", c.head, got, c.want)
		}
	}
}
