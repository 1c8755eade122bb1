package cli

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/gateway"
	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

func TestKeysPublicAndRotate(t *testing.T) {
	dir := t.TempDir()
	if code, _, errs := run(t, "keys", "public", "--data-dir", dir); code != ExitFailed || !strings.Contains(errs, "first start") {
		t.Errorf("no key yet: exit %d %s", code, errs)
	}
	k, err := gateway.LoadSigningKeys("", "", dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(filepath.Join(dir, gateway.SigningKeyFile))
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v %v", fi.Mode(), err)
	}
	code, out, errs := run(t, "keys", "public", "--data-dir", dir)
	keys, perr := approval.ParsePublicKeys([]byte(out))
	if code != ExitOK || perr != nil || len(keys) != 1 || !keys[0].Equal(k.Public()) || !strings.Contains(errs, approval.Fingerprint(k.Public())) {
		t.Fatalf("public: exit %d %v %s", code, perr, errs)
	}
	if code, out, _ = run(t, "keys", "rotate", "--data-dir", dir); code != ExitOK || !strings.Contains(out, approval.Fingerprint(k.Public())) {
		t.Fatalf("rotate: exit %d %s", code, out)
	}
	k2, err := gateway.LoadSigningKeys("", "", dir, nil)
	if err != nil || k2.Public().Equal(k.Public()) || len(k2.Ring) != 1 || !k2.Ring[0].Equal(k.Public()) {
		t.Fatalf("after rotation: %v %+v", err, k2)
	}
	// A record signed before the rotation still verifies with what is published.
	rec, err := approval.Encode(approval.Record{V: 1, Model: "m"}, k.Private)
	if err != nil {
		t.Fatal(err)
	}
	outFile := filepath.Join(t.TempDir(), "ring.pem")
	if code, _, errs = run(t, "keys", "public", "--data-dir", dir, "-o", outFile); code != ExitOK {
		t.Fatalf("public -o: %d %s", code, errs)
	}
	data, _ := os.ReadFile(outFile)
	ring, err := approval.ParsePublicKeys(data)
	if err != nil || len(ring) != 2 || !ring[0].Equal(k2.Public()) {
		t.Fatalf("published ring: %v %d", err, len(ring))
	}
	if _, err := approval.Decode(rec, ring); err != nil {
		t.Errorf("old record after rotation: %v", err)
	}
	if code, _, _ = run(t, "keys", "public"); code != ExitUsage {
		t.Errorf("keys public without a source: %d", code)
	}
	// serve refuses --database-url without a shared key.
	if code, _, errs = run(t, "serve", "--upstream", "http://127.0.0.1:1", "--database-url", "postgres://x@127.0.0.1/db"); code != ExitUsage || !strings.Contains(errs, "--signing-key") {
		t.Errorf("serve without a signing key on PostgreSQL: %d %s", code, errs)
	}
}

// serve creates the key in --data-dir on first start, logs its
// fingerprint, and publishes the public key without authentication; the
// same key is what `keys public` writes.
func TestServeSigningKey(t *testing.T) {
	dir := t.TempDir()
	for _, withFile := range []bool{false, true} {
		args := []string{"--data-dir", dir}
		var want string
		if withFile {
			k, err := approval.GenerateKey(nil)
			if err != nil {
				t.Fatal(err)
			}
			pemBytes, _ := approval.MarshalPrivateKey(k)
			kf := filepath.Join(t.TempDir(), "sign.pem")
			if err := os.WriteFile(kf, pemBytes, 0o600); err != nil {
				t.Fatal(err)
			}
			args = append(args, "--signing-key", kf)
			want = approval.Fingerprint(k.Public().(ed25519.PublicKey))
		}
		addr := fmt.Sprintf("127.0.0.1:%d", testenv.FreePort(t))
		ctx, cancel := context.WithCancel(context.Background())
		var stderr syncBuf
		done := make(chan int, 1)
		go func() {
			done <- Run(ctx, append([]string{"serve", "--upstream", "http://127.0.0.1:9", "--listen", addr}, args...),
				Env{Stdout: io.Discard, Stderr: &stderr, Getenv: func(string) string { return "" }})
		}()
		var body []byte
		var resp *http.Response
		var err error
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if resp, err = http.Get("http://" + addr + "/.well-known/mlflow-guard/approval-key.pem"); err == nil {
				body, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
				break
			}
		}
		cancel()
		<-done
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("well-known key: %v %v\n%s", resp, err, stderr.String())
		}
		keys, err := approval.ParsePublicKeys(body)
		if err != nil || len(keys) != 1 {
			t.Fatalf("served key: %v", err)
		}
		fp := approval.Fingerprint(keys[0])
		if !strings.Contains(stderr.String(), fp) || resp.Header.Get("X-Mlflow-Guard-Key-Fingerprint") != fp {
			t.Errorf("fingerprint %s not logged or not in the header:\n%s", fp, stderr.String())
		}
		if withFile {
			if fp != want {
				t.Errorf("--signing-key not used: served %s, want %s", fp, want)
			}
			continue
		}
		if _, out, _ := run(t, "keys", "public", "--data-dir", dir); out != string(body) {
			t.Errorf("keys public differs from the served key")
		}
	}
}
