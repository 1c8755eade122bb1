package gateway

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// longLine is one line of n bytes of harmless text, with word breaks at
// every phase.
func longLine(n int) []byte {
	const s = "lorem ipsum dolor sit amet, max_tokens=4096 tokenizer=bert; "
	b := make([]byte, n)
	for i := range b {
		b[i] = s[i%len(s)]
	}
	return b
}

// TestTextUploadSecretsAcrossCuts uploads, with the real client through
// the gateway, single-line text artifacts that carry a real-format secret
// straddling each place the scan could cut the line (the old 64 KiB pieces,
// both edges of the scanner's windows): every one is refused and none is
// stored, while the same lines without the secret are stored.
func TestTextUploadSecretsAcrossCuts(t *testing.T) {
	if testing.Short() {
		t.Skip("starts MLflow")
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)}))
	secs := map[string]string{
		"aws":    "AKIA" + "UJZDEGXDNCF32EPF",
		"github": ghToken,
		"openai": "sk-proj-" + "yBdGBLEPH1qhT61qtc4xatws8phP9nhFyJfm5di4PzJ59FHz5r1pY4OjE2jB",
		"pem":    pemKey,
	}
	step := secrets.StreamWindow - secrets.StreamOverlap
	cuts := map[string]int{"64k": 64 << 10, "w0end": secrets.StreamWindow, "w1start": step, "w2start": 2 * step, "w1end": step + secrets.StreamWindow}
	dir := t.TempDir()
	const size = 3 * secrets.StreamWindow
	want := map[string]bool{} // name: refused
	for sn, sec := range secs {
		for cn, cut := range cuts {
			for _, phase := range []int{1, len(sec) / 2, len(sec) - 1} {
				b := longLine(size)
				o := cut - phase
				copy(b[o-1:], " "+sec+" ")
				name := fmt.Sprintf("%s-%s-%d.txt", sn, cn, phase)
				writeFile(t, filepath.Join(dir, name), b)
				want[name] = true
			}
		}
	}
	writeFile(t, filepath.Join(dir, "id_rsa.txt"), []byte(pemKey))
	want["id_rsa.txt"] = true
	writeFile(t, filepath.Join(dir, "long-benign.txt"), longLine(size))
	writeFile(t, filepath.Join(dir, "lines-benign.txt"), []byte(strings.Repeat("max_tokens: 4096\ntokenizer: bert-base-uncased\n", 20000)))
	want["long-benign.txt"], want["lines-benign.txt"] = false, false

	h := startHarness(t)
	env := []string{"MLFLOW_TRACKING_URI=" + h.url, "MLFLOW_HTTP_REQUEST_MAX_RETRIES=0",
		"MLFLOW_TRACKING_USERNAME=alice", "MLFLOW_TRACKING_PASSWORD=" + h.creds["alice"]}
	out := testenv.RunPython(t, filepath.Join("testdata", "text_uploads.py"), env, dir, "textscan")
	i := strings.LastIndex(out, "RESULT ")
	if i < 0 {
		t.Fatalf("no result:\n%s", out)
	}
	var r struct {
		RunID   string            `json:"run_id"`
		Uploads map[string]string `json:"uploads"`
	}
	line, _, _ := strings.Cut(out[i+len("RESULT "):], "\n")
	if err := json.Unmarshal([]byte(line), &r); err != nil {
		t.Fatalf("result: %v\n%s", err, out)
	}
	var ls struct {
		Files []struct{ Path string } `json:"files"`
	}
	upstreamGet(t, h.ml, "/api/2.0/mlflow/artifacts/list", url.Values{"run_id": {r.RunID}, "path": {"text"}}, &ls)
	listed := map[string]bool{}
	for _, f := range ls.Files {
		listed[strings.TrimPrefix(f.Path, "text/")] = true
	}
	if len(r.Uploads) != len(want) {
		t.Fatalf("uploaded %d files, want %d", len(r.Uploads), len(want))
	}
	for name, refused := range want {
		got := r.Uploads[name]
		if refused {
			if !strings.Contains(got, "MLG204") || listed[name] {
				t.Errorf("%s: %q (stored upstream: %v), want an MLG204 refusal", name, got, listed[name])
			}
			for _, sec := range secs {
				if strings.Contains(got, strings.TrimSpace(sec)) {
					t.Errorf("%s: the refusal quotes the secret", name)
				}
			}
		} else if got != "stored" || !listed[name] {
			t.Errorf("%s: %q (stored upstream: %v), want it stored", name, got, listed[name])
		}
	}
}
