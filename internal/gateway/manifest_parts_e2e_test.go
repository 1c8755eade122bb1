package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

func upstreamDeleteTag(t *testing.T, h *harness, name, version, k string) {
	t.Helper()
	b, _ := json.Marshal(map[string]string{"name": name, "version": version, "key": k})
	req, _ := http.NewRequest(http.MethodDelete, h.ml.URL+"/api/2.0/mlflow/model-versions/delete-tag", bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("upstream delete-tag: %d %s", resp.StatusCode, body)
	}
}

// TestLargeManifestEndToEnd: a version of about 3,000 files, logged and
// registered with the real client through the gateway, gets its manifest
// in parts; after a four-eyes approval `mlflow-guard pull` installs it and
// `audit --public-key` is clean. Then the parts are tampered with around
// the gateway (a part dropped, two swapped, one edited in MLflow's SQLite
// database, one added): pull refuses each (MLG110) and audit reports each.
func TestLargeManifestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MLflow")
	}
	dataDir := t.TempDir()
	keys, err := LoadSigningKeys("", "", dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	h := startHarnessWith(t, harnessOptions{Approvals: &ApprovalConfig{Keys: keys}})
	bin := buildCLI(t)
	work := t.TempDir()
	const mdl, files = "many-files", 3000
	env := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0",
		"MLFLOW_TRACKING_USERNAME=alice", "MLFLOW_TRACKING_PASSWORD=" + h.creds["alice"]}
	out := testenv.RunPython(t, filepath.Join("testdata", "manyfiles.py"), env, mdl, "3000")
	i := strings.LastIndex(out, "RESULT ")
	if i < 0 {
		t.Fatalf("no result:\n%s", out)
	}
	var r struct{ Version, Error string }
	line, _, _ := strings.Cut(out[i+len("RESULT "):], "\n")
	if err := json.Unmarshal([]byte(line), &r); err != nil || r.Version == "" {
		t.Fatalf("register: %v %+v\n%s", err, r, out)
	}
	v := r.Version
	mv := upstreamVersion(t, h, mdl, v)
	head, _ := mv.tag(approval.TagManifest)
	parts := map[int]string{}
	for _, tg := range mv.Tags {
		if strings.HasPrefix(tg.Key, approval.TagManifest+".") {
			for n := 1; n < 1000; n++ {
				if tg.Key == approval.ManifestPartTag(n) {
					parts[n] = tg.Value
				}
			}
		}
		if len(tg.Value) > approval.ManifestPartBytes {
			t.Errorf("tag %s holds %d bytes", tg.Key, len(tg.Value))
		}
	}
	if len(parts) < 3 || !strings.Contains(head, "parts: ") {
		t.Fatalf("manifest head %q, %d parts", head, len(parts))
	}
	digest, _ := mv.tag(approval.TagDigest)
	if verdict, _ := mv.tag(approval.TagVerdict); verdict != approval.VerdictPass || !validDigest(digest) {
		t.Fatalf("verdict %q digest %q", verdict, digest)
	}

	// Four eyes: alice asks, bob (MANAGE on the model) approves, alice
	// promotes with the client.
	if err := h.st.AddGrant(context.Background(), "test", store.Grant{Principal: store.Principal{Kind: "user", Name: "bob"},
		ResourceKind: "registered_model", ResourceID: mdl, Permission: store.Manage}, nil); err != nil {
		t.Fatal(err)
	}
	_, req, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": v, "target": "alias:champion"})
	if req == nil {
		t.Fatalf("request: %s", body)
	}
	if code, _, body := apiCall(t, h, "POST", "/"+req.ID+"/approve", "bob", nil); code != 200 {
		t.Fatalf("approve: %d %s", code, body)
	}
	if rs := runClient(t, h, "alice", step("set_alias", mdl, "champion", v)); !rs[0].OK {
		t.Fatalf("promotion: %+v", rs[0])
	}
	pub := filepath.Join(work, "approval-key.pub.pem")
	if code, _, errs := runCLI(t, bin, nil, "keys", "public", "--data-dir", dataDir, "-o", pub); code != 0 {
		t.Fatalf("keys public: exit %d %s", code, errs)
	}
	as := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_TRACKING_TOKEN=", "MLFLOW_TRACKING_USERNAME=alice", "MLFLOW_TRACKING_PASSWORD=" + h.creds["alice"]}
	pull := func(dir string) (int, string) {
		code, _, errs := runCLI(t, bin, as, "pull", "models:/"+mdl+"@champion", "--to", dir, "--public-key", pub)
		return code, errs
	}
	audit := func() string {
		t.Helper()
		code, out, errs := runCLI(t, bin, []string{"MLFLOW_TRACKING_URI=", "MLFLOW_TRACKING_USERNAME=", "MLFLOW_TRACKING_PASSWORD="},
			"audit", "--format", "json", "--tracking-uri", h.ml.URL, "--public-key", pub)
		if code != 0 && code != 1 && code != 3 {
			t.Fatalf("audit: exit %d\n%s", code, errs)
		}
		var a struct {
			Findings []struct {
				RuleID  string `json:"rule_id"`
				Path    string `json:"path"`
				Message string `json:"message"`
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &a); err != nil {
			t.Fatalf("audit output: %v\n%s", err, out)
		}
		got := ""
		for _, f := range a.Findings {
			if f.Path == "registered-models/"+mdl+"/versions/"+v && (f.RuleID == "MLG105" || f.RuleID == "MLG110") {
				got += f.RuleID + " " + f.Message + "; "
			}
		}
		return got
	}

	dir := filepath.Join(work, "pulled")
	if code, errs := pull(dir); code != 0 {
		t.Fatalf("pull: exit %d\n%s", code, errs)
	}
	if got := dirDigest(t, dir); got != digest {
		t.Fatalf("pulled files hash to %s, the gate recorded %s", got, digest)
	}
	n := 0
	_ = filepath.WalkDir(dir, func(_ string, d os.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			n++
		}
		return nil
	})
	if n < files {
		t.Fatalf("pulled %d files, want more than %d", n, files)
	}
	if got := audit(); got != "" {
		t.Fatalf("audit reports the approved version: %s", got)
	}

	restore := func() {
		for k, val := range parts {
			h.ml.SetModelVersionTag(t, mdl, v, approval.ManifestPartTag(k), val)
		}
		h.ml.SetModelVersionTag(t, mdl, v, approval.TagManifest, head)
		for _, tg := range upstreamVersion(t, h, mdl, v).Tags {
			if _, ok := parts[partIndex(tg.Key)]; !ok && strings.HasPrefix(tg.Key, approval.TagManifest+".") {
				upstreamDeleteTag(t, h, mdl, v, tg.Key)
			}
		}
	}
	db := strings.TrimPrefix(h.ml.BackendURI, "sqlite:///")
	// part 2 with the first digit of its first file's hash changed
	b := []byte(parts[2])
	nl := strings.IndexByte(parts[2], '\n') + 1
	b[nl] = "10"[map[bool]int{true: 1}[b[nl] == '1']]
	edited := string(b)
	cases := []struct {
		name, want string
		tamper     func()
	}{
		{"a part dropped", "is missing", func() { upstreamDeleteTag(t, h, mdl, v, approval.ManifestPartTag(2)) }},
		{"the last part dropped", "is missing", func() { upstreamDeleteTag(t, h, mdl, v, approval.ManifestPartTag(len(parts))) }},
		{"two parts swapped", "moved or edited", func() {
			h.ml.SetModelVersionTag(t, mdl, v, approval.ManifestPartTag(1), parts[2])
			h.ml.SetModelVersionTag(t, mdl, v, approval.ManifestPartTag(2), parts[1])
		}},
		{"a part added", "other part tags", func() {
			h.ml.SetModelVersionTag(t, mdl, v, approval.ManifestPartTag(len(parts)+1), parts[1])
		}},
		{"the count lowered", "other part tags", func() {
			h.ml.SetModelVersionTag(t, mdl, v, approval.TagManifest, strings.Replace(head, itoa(len(parts)), itoa(len(parts)-1), 1))
		}},
		{"a part edited in the database", "hashes to", func() {
			testenv.RunPython(t, filepath.Join("..", "pull", "testdata", "settag_db.py"), nil, db, mdl, v, approval.ManifestPartTag(2), edited)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			defer restore()
			c.tamper()
			d := filepath.Join(work, "tampered")
			code, errs := pull(d)
			if code != 1 || !strings.Contains(errs, "MLG110") || !strings.Contains(errs, c.want) {
				t.Errorf("pull: exit %d, want 1 with MLG110 and %q\n%s", code, c.want, errs)
			}
			if _, err := os.Stat(d); err == nil {
				t.Errorf("a refused pull created %s", d)
			}
			if got := audit(); !strings.Contains(got, "MLG110") || !strings.Contains(got, c.want) {
				t.Errorf("audit: %q, want MLG110 and %q", got, c.want)
			}
		})
	}
	// Restored, the version pulls again.
	if code, errs := pull(filepath.Join(work, "again")); code != 0 {
		t.Fatalf("pull after restore: exit %d\n%s", code, errs)
	}
}

func itoa(n int) string {
	return strings.TrimPrefix(approval.ManifestPartTag(n), approval.TagManifest+".")
}

func partIndex(key string) int {
	for n := 1; n < 1000; n++ {
		if key == approval.ManifestPartTag(n) {
			return n
		}
	}
	return -1
}
