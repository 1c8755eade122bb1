package cli

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

func runCLI(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var out, errb bytes.Buffer
	code := Run(context.Background(), args, Env{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errb,
		Getenv: func(k string) string {
			if k == "USER" {
				return "tester"
			}
			return ""
		}})
	return out.String(), errb.String(), code
}

func TestAdminCommands(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "state")
	steps := []struct {
		stdin string
		args  []string
		code  int
		out   string // regexp the stdout must match
	}{
		{"admin password 123\n", []string{"users", "create", "root", "--admin", "--password-stdin", "--data-dir", dir}, 0, `^$`},
		{"bob password 12345\n", []string{"users", "create", "bob", "--password-stdin", "--data-dir", dir}, 0, `^$`},
		{"", []string{"users", "create", "carol", "--data-dir", dir}, ExitUsage, `^$`},
		{"short\n", []string{"users", "create", "carol", "--password-stdin", "--data-dir", dir}, ExitUsage, `^$`},
		{"x\n", []string{"users", "create", "dup", "--password-stdin"}, ExitUsage, `^$`},
		{"", []string{"tokens", "create", "bob", "--data-dir", dir}, 0, `^mlg_[a-z2-7]{52}\n$`},
		{"", []string{"tokens", "create", "ghost", "--data-dir", dir}, ExitFailed, `^$`},
		{"", []string{"users", "list", "--data-dir", dir}, 0, `(?m)^root\s+true\s+false`},
		{"", []string{"groups", "create", "team", "--data-dir", dir}, 0, ``},
		{"", []string{"groups", "add", "team", "bob", "--data-dir", dir}, 0, ``},
		{"", []string{"groups", "list", "--data-dir", dir}, 0, `(?m)^team\s+bob$`},
		{"", []string{"grants", "add", "group:team", "experiment", "12", "EDIT", "--data-dir", dir}, 0, ``},
		{"", []string{"grants", "add", "user:bob", "experiment", "12", "OWN", "--data-dir", dir}, ExitUsage, ``},
		{"", []string{"grants", "list", "--data-dir", dir}, 0, `(?m)^group:team\s+experiment\s+12\s+EDIT$`},
		{"new password 1234\n", []string{"users", "passwd", "bob", "--password-stdin", "--data-dir", dir}, 0, ``},
		{"", []string{"users", "disable", "bob", "--data-dir", dir}, 0, ``},
		{"", []string{"users", "list", "--json", "--data-dir", dir}, 0, `"disabled":true,"groups":\["team"\],"name":"bob"`},
		{"", []string{"grants", "remove", "group:team", "experiment", "12", "--data-dir", dir}, 0, ``},
		{"", []string{"groups", "remove", "team", "bob", "--data-dir", dir}, 0, ``},
		{"", []string{"auditlog", "verify", "--data-dir", dir}, 0, `audit log intact: 10 rows`},
		{"", []string{"auditlog", "export", "--data-dir", dir}, 0, `(?s)"actor":"cli:tester","action":"users.create".*"action":"groups.remove"`},
	}
	var tokenID string
	for _, s := range steps {
		out, errOut, code := runCLI(t, s.stdin, s.args...)
		if code != s.code || !regexp.MustCompile(s.out).MatchString(out) {
			t.Fatalf("%v: code %d (want %d)\nstdout: %q\nstderr: %s", s.args, code, s.code, out, errOut)
		}
		if s.args[0] == "tokens" && code == 0 {
			if strings.Contains(errOut, strings.TrimSpace(out)) {
				t.Fatalf("token repeated on stderr")
			}
			tokenID = strings.Fields(errOut)[1]
		}
	}
	out, _, _ := runCLI(t, "", "tokens", "list", "--data-dir", dir)
	if !strings.Contains(out, tokenID) {
		t.Fatalf("tokens list: %s", out)
	}
	if _, e, code := runCLI(t, "", "tokens", "revoke", tokenID, "--data-dir", dir); code != 0 {
		t.Fatal(e)
	}
	// Editing a row makes verify fail with exit 1.
	st, err := store.Open(context.Background(), store.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if err := st.TamperForTest(`UPDATE audit_log SET detail = 'user=root' WHERE seq = 3`); err != nil {
		t.Fatal(err)
	}
	st.Close()
	out, _, code := runCLI(t, "", "auditlog", "verify", "--data-dir", dir)
	if code != ExitFindings || !strings.Contains(out, "row 3: content does not match") {
		t.Fatalf("verify after tamper: %d %s", code, out)
	}
}
