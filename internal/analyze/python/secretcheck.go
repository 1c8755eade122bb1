package python

import (
	"regexp"
	"strings"
	"unicode"
)

// secretChecker is what the analyzer needs from secret detection.
type secretChecker interface {
	// SensitiveKey reports whether a parameter/tag/env name denotes a secret.
	SensitiveKey(key string) bool
	// SecretValue reports whether a literal looks like a credential and names its kind.
	SecretValue(v string) (string, bool)
	// Redact masks secrets in a source line.
	Redact(line string) string
}

// wordSecrets is the word-aware detector used by the analyzer: a key is
// split into words (snake, kebab, dotted, camelCase) and matched word by
// word, so key_metric, max_tokens or tokenizer never match.
type wordSecrets struct{}

var secretWords = map[string]bool{
	"password": true, "passwd": true, "pwd": true, "secret": true, "secrets": true, "token": true,
	"credential": true, "credentials": true, "apikey": true, "passphrase": true, "privatekey": true,
	"accesskey": true, "secretkey": true, "authtoken": true, "bearer": true, "cookie": true, "sessionid": true,
}

// keyQualifiers turn "key" into a secret when they precede it (api_key).
var keyQualifiers = map[string]bool{
	"api": true, "private": true, "secret": true, "access": true, "signing": true, "encryption": true,
	"master": true, "ssh": true, "client": true, "account": true, "storage": true, "auth": true, "license": true,
}

func splitWords(k string) []string {
	var words []string
	var cur []rune
	rs := []rune(k)
	flush := func() {
		if len(cur) > 0 {
			words = append(words, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	for i, r := range rs {
		switch {
		case !unicode.IsLetter(r) && !unicode.IsDigit(r):
			flush()
		case unicode.IsUpper(r) && i > 0 && unicode.IsLower(rs[i-1]):
			flush()
			cur = append(cur, r)
		default:
			cur = append(cur, r)
		}
	}
	flush()
	return words
}

func (wordSecrets) SensitiveKey(k string) bool {
	ws := splitWords(k)
	for i, w := range ws {
		if secretWords[w] {
			return true
		}
		if w == "key" && i > 0 && keyQualifiers[ws[i-1]] {
			return true
		}
		if w == "pass" && i == len(ws)-1 && i > 0 {
			return true // DB_PASS
		}
	}
	return false
}

var secretValueRes = []struct {
	kind string
	re   *regexp.Regexp
}{
	{"AWS access key", regexp.MustCompile(`\b(?:AKIA|ASIA)[0-9A-Z]{16}\b`)},
	{"GitHub token", regexp.MustCompile(`\b(?:ghp|gho|ghu|ghs|ghr)_[A-Za-z0-9]{36}\b|\bgithub_pat_[A-Za-z0-9_]{40,}`)},
	{"OpenAI key", regexp.MustCompile(`\bsk-(?:proj-)?[A-Za-z0-9_-]{20,}`)},
	{"Slack token", regexp.MustCompile(`\bxox[abposr]-[A-Za-z0-9-]{10,}`)},
	{"Google API key", regexp.MustCompile(`\bAIza[0-9A-Za-z_-]{35}\b`)},
	{"Hugging Face token", regexp.MustCompile(`\bhf_[A-Za-z0-9]{30,}\b`)},
	{"GitLab token", regexp.MustCompile(`\bglpat-[A-Za-z0-9_-]{20,}`)},
	{"private key", regexp.MustCompile(`-----BEGIN [A-Z ]*PRIVATE KEY-----`)},
	{"JWT", regexp.MustCompile(`\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}`)},
	{"URL with password", regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s/:@{}]+:[^\s/@{}$<]+@`)},
}

func (wordSecrets) SecretValue(v string) (string, bool) {
	for _, r := range secretValueRes {
		if r.re.MatchString(v) {
			return r.kind, true
		}
	}
	return "", false
}

// afterKeyRe finds a quoted value right after a secret-looking key
// ("password": "x", token="x", api_key = 'x').
var afterKeyRe = regexp.MustCompile(`(?i)([\w.-]*(?:password|passwd|pwd|secret|token|api_?key|credential|private_?key|_pass)[\w.-]*["']?\s*[:=,]\s*[a-z]{0,2})(["'])([^"'\n]+)(["'])`)

func (wordSecrets) Redact(line string) string {
	for _, r := range secretValueRes {
		line = r.re.ReplaceAllString(line, "[REDACTED]")
	}
	lower := strings.ToLower(line)
	for _, w := range []string{"pass", "pwd", "secret", "token", "key", "credential"} {
		if strings.Contains(lower, w) {
			return afterKeyRe.ReplaceAllString(line, "${1}${2}[REDACTED]${4}")
		}
	}
	return line
}
