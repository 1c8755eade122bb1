package audit

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// TestSecretsAcrossCuts: audit --deep finds a token that straddles a
// 64 KiB piece or a window edge inside one long line, and a private key
// file, each once, on the right line.
func TestSecretsAcrossCuts(t *testing.T) {
	tok := "ghp_" + "R7kd2Lq9XwZ4mN8pT3vB6cY1hJ5sF0aGe2Ku"
	line := func(n int) []byte {
		b := []byte(strings.Repeat("lorem ipsum dolor sit amet; ", n/28+1))[:n]
		return b
	}
	files := map[string][]byte{}
	step := secrets.StreamWindow - secrets.StreamOverlap
	for _, cut := range []int{64 << 10, 128 << 10, step, secrets.StreamWindow, 2 * step} {
		for _, phase := range []int{1, len(tok) / 2, len(tok) - 1} {
			b := append([]byte("first line\n"), line(3*secrets.StreamWindow)...)
			o := cut - phase
			copy(b[o-1:], " "+tok+" ")
			files[fmt.Sprintf("long-%d-%d.txt", cut, phase)] = append(b, "\nlast line\n"...)
		}
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	files["id_rsa"] = append([]byte("# key\n"), pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rk)})...)
	files["benign.txt"] = append(line(3*secrets.StreamWindow), '\n')
	dir, names := writeFiles(t, files)
	a := newTestAuditor(t)
	a.secretsInArtifacts("p", dir, names)
	got := map[string][]int{}
	for _, f := range a.res.Findings {
		if f.RuleID != "MLG204" {
			t.Errorf("unexpected %s", f.RuleID)
		}
		name := strings.TrimPrefix(f.Path, "p/")
		got[name] = append(got[name], f.Line)
		if strings.Contains(f.Message, tok) {
			t.Errorf("%s: the finding quotes the token", name)
		}
	}
	for name := range files {
		want := "[2]"
		if name == "benign.txt" {
			want = "[]"
		}
		if fmt.Sprint(got[name]) != want {
			t.Errorf("%s: findings on lines %v, want %s", name, got[name], want)
		}
	}
	if len(a.res.Errors) > 0 {
		t.Errorf("errors: %v", a.res.Errors)
	}
}
