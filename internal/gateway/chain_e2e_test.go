package gateway

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	modeldigest "github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// runChainClient runs testdata/chain.py as user with the real MLflow
// client; user "" talks to MLflow directly, around the gateway.
func runChainClient(t *testing.T, h *harness, user, marker string, steps ...[]any) []pyResult {
	t.Helper()
	b, _ := json.Marshal(steps)
	env := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0", "MARKER=" + marker,
		"MLFLOW_TRACKING_USERNAME=" + user, "MLFLOW_TRACKING_PASSWORD=" + h.creds[user]}
	if user == "" {
		env = []string{"MLFLOW_TRACKING_URI=" + h.ml.URL, "MARKER=" + marker}
	}
	out := testenv.RunPython(t, filepath.Join("testdata", "chain.py"), env, string(b))
	var rs []pyResult
	if testenv.ScriptResult(t, out, &rs); len(rs) != len(steps) {
		t.Fatalf("%d results for %d steps:\n%s", len(rs), len(steps), out)
	}
	return rs
}

func resultString(t *testing.T, r pyResult) string {
	t.Helper()
	var s string
	if !r.OK || json.Unmarshal(r.Value, &s) != nil {
		t.Fatalf("client call failed: %+v", r)
	}
	return s
}

// dirDigest is the manifest digest of a pulled directory.
func dirDigest(t *testing.T, dir string) string {
	t.Helper()
	sums, err := modeldigest.Digest(context.Background(), dir, "")
	if err != nil {
		t.Fatal(err)
	}
	return modeldigest.ManifestDigest(sums)
}

