package mlflowapi

import (
	"encoding/json"
	"errors"
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
