package python

import (
	"regexp"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// secretChecker is what the analyzer needs from secret detection.
type secretChecker interface {
	// SensitiveKey reports whether a parameter/tag/env name denotes a secret.
	SensitiveKey(key string) bool
	// SecretValue reports whether a literal looks like a credential and names its kind.
	SecretValue(v string) (string, bool)
	// KnownFormat reports a credential in a known format (a vendor token, a
	// private key) in v, whatever the name it is stored under; generic
	// high-entropy strings and secret-named assignments do not count.
	KnownFormat(v string) (string, bool)
	// ScanText calls fn with the kind and start offset of each credential
	// in a text of any length and any number of lines (a private key spans
	// lines), each once.
	ScanText(text string, fn func(kind string, start int))
	// Redact masks secrets in a source line.
	Redact(line string) string
	// RealLooking reports a credential in a known format or random key
	// material (not a test fixture such as "test-key-12345").
	RealLooking(v string) bool
}

// detector adapts the shared secrets package.
type detector struct{ d *secrets.Detector }

func (x detector) SensitiveKey(k string) bool { return x.d.SensitiveKey(k) }

func (x detector) RealLooking(v string) bool { return x.d.RealLooking(v) }

func (x detector) SecretValue(v string) (string, bool) {
	ms := x.d.FindInValue(v)
	if len(ms) == 0 {
		return "", false
	}
	return kindName(ms[0].Kind), true
}

// notFormats are the kinds judged by context rather than by format.
var notFormats = map[string]bool{secrets.KindHighEntropy: true, secrets.KindAssignment: true, secrets.KindURLCredentials: true}

func (x detector) KnownFormat(v string) (string, bool) {
	for _, m := range x.d.FindInValue(v) {
		if !notFormats[m.Kind] {
			return kindName(m.Kind), true
		}
	}
	return "", false
}

// ScanText reads text in the overlapping windows uploads and audit --deep
// use, so a match is the same whatever its length or position.
func (x detector) ScanText(text string, fn func(kind string, start int)) {
	if len(text) <= secrets.StreamWindow {
		// one window: what ScanReader would do, without its window buffer
		// (a notebook has many small outputs)
		for _, m := range x.d.FindInValue(text) {
			fn(kindName(m.Kind), m.Start)
		}
		return
	}
	// fn never fails and a strings.Reader never does: no error to return
	_ = x.d.ScanReader(strings.NewReader(text), func(m secrets.Match) error {
		fn(kindName(m.Kind), m.Start)
		return nil
	})
}

// kindName is a secret kind as messages name it ("private key").
func kindName(kind string) string { return strings.ReplaceAll(kind, "-", " ") }

// afterKeyRe finds a quoted value right after a secret-looking key
// ("password": "x", token="x", api_key = 'x'); a short literal password has
// no recognisable format, so the value detectors alone would miss it.
var afterKeyRe = regexp.MustCompile(`(?i)([\w.-]*(?:password|passwd|pwd|secret|token|api_?key|credential|private_?key|_pass)[\w.-]*["']?\s*[:=,]\s*[a-z]{0,2})(["'])([^"'\n]+)(["'])`)

func (x detector) Redact(line string) string {
	line = x.d.RedactAll(line)
	lower := strings.ToLower(line)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "credential"} {
		if strings.Contains(lower, w) {
			return afterKeyRe.ReplaceAllString(line, "${1}${2}[REDACTED]${4}")
		}
	}
	return line
}