// TestApprovalChainEndToEnd runs the whole chain with no stand-in: the
// real gate tags what alice registers with the real client through the
// gateway, bob approves with the CLI, alice promotes with the client, and
// `mlflow-guard pull` and `audit --public-key` verify the record the
// gateway signed. Then each link is broken in turn.
func TestApprovalChainEndToEnd(t *testing.T) {
	dataDir := t.TempDir()
	keys, err := LoadSigningKeys("", "", dataDir, nil)
	if err != nil {
		t.Fatal(err)
	}
	// MLflow behind a pass-through proxy that can move the gateway's
	// clock while MLflow applies an alias: a promotion that outlives its
	// approval window.
	ml := testenv.StartMLflow(t, testenv.MLflowOptions{})
	var offset, bumpOnAlias atomic.Int64
	mlURL, _ := url.Parse(ml.URL)
	rp := httputil.NewSingleHostReverseProxy(mlURL)
	rp.ModifyResponse = func(resp *http.Response) error {
		if resp.Request.Method == http.MethodPost && strings.HasSuffix(resp.Request.URL.Path, "/registered-models/alias") {
			if d := bumpOnAlias.Swap(0); d != 0 {
				offset.Add(d)
			}
		}
		return nil
	}
	front := httptest.NewServer(rp)
	t.Cleanup(front.Close)
	viaFront := *ml
	viaFront.URL = front.URL
	h := startHarnessWith(t, harnessOptions{ML: &viaFront, Approvals: &ApprovalConfig{Keys: keys},
		Clock: func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }})
	ctx := context.Background()
	bin := buildCLI(t)
	work := t.TempDir()
	marker := filepath.Join(work, "payload-ran")
	as := func(user string) []string {
		return []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_TRACKING_TOKEN=", "MLFLOW_TRACKING_USERNAME=" + user, "MLFLOW_TRACKING_PASSWORD=" + h.creds[user]}
	}
	const mdl = "chain-model"

	// alice logs and registers three versions; the real gate tags them.
	rs := runChainClient(t, h, "alice", marker,
		step("register", mdl, "1.0"), step("register", mdl, "0.5"), step("register", mdl, "0.7"))
	v1, v2, v3 := resultString(t, rs[0]), resultString(t, rs[1]), resultString(t, rs[2])
	mv1 := upstreamVersion(t, h, mdl, v1)
	d1, _ := mv1.tag(approval.TagDigest)
	if verdict, _ := mv1.tag(approval.TagVerdict); verdict != approval.VerdictPass || !validDigest(d1) {
		t.Fatalf("the gate's tags on version %s: %+v", v1, mv1.Tags)
	}
	if err := h.st.AddGrant(ctx, "test", store.Grant{Principal: store.Principal{Kind: "user", Name: "bob"},
		ResourceKind: "registered_model", ResourceID: mdl, Permission: store.Manage}, nil); err != nil {
		t.Fatal(err)
	}

	// The requester alone cannot promote.
	rs = runClient(t, h, "alice", step("set_alias", mdl, "champion", v1))
	requireDenied105(t, "promotion by the requester alone", rs[0], "needs an approval")

	// alice requests with the CLI; she and an admin for his own request
	// cannot approve; bob does.
	code, out, errs := runCLI(t, bin, as("alice"), "approvals", "request", mdl, v1, "--alias", "champion")
	m := regexp.MustCompile(`(?m)^([0-9a-f]{24})\s+` + regexp.QuoteMeta(mdl) + `\s+` + v1 + `\s+alias:champion\s+pending\s+alice`).FindStringSubmatch(out)
	if code != 0 || m == nil {
		t.Fatalf("request: exit %d\n%s%s", code, out, errs)
	}
	id := m[1]
	if code, _, errs = runCLI(t, bin, as("alice"), "approvals", "approve", id); code != 1 || !strings.Contains(errs, "second person") {
		t.Errorf("self-approval: exit %d %s", code, errs)
	}
	code, rootReq, body := apiCall(t, h, "POST", "", "root", map[string]any{"name": mdl, "version": v3, "target": "alias:champion"})
	if code != 200 || rootReq == nil {
		t.Fatalf("root request: %d %s", code, body)
	}
	if code, _, errs = runCLI(t, bin, as("root"), "approvals", "approve", rootReq.ID); code != 1 || !strings.Contains(errs, "second person") {
		t.Errorf("admin self-approval: exit %d %s", code, errs)
	}
	if code, out, errs = runCLI(t, bin, as("bob"), "approvals", "approve", id, "--reason", "chain test"); code != 0 || !strings.Contains(out, "approved") {
		t.Fatalf("approve: exit %d %s%s", code, out, errs)
	}

	// alice sets the alias with the client, as she asked (lower case).
	if rs = runClient(t, h, "alice", step("set_alias", mdl, "champion", v1)); !rs[0].OK {
		t.Fatalf("approved promotion: %+v", rs[0])
	}
	mv1 = upstreamVersion(t, h, mdl, v1)
	if _, ok := mv1.tag(approval.TagApproval); !ok {
		t.Fatalf("no signed record on version %s: %+v", v1, mv1.Tags)
	}

	// pull with the key fetched from the gateway, then pinned from `keys public`.
	pub := filepath.Join(work, "approval-key.pub.pem")
	if code, _, errs = runCLI(t, bin, nil, "keys", "public", "--data-dir", dataDir, "-o", pub); code != 0 {
		t.Fatalf("keys public: exit %d %s", code, errs)
	}
	fp := approval.Fingerprint(keys.Public())
	pull := func(user, dir string, args ...string) (int, string, string) {
		t.Helper()
		return runCLI(t, bin, as(user), append([]string{"pull", args[0], "--to", dir}, args[1:]...)...)
	}
	champ := "models:/" + mdl + "@champion"
	if err := os.Mkdir(filepath.Join(work, "pulled"), 0o755); err != nil {
		t.Fatal(err)
	}
	// READ on the model alone does not reach its files: the artifact proxy
	// is authorized per experiment (docs/pull.md).
	if code, _, errs = pull("bob", filepath.Join(work, "pulled", "bob"), champ); code != 2 || !strings.Contains(errs, "on experiment") {
		t.Errorf("pull without READ on the experiment: exit %d\n%s", code, errs)
	}
	for i, extra := range [][]string{nil, {"--public-key", pub}} {
		dir := filepath.Join(work, "pulled", string(rune('a'+i)))
		code, out, errs = pull("alice", dir, append([]string{champ}, extra...)...)
		if code != 0 || !strings.Contains(out, "approved by bob") {
			t.Fatalf("pull %v: exit %d\n%s%s", extra, code, out, errs)
		}
		if extra == nil && !strings.Contains(errs, fp) {
			t.Errorf("pull without --public-key does not print the fetched key's fingerprint %s:\n%s", fp, errs)
		}
		if got := dirDigest(t, dir); got != d1 {
			t.Errorf("pulled files hash to %s, the gate recorded %s", got, d1)
		}
	}

	audit := func() map[string]string {
		t.Helper()
		code, out, errs := runCLI(t, bin, []string{"MLFLOW_TRACKING_URI=", "MLFLOW_TRACKING_USERNAME=", "MLFLOW_TRACKING_PASSWORD="},
			"audit", "--format", "json", "--tracking-uri", h.ml.URL, "--public-key", pub)
		if code != 0 && code != 1 && code != 3 {
			t.Fatalf("audit: exit %d\n%s", code, errs)
		}
		var r struct {
			Findings []struct {
				RuleID  string `json:"rule_id"`
				Path    string `json:"path"`
				Message string `json:"message"`
			} `json:"findings"`
		}
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("audit output: %v\n%s", err, out)
		}
		got := map[string]string{}
		for _, f := range r.Findings {
			if v, ok := strings.CutPrefix(f.Path, "registered-models/"+mdl+"/versions/"); ok && (f.RuleID == "MLG105" || f.RuleID == "MLG110") {
				got[v] += f.RuleID + " " + f.Message + "; "
			}
		}
		return got
	}
	if got := audit(); got[v1] != "" {
		t.Errorf("audit reports the approved version: %s", got[v1])
	}

	t.Run("approval for a different digest", func(t *testing.T) {
		_, r, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": v2, "target": "stage:production"})
		if r == nil {
			t.Fatalf("request: %s", body)
		}
		if code, _, body := apiCall(t, h, "POST", "/"+r.ID+"/approve", "bob", nil); code != 200 {
			t.Fatalf("approve: %d %s", code, body)
		}
		// v3's manifest and digest written onto v2 around the gateway.
		mv3 := upstreamVersion(t, h, mdl, v3)
		for _, k := range []string{approval.TagManifest, approval.TagDigest} {
			v, _ := mv3.tag(k)
			h.ml.SetModelVersionTag(t, mdl, v2, k, v)
		}
		rs := runClient(t, h, "alice", step("transition", mdl, v2, "Production"))
		requireDenied105(t, "approval for another digest", rs[0], "digest")
	})

	t.Run("approval tags written into MLflow's database", func(t *testing.T) {
		// A record in the right shape for v2, signed by a key that is not
		// the gateway's, and v2 moved to Production, both around the gateway.
		other, _ := approval.GenerateKey(nil)
		mv2 := upstreamVersion(t, h, mdl, v2)
		d2, _ := mv2.tag(approval.TagDigest)
		now := time.Now().UTC().Truncate(time.Second)
		forged, err := approval.Encode(approval.Record{V: 1, Model: mdl, Version: v2, Digest: d2, Verdict: approval.VerdictPass,
			Target: "stage:Production", Requester: "alice", Approver: "mallory", RequestedAt: now.Add(-time.Hour),
			ApprovedAt: now.Add(-time.Minute), ExpiresAt: now.Add(time.Hour), PromotedAt: now}, other)
		if err != nil {
			t.Fatal(err)
		}
		db := strings.TrimPrefix(h.ml.BackendURI, "sqlite:///")
		testenv.RunPython(t, filepath.Join("..", "pull", "testdata", "settag_db.py"), nil, db, mdl, v2, approval.TagApproval, forged)
		if rs := runChainClient(t, h, "", marker, step("transition", mdl, v2, "Production")); !rs[0].OK {
			t.Fatalf("transition around the gateway: %+v", rs[0])
		}
		dir := filepath.Join(work, "db-forged")
		code, _, errs := pull("alice", dir, "models:/"+mdl+"/"+v2, "--public-key", pub)
		if code != 1 || !strings.Contains(errs, "MLG105") || !strings.Contains(errs, "not signed by a trusted key") {
			t.Errorf("pull of a record written into the database: exit %d\n%s", code, errs)
		}
		if _, err := os.Stat(dir); err == nil {
			t.Errorf("a refused pull created %s", dir)
		}
		if got := audit(); !strings.Contains(got[v2], "MLG105") || !strings.Contains(got[v2], "not signed") || got[v1] != "" {
			t.Errorf("audit: version %s: %q; version %s: %q", v2, got[v2], v1, got[v1])
		}
	})

	t.Run("unapproved version", func(t *testing.T) {
		code, _, errs := pull("alice", filepath.Join(work, "unapproved"), "models:/"+mdl+"/"+v3)
		if code != 1 || !strings.Contains(errs, "MLG105") || !strings.Contains(errs, "no approval record") {
			t.Errorf("pull of an unapproved version: exit %d\n%s", code, errs)
		}
	})

	t.Run("stage promotion and a runs:/ source", func(t *testing.T) {
		// v3 into Production (asked in lower case), and a version
		// registered from runs:/ given the champion alias of its model.
		rs := runChainClient(t, h, "alice", marker, step("register_runs", "chain-runs"))
		rv := resultString(t, rs[0])
		if err := h.st.AddGrant(ctx, "test", store.Grant{Principal: store.Principal{Kind: "user", Name: "bob"},
			ResourceKind: "registered_model", ResourceID: "chain-runs", Permission: store.Manage}, nil); err != nil {
			t.Fatal(err)
		}
		for _, c := range []struct{ name, version, target string }{{mdl, v3, "stage:production"}, {"chain-runs", rv, "alias:champion"}} {
			_, r, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": c.name, "version": c.version, "target": c.target})
			if r == nil {
				t.Fatalf("request %v: %s", c, body)
			}
			if code, _, body := apiCall(t, h, "POST", "/"+r.ID+"/approve", "bob", nil); code != 200 {
				t.Fatalf("approve %v: %d %s", c, code, body)
			}
		}
		rs = runChainClient(t, h, "alice", marker, step("transition", mdl, v3, "production"), step("set_alias", "chain-runs", "champion", rv))
		for i, r := range rs {
			if !r.OK {
				t.Fatalf("approved promotion %d: %+v", i, r)
			}
		}
		for _, c := range []struct{ uri, dir string }{{"models:/" + mdl + "/" + v3, "stage"}, {"models:/chain-runs@champion", "runs"}} {
			code, out, errs := pull("alice", filepath.Join(work, c.dir), c.uri, "--public-key", pub)
			if code != 0 {
				t.Errorf("pull %s: exit %d\n%s%s", c.uri, code, out, errs)
			}
		}
		if got := audit(); got[v3] != "" || got[v1] != "" {
			t.Errorf("audit reports approved versions: %v", got)
		}
	})

	t.Run("malicious version", func(t *testing.T) {
		// Uploaded through the gateway: refused before it is stored.
		rs := runChainClient(t, h, "alice", marker, step("log_evil"))
		if rs[0].OK || !strings.Contains(rs[0].Message, "MLG106") {
			t.Errorf("malicious upload through the gateway: %+v", rs[0])
		}
		// Uploaded around the gateway, registered through it: the
		// registration gate refuses it.
		rs = runChainClient(t, h, "", marker, step("log_evil"))
		var loc []string
		if !rs[0].OK || json.Unmarshal(rs[0].Value, &loc) != nil || len(loc) != 2 {
			t.Fatalf("log around the gateway: %+v", rs[0])
		}
		rs = runChainClient(t, h, "root", marker, step("create_version", "chain-evil", loc[0], loc[1]))
		if rs[0].OK || rs[0].Code != "PERMISSION_DENIED" || !strings.Contains(rs[0].Message, "MLG106") {
			t.Errorf("malicious version through the registration gate: %+v", rs[0])
		}
		// Registered around the gateway too, with the approved version's
		// gate tags and signed record copied onto it.
		rs = runChainClient(t, h, "", marker, step("create_version", "chain-evil", loc[0], loc[1]))
		ev := resultString(t, rs[0])
		for _, tg := range mv1.Tags {
			if approval.IsReserved(tg.Key) {
				h.ml.SetModelVersionTag(t, "chain-evil", ev, tg.Key, tg.Value)
			}
		}
		code, _, errs := pull("root", filepath.Join(work, "evil"), "models:/chain-evil/"+ev, "--public-key", pub)
		if code != 1 || !strings.Contains(errs, "MLG105") || !strings.Contains(errs, "not this version") {
			t.Errorf("pull of a planted malicious version: exit %d\n%s", code, errs)
		}
		// Without the copied record, pull refuses for want of one.
		h.ml.SetModelVersionTag(t, "chain-evil", ev, approval.TagApproval, "")
		code, _, errs = pull("root", filepath.Join(work, "evil"), "models:/chain-evil/"+ev, "--public-key", pub)
		if code != 1 || !strings.Contains(errs, "MLG105") {
			t.Errorf("pull of a planted malicious version without a record: exit %d\n%s", code, errs)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Error("the payload ran")
		}
	})

	t.Run("file changed at the store after approval", func(t *testing.T) {
		srcDir := filepath.Join(work, "pulled", "a")
		var victim string
		_ = filepath.WalkDir(srcDir, func(p string, d os.DirEntry, err error) error {
			if err == nil && !d.IsDir() && victim == "" && strings.HasSuffix(p, ".skops") {
				victim, _ = filepath.Rel(srcDir, p)
			}
			return nil
		})
		if victim == "" {
			t.Fatal("no .skops file in the pulled model")
		}
		var hits []string
		_ = filepath.WalkDir(h.ml.ArtifactsDir, func(p string, d os.DirEntry, err error) error {
			if err == nil && strings.HasSuffix(p, string(filepath.Separator)+victim) {
				hits = append(hits, p)
			}
			return nil
		})
		// The store file of v1 is the one whose bytes equal the pulled file.
		want, _ := os.ReadFile(filepath.Join(srcDir, victim))
		var store string
		for _, p := range hits {
			if b, _ := os.ReadFile(p); string(b) == string(want) {
				store = p
			}
		}
		if store == "" {
			t.Fatalf("cannot find %s of version %s at the store among %v", victim, v1, hits)
		}
		if err := os.WriteFile(store, []byte("swapped after approval"), 0o644); err != nil {
			t.Fatal(err)
		}
		dir := filepath.Join(work, "tampered")
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		before := snapshotDir(t, dir)
		code, _, errs := pull("alice", dir, champ, "--public-key", pub)
		if code != 1 || !strings.Contains(errs, "MLG110") || !strings.Contains(errs, victim) {
			t.Errorf("pull of a tampered version: exit %d\n%s", code, errs)
		}
		if after := snapshotDir(t, dir); after != before {
			t.Errorf("the refused pull changed %s:\n%s\nwas\n%s", dir, after, before)
		}
		// Another version's manifest and digest written over v1's around
		// the gateway: the signed record is bound to other files.
		mv3 := upstreamVersion(t, h, mdl, v3)
		for _, k := range []string{approval.TagManifest, approval.TagDigest} {
			v, _ := mv3.tag(k)
			h.ml.SetModelVersionTag(t, mdl, v1, k, v)
		}
		code, _, errs = pull("alice", dir, champ, "--public-key", pub)
		if code != 1 || !strings.Contains(errs, "MLG110") || !strings.Contains(errs, "bound to digest "+d1) {
			t.Errorf("pull with another version's digest: exit %d\n%s", code, errs)
		}
		if after := snapshotDir(t, dir); after != before {
			t.Errorf("the refused pull changed %s", dir)
		}
	})
	t.Run("approval window closing while MLflow applies the promotion", func(t *testing.T) {
		// The gateway checked the window when it claimed the approval;
		// the record it signs must say the promotion happened inside it,
		// or pull and audit refuse a promotion the gateway let through.
		_, r, body := apiCall(t, h, "POST", "", "alice", map[string]any{"name": mdl, "version": v3, "target": "alias:champion", "ttl_seconds": 3600})
		if r == nil {
			t.Fatalf("request: %s", body)
		}
		if code, _, body := apiCall(t, h, "POST", "/"+r.ID+"/approve", "bob", nil); code != 200 {
			t.Fatalf("approve: %d %s", code, body)
		}
		bumpOnAlias.Store(int64(2 * time.Hour))
		if rs := runClient(t, h, "alice", step("set_alias", mdl, "champion", v3)); !rs[0].OK {
			t.Fatalf("promotion: %+v", rs[0])
		}
		if offset.Load() == 0 {
			t.Fatal("the clock did not move during the promotion")
		}
		code, out, errs := pull("alice", filepath.Join(work, "late"), champ, "--public-key", pub)
		if code != 0 || !strings.Contains(out, "version "+v3) {
			t.Errorf("pull after a promotion that outlived its window: exit %d\n%s%s", code, out, errs)
		}
	})
}

func snapshotDir(t *testing.T, dir string) string {
	t.Helper()
	var b strings.Builder
	err := filepath.WalkDir(dir, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		b.WriteString(p + "\n")
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return b.String()
}
