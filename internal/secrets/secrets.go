// Package secrets detects credentials in keys and values. It is shared by the
// code scanner, the deploy analyzer, the gateway (which redacts live traffic)
// and the auditor, so it is pure computation: no I/O, no logging, no globals
// that change after start-up.
//
// Decisions on the ambiguous cases:
//   - "key" alone is not a secret word (primary_key, sort_key, key_metric);
//     a qualifier makes it one (api_key, private-key, signingKey). Under a
//     bare "key", "auth", "salt" or "signature" only a high-entropy value counts.
//   - "dsn" and "connection_string" are secret keys: they usually embed a
//     password or account key.
//   - "token" is a secret unless the key is about NLP tokens or pagination
//     (max_tokens, token_count, pad_token, next_page_token).
//   - Known weak defaults ("changeme", "admin", "password") are secrets, not
//     placeholders; templates, variable references, masks and markers such
//     as "<from-secrets-manager>" or "[REDACTED]" are placeholders.
//   - Free text (FindInValue) is judged more strictly than an explicit
//     key/value pair (Check): documentation examples and constants that name
//     a secret are not reported there.
package secrets

import (
	"fmt"
	"net/url"
	"sort"
)

// Match is one secret found in a string: its kind and its byte span.
type Match struct {
	Kind       string
	Start, End int
}

// Detector holds the compiled detectors. Build it once with New; it is
// immutable afterwards and therefore safe for concurrent use.
type Detector struct {
	rules  []*rule
	assign *assignRule
}

// New compiles every detector once.
func New() *Detector {
	rules := buildRules()
	for _, r := range rules {
		r.kwBytes = bytesOfEach(r.keywords)
	}
	return &Detector{rules: rules, assign: newAssignRule()}
}

// minCandidate is shorter than the shortest token format we know, so tiny
// strings (most dict keys and short values) skip every regex.
const minCandidate = 8

// QuietBelow is a byte length under which a value is never reported unless
// its key names a secret: for every key that SensitiveKey rejects and every
// value shorter than QuietBelow bytes, Check(key, value) returns ("", false)
// and FindInValue(value) returns nil. Bulk readers (the database audit) use
// it to leave such values unread.
const QuietBelow = minCandidate

// A loosely secret-like key ("cache_key") needs a high-entropy value, which is
// never shorter than QuietBelow; this fails to compile if that stops holding.
const _ = uint(minEntropyLen - QuietBelow)

// FindInValue returns the secrets found in s by their value, ordered by
// position. Generic high-entropy strings are reported only when a secret-like
// keyword assigns them inside s ("password=...", "token: ...").
func (d *Detector) FindInValue(s string) []Match {
	if len(s) < minCandidate {
		return nil
	}
	lower := asciiLower(s)
	present := bytesOf(lower)
	var out []Match
	for _, r := range d.rules {
		out = r.find(s, lower, &present, out)
	}
	out = d.assign.find(d, s, lower, &present, out)
	return normalize(out)
}

// normalize sorts matches (stable, so on equal spans the earlier, more
// specific rule wins) and drops those contained in an earlier, wider one,
// so a JWT inside a URL password is reported once.
func normalize(ms []Match) []Match {
	if len(ms) < 2 {
		return ms
	}
	sort.SliceStable(ms, func(i, j int) bool {
		if ms[i].Start != ms[j].Start {
			return ms[i].Start < ms[j].Start
		}
		return ms[i].End > ms[j].End
	})
	out := ms[:1]
	for _, m := range ms[1:] {
		last := out[len(out)-1]
		if m.Start >= last.Start && m.End <= last.End {
			continue
		}
		out = append(out, m)
	}
	return out
}

// Check judges a key/value pair such as a run param, a tag, an environment
// variable or a dict entry. It reports a secret when the value matches a
// known credential format, when the key names a secret and the value is a
// literal rather than a placeholder, or when a loosely secret-like key ("key",
// "signature", "salt") holds a high-entropy string. The reason never contains
// the value.
func (d *Detector) Check(key, value string) (reason string, ok bool) {
	for _, m := range d.FindInValue(value) {
		if m.Kind == KindHighEntropy || m.Kind == KindAssignment {
			// judged against the outer key below; a nested "token=..." in the
			// value still counts
			if key == "" || !d.SensitiveKey(key) {
				return fmt.Sprintf("value contains %s", d.describe(m.Kind)), true
			}
			continue
		}
		return fmt.Sprintf("value looks like %s", d.describe(m.Kind)), true
	}
	// Judge the key before the value: most keys name nothing secret, and the
	// placeholder check (regexes) is the costly part on bulk audits.
	sensitive, weak := d.keyKinds(key)
	if !sensitive && !weak {
		return "", false
	}
	if IsPlaceholder(value) {
		return "", false
	}
	if sensitive {
		return fmt.Sprintf("key %q names a secret and holds a literal value", d.safeKey(key)), true
	}
	if highEntropy(value) {
		return fmt.Sprintf("key %q holds a high-entropy string", d.safeKey(key)), true
	}
	return "", false
}

// safeKey is the key as it may appear in a reason: keys are names, but a
// key can itself carry a secret ("password=hunter2" used as a tag name).
func (d *Detector) safeKey(key string) string {
	const maxShown = 80
	k := d.RedactAll(key)
	if len(k) > maxShown {
		k = k[:maxShown] + "..."
	}
	return k
}

// RealLooking reports a value that is more than a throwaway test or template
// password: a credential in a known format (a cloud key, a vendor token, a
// private key) or random key material, in the value itself or as a URL's
// password. "minio123" or "test-key-12345" next to a secret-sounding name
// is not. Callers use it where literal values are expected to be fixtures
// (CI files, test stacks, test code, templates to fill in).
func (d *Detector) RealLooking(s string) bool {
	for _, m := range d.FindInValue(s) {
		switch m.Kind {
		case KindHighEntropy, KindAssignment, KindURLCredentials:
		default:
			return true
		}
	}
	if u, err := url.Parse(s); err == nil && u.User != nil {
		if pw, ok := u.User.Password(); ok {
			return HighEntropy(pw)
		}
	}
	return HighEntropy(s)
}
