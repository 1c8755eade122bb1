package model

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

var errRefused = errors.New("refused")

type zipOracle struct {
	OpenError *string `json:"open_error"`
	Entries   []struct {
		Name, Orig, Hex string
		Error           *string
	} `json:"entries"`
	Last map[string]int `json:"last"`
}

// memberBytes reads an entry the way the scan does, up to limit bytes.
func memberBytes(t *testing.T, r *io.SectionReader, e *zipEntry, limit int64) ([]byte, error) {
	t.Helper()
	var res analyze.Result
	s := &scan{ctx: context.Background(), res: &res}
	stream, _, err := s.openMemberAs(r, e, e.Name)
	if err != nil {
		return nil, err
	}
	if len(res.Findings) > 0 {
		return nil, errRefused
	}
	return io.ReadAll(io.LimitReader(stream, limit))
}

// TestZipMatchesZipfile compares the zip reader with Python's zipfile on
// well-formed, adversarial and mutated archives: when zipfile opens an
// archive, the same entries must be listed in the same order, the same
// entry must win for each name, and every byte zipfile yields for an entry
// must be among the bytes judged for it. When zipfile refuses an archive,
// the reader must say so (an anomaly, which the scan turns into MLG111).
func TestZipMatchesZipfile(t *testing.T) {
	dir := t.TempDir()
	testenv.RunPython(t, filepath.Join("testdata", "zip_oracle.py"), nil, dir)
	raw, err := os.ReadFile(filepath.Join(dir, "oracle.json"))
	if err != nil {
		t.Fatal(err)
	}
	var oracle map[string]zipOracle
	if err := json.Unmarshal(raw, &oracle); err != nil {
		t.Fatal(err)
	}
	if len(oracle) < 300 {
		t.Fatalf("oracle has %d archives", len(oracle))
	}
	opened, compared, refused := 0, 0, 0
	for fn, want := range oracle {
		b, err := os.ReadFile(filepath.Join(dir, fn))
		if err != nil {
			t.Fatal(err)
		}
		r := io.NewSectionReader(bytes.NewReader(b), 0, int64(len(b)))
		d, err := readZip(r, r.Size(), maxEntries)
		if want.OpenError != nil {
			if err == nil && len(d.Anomalies) == 0 {
				t.Errorf("%s: zipfile refuses it (%s) but the reader saw nothing wrong", fn, *want.OpenError)
			}
			continue
		}
		opened++
		if err != nil || len(d.Anomalies) > 0 {
			t.Errorf("%s: zipfile opens it, the reader says %v %v", fn, err, d.Anomalies)
			continue
		}
		if len(d.Entries) != len(want.Entries) {
			t.Errorf("%s: %d entries, zipfile lists %d", fn, len(d.Entries), len(want.Entries))
			continue
		}
		for i, we := range want.Entries {
			e := &d.Entries[i]
			if e.Name != we.Name || e.OrigName != we.Orig {
				t.Errorf("%s entry %d: name %q (orig %q), zipfile %q (orig %q)", fn, i, e.Name, e.OrigName, we.Name, we.Orig)
				continue
			}
			if last, ok := want.Last[we.Name]; ok && (last == i) == e.Shadowed {
				t.Errorf("%s entry %d %q: shadowed=%v but zipfile's open(name) returns entry %d", fn, i, we.Name, e.Shadowed, last)
			}
			pyb, _ := hex.DecodeString(we.Hex)
			if len(pyb) == 0 {
				continue
			}
			got, err := memberBytes(t, r, e, int64(len(pyb)))
			if err != nil && strings.Contains(err.Error(), "dictionary") {
				// A dictionary over the cap is refused, and the scan
				// reports the member as MLG111: fail closed, not a miss.
				refused++
				continue
			}
			if !bytes.Equal(got, pyb) {
				t.Errorf("%s entry %d %q: zipfile yields %d bytes %q..., the reader %d bytes %q... (%v)", fn, i, we.Name, len(pyb), trunc(pyb), len(got), trunc(got), err)
			}
			compared++
		}
	}
	t.Logf("%d archives, %d opened by zipfile, %d entries compared byte for byte, %d refused by a cap", len(oracle), opened, compared, refused)
	if opened < 100 || compared < 200 {
		t.Fatalf("too little compared: %d opened, %d entries", opened, compared)
	}
}

func trunc(b []byte) string {
	s := string(b)
	if len(s) > 40 {
		s = s[:40]
	}
	return strings.ToValidUTF8(s, "?")
}
