package secrets

import (
	"strings"
	"testing"
)

// Every detector carries its own known true and false positives; this test
// holds each rule to them (gitleaks-style self-validation).
func TestRulesSelfValidate(t *testing.T) {
	d := New()
	seen := map[string]bool{}
	for _, r := range d.rules {
		if seen[r.kind] {
			t.Errorf("duplicate rule kind %q", r.kind)
		}
		seen[r.kind] = true
		if len(r.tp) == 0 || len(r.fp) == 0 {
			t.Errorf("%s: every rule needs true and false positives (tp=%d fp=%d)", r.kind, len(r.tp), len(r.fp))
		}
		if r.desc == "" {
			t.Errorf("%s: no description", r.kind)
		}
		for _, kw := range r.keywords {
			if kw != strings.ToLower(kw) {
				t.Errorf("%s: keyword %q must be lower-case (the prefilter compares lower-cased text)", r.kind, kw)
			}
		}
		for _, s := range r.tp {
			ms := kindMatches(d.FindInValue(s), r.kind)
			if len(ms) == 0 {
				t.Errorf("%s: missed true positive %q", r.kind, s)
				continue
			}
			// the keyword prefilter must not be what finds it: it has to
			// appear in the text for the rule to run at all
			if !containsAny(asciiLower(s), r.keywords) {
				t.Errorf("%s: true positive %q lacks every keyword", r.kind, s)
			}
			red := d.RedactAll(s)
			for _, m := range ms {
				if strings.Contains(red, s[m.Start:m.End]) {
					t.Errorf("%s: RedactAll(%q) = %q still contains the secret", r.kind, s, red)
				}
			}
		}
		for _, s := range r.fp {
			if ms := kindMatches(d.FindInValue(s), r.kind); len(ms) > 0 {
				t.Errorf("%s: false positive on %q: %q", r.kind, s, s[ms[0].Start:ms[0].End])
			}
		}
	}
}

func kindMatches(ms []Match, kind string) []Match {
	var out []Match
	for _, m := range ms {
		if m.Kind == kind {
			out = append(out, m)
		}
	}
	return out
}

// The URL rule reports the password only, so redaction keeps user and host.
func TestURLCredentialsSpan(t *testing.T) {
	d := New()
	s := "mysql://root:" + "hunter2pw@db.internal:3306/mlflow"
	got := d.RedactAll(s)
	want := "mysql://root:" + mask + "@db.internal:3306/mlflow"
	if got != want {
		t.Fatalf("RedactAll(%q) = %q, want %q", s, got, want)
	}
}

func TestAssignmentInText(t *testing.T) {
	d := New()
	cases := []struct {
		in   string
		kind string // "" = nothing expected
	}{
		{"log: token=mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb done", KindHighEntropy},
		{`{"password": "hunter2!"}`, KindAssignment},
		{"https://api.example.com/v1?api_key=" + "mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb&x=1", KindHighEntropy},
		{"DB_PASSWORD=s3cretPass9", KindAssignment},
		{"session_key: mVe5Mvxrv99NcqVTSu7rtaUWM6ZO88eb", KindHighEntropy},
		{"cache_key: 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08", ""}, // a digest under a weak key
		{"password = os.environ['DB_PASSWORD']", ""},
		{"password = get_password(user)", ""},
		{"token = settings.API_TOKEN", ""},
		{"password: ${DB_PASSWORD}", ""},
		{"max_tokens=4096 temperature=0.2", ""},
		{"key_metric: accuracy_score_123", ""},
		{"run_id=0123456789abcdef0123456789abcdef", ""},
		{"token: expires", ""},
		{"the password is required", ""},
	}
	for _, c := range cases {
		ms := d.FindInValue(c.in)
		if c.kind == "" {
			if len(ms) > 0 {
				t.Errorf("FindInValue(%q) = %v (%q), want none", c.in, ms, c.in[ms[0].Start:ms[0].End])
			}
			continue
		}
		if len(kindMatches(ms, c.kind)) == 0 {
			t.Errorf("FindInValue(%q) = %v, want a %s", c.in, ms, c.kind)
		}
	}
}
