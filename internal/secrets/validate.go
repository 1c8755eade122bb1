package secrets

import (
	"encoding/base64"
	"encoding/json"
	"math"
	"strings"
)

// shannon returns the Shannon entropy of s in bits per byte.
func shannon(s string) float64 {
	if s == "" {
		return 0
	}
	var counts [256]int
	for i := 0; i < len(s); i++ {
		counts[s[i]]++
	}
	n := float64(len(s))
	var h float64
	for _, c := range counts {
		if c > 0 {
			p := float64(c) / n
			h -= p * math.Log2(p)
		}
	}
	return h
}

// Entropy thresholds depend on the alphabet: a random hex string cannot
// exceed 4 bits per char, a base64 one can reach 6.
const (
	minEntropyLen    = 20
	hexEntropyMin    = 3.0
	base64EntropyMin = 3.5
)

// highEntropy reports whether s looks like random key material: long enough,
// letters and digits mixed, no spaces, not a URL or path of words, and
// entropy above the threshold for its alphabet.
func highEntropy(s string) bool {
	if len(s) < minEntropyLen || strings.ContainsAny(s, " \t\n") || strings.Contains(s, "://") {
		return false
	}
	if !hasDigit(s) || !(hasUpper(s) || hasLower(s)) {
		return false
	}
	if strings.Count(s, "/") > 2 || strings.Count(s, ".") > 2 || strings.Count(s, "_")+strings.Count(s, "-") > 3 {
		return false // paths, dotted names, snake_case identifiers, header names
	}
	if !hasUpper(s) && strings.ContainsAny(s, "_-.") && !isHex(strings.NewReplacer("-", "", "_", "", ".", "").Replace(s)) {
		return false // lower-case words joined by separators: a slug or identifier
	}
	if isHex(s) {
		return shannon(s) >= hexEntropyMin
	}
	return shannon(s) >= base64EntropyMin
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return s != ""
}

// mixed: a token body that has both letters and digits and is not a mask.
func mixed(s string) bool {
	return hasDigit(s) && (hasUpper(s) || hasLower(s)) && !allMask(s)
}

func hasDigit(s string) bool { return strings.ContainsAny(s, "0123456789") }
func hasUpper(s string) bool { return strings.ContainsAny(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ") }
func hasLower(s string) bool { return strings.ContainsAny(s, "abcdefghijklmnopqrstuvwxyz") }

// base64Run counts base64 characters after the first line of a PEM block,
// so a bare "-----BEGIN ... PRIVATE KEY-----" string (a parser looking for
// keys) is not a key.
func base64Run(block string) int {
	i := strings.Index(block, "KEY-----")
	if i < 0 {
		return 0
	}
	body := block[i+len("KEY-----"):]
	if j := strings.Index(body, "-----END"); j >= 0 {
		body = body[:j]
	}
	n := 0
	for k := 0; k < len(body); k++ {
		c := body[k]
		if c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '+' || c == '/' {
			n++
		}
	}
	return n
}

// validJWT: header and payload are base64url JSON objects and the header
// names an algorithm.
func validJWT(tok string) bool {
	parts := strings.SplitN(tok, ".", 3)
	if len(parts) != 3 {
		return false
	}
	var hdr map[string]any
	if !decodeJSON(parts[0], &hdr) {
		return false
	}
	if _, ok := hdr["alg"]; !ok {
		return false
	}
	var body map[string]any
	return decodeJSON(parts[1], &body)
}

func decodeJSON(seg string, v any) bool {
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return false
	}
	return json.Unmarshal(raw, v) == nil
}

// validURLPassword rejects placeholders and variable references in the
// password part, and "host:port@" lookalikes.
func validURLPassword(pw, whole string) bool {
	if IsPlaceholder(pw) || strings.ContainsAny(pw, "${}%") || allMask(pw) {
		return false
	}
	if user, _, _ := strings.Cut(strings.TrimPrefix(whole, "://"), ":"); genericUser[asciiLower(user)] && genericPassword[asciiLower(pw)] {
		return false // documentation: https://user:pass@host, models://scope:prefix@profile
	}
	if isDigits(pw) && len(pw) <= 5 {
		i := strings.Index(whole, "://")
		if user := whole[i+3:]; strings.Contains(user[:strings.IndexByte(user, ':')], ".") {
			return false // http://host.example:8080@... is a port, not a password
		}
	}
	return true
}

var (
	genericUser     = map[string]bool{"user": true, "username": true, "usr": true, "name": true, "login": true, "scope": true, "": true}
	genericPassword = map[string]bool{"pass": true, "password": true, "passwd": true, "pwd": true, "pw": true, "token": true, "secret": true, "prefix": true, "key": true, "apikey": true}
)

// validBasic: base64 of "user:password" with a non-placeholder password.
func validBasic(s string) bool {
	raw, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		raw, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
		if err != nil {
			return false
		}
	}
	u, p, ok := strings.Cut(string(raw), ":")
	return ok && u != "" && p != "" && !IsPlaceholder(p)
}

// describe turns a kind into the phrase used in reasons.
func (d *Detector) describe(kind string) string {
	switch kind {
	case KindHighEntropy:
		return "a high-entropy string assigned to a secret-like name"
	case KindAssignment:
		return "a literal assigned to a secret-like name"
	}
	for _, r := range d.rules {
		if r.kind == kind {
			return r.desc
		}
	}
	return "a " + kind
}

// HighEntropy reports whether s looks like random key material (the test
// Check applies to values under a loosely secret-like key).
func HighEntropy(s string) bool { return highEntropy(s) }
