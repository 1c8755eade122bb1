package mlflowapi

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// FuzzDecodePages: server bodies are untrusted; decoding any of them gives
// a value or an ErrMalformed error, never a panic.
func FuzzDecodePages(f *testing.F) {
	for _, s := range []string{
		`{"runs":[{"info":{"run_id":"a","experiment_id":"1"},"data":{"params":[{"key":"k","value":"v"}]},"inputs":{"dataset_inputs":[{"dataset":{"name":"d","source":"{}"}}]}}],"next_page_token":"t"}`,
		`{"files":[{"path":"MLmodel","is_dir":false,"file_size":"109"}]}`,
		`{"registered_models":[{"name":"m","aliases":[{"alias":"champion","version":"1"}]}]}`,
		`{"model_versions":[{"name":"m","version":"1","current_stage":"Production","tags":[{"key":"a","value":"b"}]}]}`,
		`<html>`, `{"experiments":null}`,
		// Hostile listings and pages: negative, absurd and overflowing
		// sizes, huge tokens, deep nesting.
		`{"files":[{"path":"a","file_size":-1}],"next_page_token":"n"}`,
		`{"files":[{"path":"a","file_size":"9223372036854775807"}]}`,
		`{"files":[{"path":"a","file_size":"99999999999999999999"}]}`,
		`{"files":[{"path":"a","file_size":1e3}]}`,
		`{"files":[{"path":"../../etc/passwd","file_size":"12"}]}`,
		`{"registered_models":[{"name":"o'brien \\" x","latest_versions":[{"name":"o'brien \\" x","version":"1"}]}]}`,
		`{"experiments":[],"next_page_token":"` + strings.Repeat("t", 5000) + `"}`,
		strings.Repeat(`{"files":[`, 2000),
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, out := range []any{&searchRunsResponse{}, &listArtifactsResponse{}, &searchRegisteredModelsResponse{}, &searchModelVersionsResponse{}, &searchExperimentsResponse{}} {
			err := decode("/p", b, out)
			if err != nil && !errors.Is(err, ErrMalformed) {
				t.Fatalf("decode error %v is not ErrMalformed", err)
			}
			if err == nil && !json.Valid(b) {
				t.Fatalf("invalid JSON %q decoded without error", b)
			}
		}
	})
}

// FuzzListing: a listing page either decodes to entries whose sizes a
// download budget can trust, or is rejected as malformed.
func FuzzListing(f *testing.F) {
	for _, s := range []string{
		`{"files":[{"path":"MLmodel","file_size":"109"},{"path":"d","is_dir":true}]}`,
		`{"files":[{"path":"a","file_size":-5}]}`,
		`{"files":[{"path":"a","file_size":"1099511627777"}]}`,
		`{"files":[{"path":"a","file_size":"-9223372036854775808"}]}`,
		`{"files":[{"path":"a","file_size":null}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		var r listArtifactsResponse
		if err := decode("/l", b, &r); err != nil {
			return
		}
		if err := checkListing("d", r.Files); err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("listing error %v is not ErrMalformed", err)
			}
			return
		}
		for _, fi := range r.Files {
			if fi.FileSize < 0 || fi.FileSize > MaxArtifactSize {
				t.Fatalf("size %d passed the check", fi.FileSize)
			}
		}
	})
}

// FuzzQuoteFilterValue: a quoted value is the value between two quote
// characters it does not contain (the property MLflow's parser needs; the
// parser itself is the oracle of TestQuoteFilterValueAgainstMLflow).
func FuzzQuoteFilterValue(f *testing.F) {
	for _, s := range []string{"plain", "o'brien", `say "hi"`, `both ' and "`, `trail\`, "pct%_x", "ünï", "a\x00b", `''')"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		q, ok := QuoteFilterValue(s)
		if !ok {
			if !strings.ContainsRune(s, 0) && (!strings.Contains(s, "'") || !strings.Contains(s, `"`)) {
				t.Fatalf("%q refused", s)
			}
			return
		}
		if len(q) != len(s)+2 || q[1:len(q)-1] != s || q[0] != q[len(q)-1] || strings.IndexByte(s, q[0]) >= 0 {
			t.Fatalf("%q quoted as %q", s, q)
		}
	})
}
