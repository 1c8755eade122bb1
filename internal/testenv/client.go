package testenv

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// ScriptResult decodes into v the JSON of the last "RESULT <json>" line
// that a test's client script printed (RunPython's output), so the
// script's own logging may come before it.
func ScriptResult(t testing.TB, out string, v any) {
	t.Helper()
	i := strings.LastIndex(out, "RESULT ")
	if i < 0 {
		t.Fatalf("no result:\n%s", out)
	}
	line, _, _ := strings.Cut(out[i+len("RESULT "):], "\n")
	if err := json.Unmarshal([]byte(strings.TrimSpace(line)), v); err != nil {
		t.Fatalf("result: %v\n%s", err, out)
	}
}

// SetModelVersionTag writes a model-version tag straight to this server,
// around any gateway in front of it: tests stand in for the registration
// gate, or for someone who edits MLflow directly, this way.
func (s *MLflowServer) SetModelVersionTag(t testing.TB, name, version, key, value string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "version": version, "key": key, "value": value})
	resp, err := http.Post(s.URL+"/api/2.0/mlflow/model-versions/set-tag", "application/json", bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("set-tag %s %s %s on MLflow: HTTP %d %s", name, version, key, resp.StatusCode, body)
	}
}
