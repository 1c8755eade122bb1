package secrets

import (
	"strings"
	"testing"
)

// seeds: every rule's own true and false positives plus mixed text.
func addSeeds(f *testing.F, d *Detector) {
	for _, r := range d.rules {
		for _, s := range append(append([]string{}, r.tp...), r.fp...) {
			f.Add(s)
		}
	}
	f.Add("log: token=mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb url=postgresql://mlflow:S3cr3tPw@db/x")
	f.Add(`{"password": "hunter2!", "api_key": "${KEY}"}`)
}

func checkMatches(t *testing.T, s string, ms []Match) {
	t.Helper()
	prevEnd := -1
	for _, m := range ms {
		if m.Start < 0 || m.End > len(s) || m.Start >= m.End {
			t.Fatalf("bad span %+v for len %d", m, len(s))
		}
		if m.Kind == "" {
			t.Fatalf("empty kind in %+v", m)
		}
		if m.Start < prevEnd && m.End <= prevEnd {
			t.Fatalf("nested match %+v not dropped", m)
		}
		prevEnd = max(prevEnd, m.End)
	}
}

func FuzzFindInValue(f *testing.F) {
	d := New()
	addSeeds(f, d)
	f.Fuzz(func(t *testing.T, s string) {
		ms := d.FindInValue(s)
		checkMatches(t, s, ms)
		for _, m := range ms {
			if sec := s[m.Start:m.End]; Redact(sec) == sec {
				t.Fatalf("Redact left detected %s %q unchanged", m.Kind, sec)
			}
		}
	})
}

func FuzzRedactAll(f *testing.F) {
	d := New()
	addSeeds(f, d)
	f.Fuzz(func(t *testing.T, s string) {
		out := d.RedactAll(s)
		if ms := d.FindInValue(out); len(ms) > 0 {
			t.Fatalf("RedactAll(%q) = %q still has %s %q", s, out, ms[0].Kind, out[ms[0].Start:ms[0].End])
		}
		for _, m := range d.FindInValue(s) {
			if sec := s[m.Start:m.End]; len(sec) >= 12 && strings.Contains(out, sec) {
				t.Fatalf("RedactAll(%q) = %q keeps %q", s, out, sec)
			}
		}
	})
}

func FuzzCheck(f *testing.F) {
	d := New()
	for _, r := range d.rules {
		for _, s := range r.tp {
			f.Add("value", s)
			f.Add("api_key", s)
		}
	}
	f.Add("password", "changeme")
	f.Add("max_tokens", "4096")
	f.Add("cache_key", "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb")
	f.Fuzz(func(t *testing.T, key, value string) {
		reason, ok := d.Check(key, value)
		if ok != (reason != "") {
			t.Fatalf("Check(%q, %q) = %q, %v: reason and verdict disagree", key, value, reason, ok)
		}
		// the reason may quote the key, never the value
		if ok && len(value) >= 6 && !strings.Contains(key, value) && !strings.Contains(d.describeAll(), value) &&
			strings.Contains(reason, value) {
			t.Fatalf("Check(%q, %q): reason %q leaks the value", key, value, reason)
		}
		sensitive := d.SensitiveKey(key)
		if s, w := d.keyKinds(key); s != sensitive || w != (!sensitive && weakSecretKey(key)) {
			t.Fatalf("keyKinds(%q) = %v, %v; SensitiveKey %v, weakSecretKey %v", key, s, w, sensitive, weakSecretKey(key))
		}
		if ok && !sensitive && len(value) < QuietBelow {
			t.Fatalf("Check(%q, %q) = %q under QuietBelow", key, value, reason)
		}
		lower := asciiLower(value)
		present := bytesOf(lower)
		for _, r := range d.rules {
			if containsAnyBytes(lower, &present, r.keywords, r.kwBytes) != containsAny(lower, r.keywords) {
				t.Fatalf("keyword prefilter of %s disagrees on %q", r.kind, value)
			}
		}
		_ = IsPlaceholder(value)
	})
}

// describeAll is the fixed text reasons are built from; a value that happens
// to be a substring of it is not a leak.
func (d *Detector) describeAll() string {
	var b strings.Builder
	b.WriteString("key names a secret and holds a literal value holds a high-entropy string value contains value looks like ")
	for _, k := range []string{KindHighEntropy, KindAssignment} {
		b.WriteString(d.describe(k))
	}
	for _, r := range d.rules {
		b.WriteString(r.desc + " ")
	}
	return b.String()
}
