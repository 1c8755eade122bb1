package audit

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// TestModelVersionsFallback uses a fake registry for answers a real MLflow
// gives only when its filter grammar and our quoting disagree: a filtered
// search refused (HTTP 400) or answered empty although the registry lists
// versions. Those models must be found by the unfiltered search; a model
// that no search returns must be reported, not skipped. The real server is
// covered by TestAuditHostileServer.
func TestModelVersionsFallback(t *testing.T) {
	versions := []mlflowapi.ModelVersion{
		{Name: "refused", Version: "1"}, {Name: "empty", Version: "3"},
		{Name: `both ' and "`, Version: "2"}, {Name: "ok", Version: "5"},
	}
	var mu sync.Mutex
	unfiltered := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case mlflowapi.PathSearchRegisteredModels:
			fmt.Fprint(w, `{"registered_models":[
				{"name":"refused","latest_versions":[{"name":"refused","version":"1"}]},
				{"name":"empty","latest_versions":[{"name":"empty","version":"3"}]},
				{"name":"both ' and \"","latest_versions":[{"name":"both ' and \"","version":"2"}]},
				{"name":"ok","aliases":[{"alias":"champion","version":"5"}]},
				{"name":"ghost","latest_versions":[{"name":"ghost","version":"9"}]}]}`)
		case mlflowapi.PathSearchModelVersions:
			f := r.URL.Query().Get("filter")
			var out []mlflowapi.ModelVersion
			switch {
			case f == "":
				mu.Lock()
				unfiltered++
				mu.Unlock()
				out = versions
			case strings.Contains(f, "refused"):
				w.WriteHeader(http.StatusBadRequest)
				fmt.Fprint(w, `{"error_code":"INVALID_PARAMETER_VALUE","message":"Invalid clause(s) in filter string"}`)
				return
			case f == `name="ok"`:
				// A loose filter also returning another model's version:
				// only the exact name may pass.
				out = []mlflowapi.ModelVersion{versions[3], {Name: "ok2", Version: "7"}}
			}
			_ = json.NewEncoder(w).Encode(map[string]any{"model_versions": out})
		default:
			w.WriteHeader(404)
		}
	}))
	defer srv.Close()
	c, err := mlflowapi.New(srv.URL, mlflowapi.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var got, failed []string
	(&RESTSource{C: c}).ModelVersions(context.Background(), func(v mlflowapi.ModelVersion) {
		mu.Lock()
		got = append(got, v.Name+"@"+v.Version+" "+strings.Join(v.Aliases, ","))
		mu.Unlock()
	}, func(path string, err error) {
		mu.Lock()
		failed = append(failed, path)
		mu.Unlock()
		if !errors.Is(err, errNotAudited) {
			t.Errorf("%s: %v, want errNotAudited", path, err)
		}
	})
	sort.Strings(got)
	want := []string{`both ' and "@2 `, "empty@3 ", "ok@5 champion", "refused@1 "}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("versions:\n got %q\nwant %q", got, want)
	}
	if strings.Join(failed, "|") != "registered-models/ghost/versions" {
		t.Errorf("failures %q, want only the ghost model", failed)
	}
	if unfiltered != 1 {
		t.Errorf("%d unfiltered searches, want 1 shared by every fallback", unfiltered)
	}
}
