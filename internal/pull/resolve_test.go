package pull

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// ArtifactRoot follows the sources MLflow records: the live test reaches
// mlflow-artifacts: and runs:/ through the real server (which resolves
// logged models itself when it has a storage location); the other hops
// and the refusals are served here by a fake.
func TestArtifactRoot(t *testing.T) {
	download := ""
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch {
		case r.URL.Path == mlflowapi.PathModelVersionDownload:
			_ = json.NewEncoder(w).Encode(map[string]string{"artifact_uri": download})
		case r.URL.Path == mlflowapi.PathGetLoggedModel+"m-abc":
			_, _ = w.Write([]byte(`{"model":{"info":{"model_id":"m-abc","artifact_uri":"mlflow-artifacts:/0/models/m-abc/artifacts"}}}`))
		case r.URL.Path == mlflowapi.PathGetRun && r.URL.Query().Get("run_id") == "r1":
			_, _ = w.Write([]byte(`{"run":{"info":{"run_id":"r1","artifact_uri":"mlflow-artifacts:/0/r1/artifacts"}}}`))
		default:
			http.Error(w, `{"error_code":"RESOURCE_DOES_NOT_EXIST"}`, 404)
		}
	}))
	defer srv.Close()
	c, _ := mlflowapi.New(srv.URL, mlflowapi.Options{Retries: -1})
	host := strings.TrimPrefix(srv.URL, "http://")
	for _, tc := range []struct{ uri, want, err string }{
		{"mlflow-artifacts:/0/m/artifacts", "0/m/artifacts", ""},
		{"mlflow-artifacts://" + host + "/0/m/artifacts", "0/m/artifacts", ""},
		{"models:/m-abc", "0/models/m-abc/artifacts", ""},
		{"runs:/r1/model", "0/r1/artifacts/model", ""},
		{"runs:/r1/../../x", "0/r1/artifacts/x", ""},
		{"mlflow-artifacts://evil.example:443/0/m", "", "another server"},
		{"s3://bucket/model", "", "outside the tracking server's artifact proxy"},
		{"file:///etc", "", "outside the tracking server's artifact proxy"},
		{"runs:/../x/model", "", "bad run id"},
		{"models:/fraud/1", "", "not a logged model id"},
		{"mlflow-artifacts:/0/a\\b", "", "backslash"},
		{"", "", "empty artifact location"},
	} {
		download = tc.uri
		got, err := ArtifactRoot(context.Background(), c, mlflowapi.ModelVersion{Name: "m", Version: "1"})
		switch {
		case tc.err == "" && (err != nil || got != tc.want):
			t.Errorf("%q: got %q, %v; want %q", tc.uri, got, err, tc.want)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err)):
			t.Errorf("%q: got %q, %v; want an error with %q", tc.uri, got, err, tc.err)
		}
	}
}
