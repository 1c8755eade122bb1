package secrets

import (
	"strings"
	"testing"
)

func TestCheck(t *testing.T) {
	d := New()
	cases := []struct {
		key, value string
		want       bool
	}{
		{"password", "changeme", true}, // a known default is a real, guessable secret
		{"db_password", "hunter2", true},
		{"OPENAI_API_KEY", "sk-" + "YOvfZ8UzDzV8fUkkibjL5DZPjN0MEQ7wjJJibaZUPgHV7iB3", true},
		{"note", "AKIA" + "UJZDEGXDNCF32EPF", true},             // value alone decides
		{"backend", "postgresql://u:" + "pw9x@h/db", true},      // URL credentials
		{"cache_key", "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb", true}, // weak key + entropy
		{"description", "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb", false},
		{"run_name", "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb", false},
		{"password", "", false},
		{"password", "${DB_PASSWORD}", false},
		{"password", "<from-secrets-manager>", false},
		{"token", "{{ .Values.token }}", false},
		{"api_key", "***", false},
		{"api_key", "[REDACTED]", false},
		{"secret", "None", false},
		{"key_metric", "accuracy", false},
		{"max_tokens", "4096", false},
		{"tokenizer", "bert-base-uncased", false},
		{"learning_rate", "0.01", false},
		{"backend", "postgresql://u:${PW}@h/db", false},
		{"log", "password=hunter22", true},
		{"db_password=" + "Zx9pLm2Qw7", "hunter2", true}, // a secret in the key is not echoed
	}
	for _, c := range cases {
		reason, ok := d.Check(c.key, c.value)
		if ok != c.want {
			t.Errorf("Check(%q, %q) = %v (%q), want %v", c.key, c.value, ok, reason, c.want)
			continue
		}
		if ok && reason == "" {
			t.Errorf("Check(%q, %q): empty reason", c.key, c.value)
		}
		if strings.Contains(reason, "Zx9pLm2Qw7") {
			t.Errorf("Check(%q, %q): reason %q leaks a secret from the key", c.key, c.value, reason)
		}
		if ok && len(c.value) > 3 && strings.Contains(reason, c.value) {
			t.Errorf("Check(%q, %q): reason %q leaks the value", c.key, c.value, reason)
		}
	}
}

func TestRedact(t *testing.T) {
	cases := map[string]string{
		"AKIA" + "UJZDEGXDNCF32EPF":                     "AKIA" + mask,
		"ghp_" + "hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES": "ghp_" + mask,
		"github_pat_" + "QedUStPKR0CsTy4Qwb8Dwk":        "gith" + mask,
		"hunter2":                                       mask, // short: no prefix
		"AKIA12":                                        mask,
		"mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb":              mask, // no known prefix: nothing kept
		"":                                              mask,
	}
	for in, want := range cases {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
	// fixed length: the mask does not reveal how long the secret was
	if len(Redact("sk-"+strings.Repeat("a1", 20))) != len(Redact("sk-"+strings.Repeat("a1", 80))) {
		t.Error("Redact output length depends on input length")
	}
}

func TestRedactAllKeepsContext(t *testing.T) {
	d := New()
	in := `mlflow.log_param("token", "ghp_` + `hGAkWvj7FAc9QeWJKY40uvSwMFLZDe1f8rES") # AKIA` + `UJZDEGXDNCF32EPF`
	want := `mlflow.log_param("token", "ghp_` + mask + `") # AKIA` + mask
	if got := d.RedactAll(in); got != want {
		t.Fatalf("RedactAll = %q, want %q", got, want)
	}
	plain := "mlflow.log_metric('accuracy', 0.93)"
	if got := d.RedactAll(plain); got != plain {
		t.Fatalf("RedactAll changed clean text: %q", got)
	}
}

// TestQuietBelow pins the promise of QuietBelow: under a key SensitiveKey
// rejects (weak keys included), no value shorter than QuietBelow bytes is
// reported, whatever its bytes.
func TestQuietBelow(t *testing.T) {
	d := New()
	keys := []string{"", "param_1", "key", "cache_key", "signature", "salt", "auth", "nonce", "pass",
		"private", "mlflow.runName", "tokenizer", "max_tokens", "password_file", "dbpass", "license"}
	values := []string{"hunter2", "changem", "p@ss", "AKIA123", "sk-abcd", "Zx9vQ2m", "a:b@c/d", "x=1234",
		"\x00\xff\xfe\x80ab", "é€漢字", "ghp_123", "eyJhbGc"}
	// Every string up to 3 bytes over a small alphabet with the characters
	// the detectors care about, plus the samples above and their prefixes.
	alphabet := "aZ9_-.:/@=$*xX "
	var gen func(prefix string)
	gen = func(prefix string) {
		values = append(values, prefix)
		if len(prefix) == 3 {
			return
		}
		for i := range len(alphabet) {
			gen(prefix + alphabet[i:i+1])
		}
	}
	gen("")
	for _, k := range keys {
		if d.SensitiveKey(k) {
			t.Fatalf("test key %q is sensitive", k)
		}
		for _, v := range values {
			for n := 0; n <= len(v) && n < QuietBelow; n++ {
				if reason, ok := d.Check(k, v[:n]); ok {
					t.Errorf("Check(%q, %q) = %q, want nothing below QuietBelow", k, v[:n], reason)
				}
				if m := d.FindInValue(v[:n]); m != nil {
					t.Errorf("FindInValue(%q) = %v", v[:n], m)
				}
			}
		}
	}
}
