package secrets

import (
	"regexp"
	"strings"
)

// Placeholders stand where a secret will be injected later; they are not
// secrets. Weak defaults such as "changeme", "admin" or "password" are NOT
// placeholders: they are real, guessable credentials.
var placeholderWords = map[string]bool{
	"": true, "none": true, "null": true, "nil": true, "undefined": true, "true": true,
	"false": true, "yes": true, "no": true, "on": true, "off": true, "redacted": true,
	"[redacted]": true, "<redacted>": true, "(redacted)": true, "masked": true, "hidden": true,
	"placeholder": true, "todo": true, "tbd": true, "n/a": true, "na": true, "-": true,
	"required": true, "optional": true, "env": true,
}

var (
	// ${VAR}, ${VAR:-x}, $VAR, $(cmd), {{ .Values.x }}, {{ secrets.X }},
	// <from-secrets-manager>, %(password)s, {password}, %s
	placeholderRe = regexp.MustCompile(`^(?:\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*|\$\([^)]*\)|\{\{[^}]*\}\}|<[^<>]*>|%\([A-Za-z_][A-Za-z0-9_]*\)[sd]|%[sd]|\{[A-Za-z_][A-Za-z0-9_.]*\}|\{\})$`)
	// env-var lookups and secret-store references written as text
	referenceRe = regexp.MustCompile(`(?i)^(?:os\.environ|os\.getenv|getenv|env(?:iron)?[:.\[(]|vault:|secretsmanager:|ssm:|arn:aws:(?:secretsmanager|ssm):|projects/[^/]+/secrets/|@microsoft\.keyvault\(|secretkeyref|valuefrom|sm://|gcp:secretmanager:|azure-keyvault:|keyring:|file:/run/secrets/|/run/secrets/)`)
	// values that say they are not real: "mock_key_secret",
	// "bench-secret-key-not-a-credential", "thisisnotasecret"
	fakeRe = regexp.MustCompile(`(?i)^(?:mock|fake|dummy)[-_]|not[-_]?a[-_]?(?:credential|secret|real[-_]|password)`)
	// "your-api-key", "your_password_here", "<insert token>", "INSERT_KEY_HERE"
	yourRe = regexp.MustCompile(`(?i)^(?:your|insert|enter|replace|put)[-_ ][a-z0-9_ -]*$|[-_ ]here$`)
)

// awsDocExamples are the key pairs AWS's documentation uses. They are exact
// values, not a pattern: a key merely ending in EXAMPLE is still judged.
var awsDocExamples = map[string]bool{
	"AKIAIOSFODNN7EXAMPLE": true, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY": true,
	"AKIAI44QH8DHBEXAMPLE": true, "je7MtGbClwBF/2Zp9Utk/h3yCo8nvbEXAMPLEKEY": true,
	"ASIAIOSFODNN7EXAMPLE": true,
}

// AWSDocExample reports one of the exact key values of AWS's documentation.
func AWSDocExample(v string) bool { return awsDocExamples[strings.Trim(strings.TrimSpace(v), `"'`)] }

// IsPlaceholder reports whether a literal value is a stand-in for a secret
// rather than a secret: empty, a template or variable reference, a masked
// value, an explicit marker such as "REDACTED" or "<from-secrets-manager>",
// or a secret-store reference.
func IsPlaceholder(v string) bool {
	t := strings.TrimSpace(v)
	t = strings.Trim(t, `"'`)
	l := asciiLower(t)
	if placeholderWords[l] {
		return true
	}
	if allMask(t) || placeholderRe.MatchString(t) || referenceRe.MatchString(t) || yourRe.MatchString(t) || fakeRe.MatchString(t) || awsDocExamples[t] {
		return true
	}
	if maskedToken(t) {
		return true // a token format's prefix with a masked body ("sk-xxx", "ghp_XXXXXXXX")
	}
	if strings.Contains(t, "***") || strings.Contains(t, "...") || strings.Contains(t, "…") {
		return true // already redacted ("sk-****************") or elided ("sk-...xyz1")
	}
	if isDigits(t) && len(t) < 4 {
		return true // a count or flag, not a credential
	}
	return false
}

// maskedToken: a short prefix ("sk", "sk-proj", "ghp") and a body that is
// all mask characters, the way token formats are shown in templates.
func maskedToken(s string) bool {
	i := strings.IndexAny(s, "-_")
	if i < 1 || i > 8 {
		return false
	}
	for _, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	body := s[i+1:]
	if j := strings.LastIndexAny(body, "-_"); j >= 0 && j < 8 && !allMask(body[:j]) {
		body = body[j+1:] // "sk-proj-xxxx"
	}
	return allMask(body) && strings.ContainsAny(strings.ToLower(body), "x*")
}

// allMask: "***", "xxxxx", "....", "-----", "•••" and the like.
func allMask(s string) bool {
	if len(s) < 3 {
		return false
	}
	for _, r := range strings.ToLower(s) {
		switch r {
		case '*', 'x', '.', '#', '-', '_', '•', '?', '0':
		default:
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// SelfDeclaredFake reports a value that says it is not a real credential
// ("mock_key_secret", "bench-secret-key-not-a-credential").
func SelfDeclaredFake(v string) bool {
	return fakeRe.MatchString(strings.Trim(strings.TrimSpace(v), `"'`))
}
