package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	modelscan "github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

type dataGateResult struct {
	RunID        string            `json:"run_id"`
	ExperimentID string            `json:"experiment_id"`
	Kinds        map[string]string `json:"kinds"`
	Uploads      map[string]string `json:"uploads"`
	LogModel     map[string]struct {
		Status  string `json:"status"`
		Version string `json:"version"`
	} `json:"log_model"`
	Pwned bool `json:"pwned"`
}

func runDataGate(t *testing.T, trackingURI, user, pass string, args ...string) dataGateResult {
	t.Helper()
	env := []string{"MLFLOW_TRACKING_URI=" + trackingURI, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0", "DG_TOKEN=" + ghToken}
	if user != "" {
		env = append(env, "MLFLOW_TRACKING_USERNAME="+user, "MLFLOW_TRACKING_PASSWORD="+pass)
	}
	out := testenv.RunPython(t, filepath.Join("testdata", "datagate_flow.py"), env, args...)
	var r dataGateResult
	testenv.ScriptResult(t, out, &r)
	if r.Pwned {
		t.Errorf("a payload ran in the client process (%s)", args[0])
	}
	return r
}

// upstreamGet reads MLflow itself, around the gateway.
func upstreamGet(t *testing.T, ml *testenv.MLflowServer, p string, q url.Values, into any) int {
	t.Helper()
	resp, err := http.Get(ml.URL + p + "?" + q.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if into != nil && resp.StatusCode == 200 {
		if err := json.Unmarshal(b, into); err != nil {
			t.Fatalf("%s: %v: %s", p, err, b)
		}
	}
	return resp.StatusCode
}

// upstreamSums downloads every file under an artifact-proxy path straight
// from MLflow and hashes it, independently of the gateway's fetcher.
func upstreamSums(t *testing.T, ml *testenv.MLflowServer, root string) map[string]string {
	t.Helper()
	dir := t.TempDir()
	var walk func(rel string)
	walk = func(rel string) {
		var ls struct {
			Files []struct {
				Path  string `json:"path"`
				IsDir bool   `json:"is_dir"`
			} `json:"files"`
		}
		p := root
		if rel != "" {
			p += "/" + rel
		}
		upstreamGet(t, ml, "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {p}}, &ls)
		for _, f := range ls.Files {
			child := strings.TrimPrefix(rel+"/"+f.Path, "/")
			if f.IsDir {
				walk(child)
				continue
			}
			resp, err := http.Get(ml.URL + "/api/2.0/mlflow-artifacts/artifacts/" + root + "/" + child)
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			writeFile(t, filepath.Join(dir, filepath.FromSlash(child)), b)
		}
	}
	walk("")
	sums, err := modelscan.Digest(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func versionTags(t *testing.T, ml *testenv.MLflowServer, name, version string) (map[string]string, string) {
	t.Helper()
	var mv struct {
		MV struct {
			Source string `json:"source"`
			Tags   []struct{ Key, Value string }
		} `json:"model_version"`
	}
	if code := upstreamGet(t, ml, "/api/2.0/mlflow/model-versions/get", url.Values{"name": {name}, "version": {version}}, &mv); code != 200 {
		t.Fatalf("version %s/%s: %d", name, version, code)
	}
	tags := map[string]string{}
	for _, tg := range mv.MV.Tags {
		tags[tg.Key] = tg.Value
	}
	return tags, mv.MV.Source
}

// checkPassTags wants the four gate tags with a digest recomputed here
// from files downloaded straight from MLflow.
func checkPassTags(t *testing.T, ml *testenv.MLflowServer, name, version, wantVerdict string) map[string]string {
	t.Helper()
	tags, _ := versionTags(t, ml, name, version)
	var du struct {
		URI string `json:"artifact_uri"`
	}
	upstreamGet(t, ml, "/api/2.0/mlflow/model-versions/get-download-uri", url.Values{"name": {name}, "version": {version}}, &du)
	uri := du.URI
	if rest, ok := strings.CutPrefix(uri, "runs:/"); ok { // MLflow answers a runs:/ source as given
		runID, sub, _ := strings.Cut(rest, "/")
		var run struct {
			Run struct {
				Info struct {
					ArtifactURI string `json:"artifact_uri"`
				} `json:"info"`
			} `json:"run"`
		}
		upstreamGet(t, ml, "/api/2.0/mlflow/runs/get", url.Values{"run_id": {runID}}, &run)
		uri = run.Run.Info.ArtifactURI + "/" + sub
	}
	root := strings.Trim(strings.TrimPrefix(uri, "mlflow-artifacts:"), "/")
	sums := upstreamSums(t, ml, root)
	if len(sums) == 0 {
		t.Fatalf("%s/%s: no files at %s", name, version, du.URI)
	}
	var mb bytes.Buffer
	_ = modelscan.WriteManifest(&mb, sums)
	if tags[approval.TagVerdict] != wantVerdict || tags[approval.TagDigest] != modelscan.ManifestDigest(sums) ||
		tags[approval.TagManifest] != mb.String() || tags[approval.TagFindings] == "" {
		t.Errorf("%s/%s: tags %v\nwant digest %s verdict %s manifest\n%s", name, version, tags, modelscan.ManifestDigest(sums), wantVerdict, mb.String())
	}
	return tags
}

// The registration gate and upload scanning against the pinned MLflow and
// its client, with model files made by scikit-learn, joblib, cloudpickle,
// skops, onnx and safetensors.
func TestGatewayDataGatesEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MLflow")
	}
	h := startHarness(t)
	work := t.TempDir()
	r := runDataGate(t, h.url, "alice", h.creds["alice"], "upload", work, "dg")

	// Direct uploads: each file is stored or refused by its kind.
	wantRule := map[string]string{"malicious": "MLG106", "unverifiable": "MLG111", "secret": "MLG204", "executable": "MLG306"}
	for name, kind := range r.Kinds {
		got := r.Uploads[name]
		if kind == "benign" {
			if got != "stored" {
				t.Errorf("benign %s: %s", name, got)
			}
			continue
		}
		if !strings.Contains(got, wantRule[kind]) {
			t.Errorf("%s %s: %q, want a %s refusal", kind, name, got, wantRule[kind])
		}
		if strings.Contains(got, ghToken) {
			t.Errorf("%s: the refusal quotes the secret", name)
		}
	}
	// Refused uploads never reached the store: not listed, and no file
	// (not even MLflow's hidden staging file) under the artifact root.
	var ls struct {
		Files []struct{ Path string } `json:"files"`
	}
	upstreamGet(t, h.ml, "/api/2.0/mlflow/artifacts/list", url.Values{"run_id": {r.RunID}, "path": {"up"}}, &ls)
	listed := map[string]bool{}
	for _, f := range ls.Files {
		listed[strings.TrimPrefix(f.Path, "up/")] = true
	}
	onDisk := map[string]bool{}
	_ = filepath.WalkDir(h.ml.ArtifactsDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			onDisk[d.Name()] = true
			if strings.HasPrefix(d.Name(), ".") {
				t.Errorf("a staging file survived: %s", p)
			}
		}
		return nil
	})
	for name, kind := range r.Kinds {
		if stored := listed[name] || onDisk[name]; stored != (kind == "benign") {
			t.Errorf("%s %s: listed=%v on disk=%v", kind, name, listed[name], onDisk[name])
		}
	}

	// log_model with registered_model_name: benign flavours register and
	// carry the gate's tags; the malicious estimator is refused at upload.
	for _, label := range []string{"sk-pickle", "sk-cloudpickle", "sk-skops", "onnx"} {
		lm := r.LogModel[label]
		if lm.Status != "registered" {
			t.Errorf("log_model %s: %s", label, lm.Status)
			continue
		}
		tags := checkPassTags(t, h.ml, "dg-"+label, lm.Version, approval.VerdictPass)
		// Warnings pass the gate but are recorded.
		if label == "sk-cloudpickle" && !strings.Contains(tags[approval.TagFindings], "MLG101") {
			t.Errorf("cloudpickle findings tag: %q", tags[approval.TagFindings])
		}
	}
	if lm := r.LogModel["evil-sklearn"]; !strings.Contains(lm.Status, "MLG106") {
		t.Errorf("malicious log_model: %+v", lm)
	}

	// A malicious model planted in the run around the gateway is refused
	// at registration; a benign one registers with the right digest.
	runDataGate(t, h.ml.URL, "", "", "plant", filepath.Join(work, "plant"), "dg", r.RunID)
	if resp, body := h.do(t, "POST", "/api/2.0/mlflow/registered-models/create", "alice", `{"name":"dg-planted"}`, nil); resp.StatusCode != 200 {
		t.Fatalf("create model: %d %s", resp.StatusCode, body)
	}
	create := func(h *harness, source string) (*http.Response, string) {
		b, _ := json.Marshal(map[string]string{"name": "dg-planted", "source": source, "run_id": r.RunID})
		return h.do(t, "POST", "/api/2.0/mlflow/model-versions/create", "alice", string(b), nil)
	}
	resp, body := create(h, "runs:/"+r.RunID+"/planted-evil")
	if resp.StatusCode != 403 || !strings.Contains(body, `"rule_id":"MLG106"`) || !strings.Contains(resp.Header.Get("X-Mlflow-Guard-Decision"), "rule=MLG106") {
		t.Errorf("planted malicious: %d %s", resp.StatusCode, body)
	}
	resp, body = create(h, "runs:/"+r.RunID+"/planted-ok")
	if resp.StatusCode != 200 || resp.Header.Get("X-Mlflow-Guard-Verdict") != "pass" {
		t.Fatalf("planted benign: %d %s", resp.StatusCode, body)
	}
	var created struct {
		MV struct{ Version string } `json:"model_version"`
	}
	_ = json.Unmarshal([]byte(body), &created)
	tags := checkPassTags(t, h.ml, "dg-planted", created.MV.Version, approval.VerdictPass)
	if !strings.Contains(tags[approval.TagManifest], "  sub/w.safetensors\n") {
		t.Errorf("manifest lacks the nested file: %q", tags[approval.TagManifest])
	}
	// The same files through the mlflow-artifacts:/ form of the source.
	var run struct {
		Run struct {
			Info struct {
				ArtifactURI string `json:"artifact_uri"`
			}
		} `json:"run"`
	}
	upstreamGet(t, h.ml, "/api/2.0/mlflow/runs/get", url.Values{"run_id": {r.RunID}}, &run)
	resp, body = create(h, run.Run.Info.ArtifactURI+"/planted-evil")
	if resp.StatusCode != 403 || !strings.Contains(body, "MLG106") {
		t.Errorf("planted malicious by artifact URI: %d %s", resp.StatusCode, body)
	}

	// Sources the gateway cannot read are refused.
	for _, src := range []string{"runs:/" + r.RunID + "/no-such-dir", "runs:/0123456789abcdef0123456789abcdef/model", "models:/no-such-model/1", "models:/dg-planted/Production"} {
		resp, body := create(h, src)
		// A source naming a run or model that does not exist is refused by
		// authorization (MLG401) before the gate reads it.
		if resp.StatusCode != 403 || !strings.Contains(body, "MLG111") && !strings.Contains(body, `"rule_id":"MLG401"`) {
			t.Errorf("unreadable source %s: %d %s", src, resp.StatusCode, body)
		}
	}
	// A client may not write the gateway's tags itself at creation.
	resp, body = h.do(t, "POST", "/api/2.0/mlflow/model-versions/create", "alice",
		`{"name":"dg-planted","source":"runs:/`+r.RunID+`/planted-ok","run_id":"`+r.RunID+`","tags":[{"key":"mlflow-guard.verdict","value":"pass"}]}`, nil)
	if resp.StatusCode != 403 {
		t.Errorf("reserved tag at create: %d %s", resp.StatusCode, body)
	}
	// Multipart uploads cannot be scanned: refused by default.
	resp, body = h.do(t, "POST", "/api/2.0/mlflow-artifacts/mpu/create/"+r.ExperimentID+"/x/model.pkl", "alice", `{"path":"model.pkl","num_parts":2}`, nil)
	if resp.StatusCode != 403 || !strings.Contains(body, "MLG306") {
		t.Errorf("multipart create: %d %s", resp.StatusCode, body)
	}

	// Quarantine mode: the malicious version is created, tagged quarantined.
	qeng, err := policy.New(policy.Config{Registration: policy.RegistrationConfig{Mode: policy.GateQuarantine}})
	if err != nil {
		t.Fatal(err)
	}
	hq := startHarnessWith(t, harnessOptions{ML: h.ml, Policy: qeng})
	if resp, body := hq.do(t, "POST", "/api/2.0/mlflow/registered-models/create", "alice", `{"name":"dg-quarantine"}`, nil); resp.StatusCode != 200 {
		t.Fatalf("create model: %d %s", resp.StatusCode, body)
	}
	// root: the run's experiment was granted in the first gateway's store.
	resp, body = hq.do(t, "POST", "/api/2.0/mlflow/model-versions/create", "root",
		`{"name":"dg-quarantine","source":"runs:/`+r.RunID+`/planted-evil","run_id":"`+r.RunID+`"}`, nil)
	if resp.StatusCode != 200 || resp.Header.Get("X-Mlflow-Guard-Verdict") != approval.VerdictQuarantined {
		t.Fatalf("quarantine: %d %s", resp.StatusCode, body)
	}
	_ = json.Unmarshal([]byte(body), &created)
	qt := checkPassTags(t, h.ml, "dg-quarantine", created.MV.Version, approval.VerdictQuarantined)
	if !strings.Contains(qt[approval.TagFindings], "MLG106") {
		t.Errorf("quarantine findings: %q", qt[approval.TagFindings])
	}

	// The audit log holds every verdict.
	var audit bytes.Buffer
	if err := h.st.ExportAudit(context.Background(), &audit); err != nil {
		t.Fatal(err)
	}
	a := audit.String()
	for _, want := range []string{`"upload-scan"`, `"registration-gate"`, "MLG106", "MLG204", "MLG306"} {
		if !strings.Contains(a, want) {
			t.Errorf("audit log lacks %s", want)
		}
	}
	if strings.Contains(a, ghToken) {
		t.Errorf("the audit log holds the secret")
	}
}

func writeFile(t *testing.T, p string, b []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		t.Fatal(err)
	}
}
