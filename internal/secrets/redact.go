package secrets

import "strings"

// maskLen is fixed so a redacted value does not reveal the secret's length.
const maskLen = 16

// mask is the fixed run of asterisks that replaces a secret.
var mask = strings.Repeat("*", maskLen)

// publicPrefixes are format markers that carry no secret bits; Redact keeps
// at most four characters of one so a reader can still tell what leaked.
var publicPrefixes = []string{
	"AKIA", "ASIA", "ABIA", "ACCA", "ghp_", "gho_", "ghu_", "ghs_", "ghr_", "github_pat_",
	"glpat-", "gldt-", "glptt-", "glrt-", "xoxb-", "xoxa-", "xoxp-", "xoxr-", "xoxs-",
	"sk-ant-", "sk-proj-", "sk-", "hf_", "sk_live_", "rk_live_", "sk_test_", "rk_test_",
	"AIza", "dapi", "npm_", "pypi-", "SG.", "SK", "eyJ", "-----BEGIN",
}

// minPrefixLen: values shorter than this get no prefix at all, so a short
// password is not half disclosed.
const minPrefixLen = 16

// Redact masks a secret value: "AKIA" + 16 asterisks. It keeps a known
// non-secret prefix of at most four characters for long values and replaces
// the rest with a fixed-length mask.
func Redact(s string) string {
	if s == "" {
		return mask
	}
	if len(s) >= minPrefixLen {
		for _, p := range publicPrefixes {
			if strings.HasPrefix(s, p) {
				if len(p) > 4 {
					p = p[:4]
				}
				return p + mask
			}
		}
	}
	return mask
}

// RedactAll replaces every secret FindInValue reports in s with its redacted
// form, leaving the rest of s (URL hosts, JSON keys, log text) intact.
func (d *Detector) RedactAll(s string) string {
	// A replacement can, rarely, join text into a new match (a mask next to
	// a keyword); a few passes reach a fixed point.
	for range 4 {
		ms := d.FindInValue(s)
		if len(ms) == 0 {
			return s
		}
		s = replace(s, ms)
	}
	return s
}

func replace(s string, ms []Match) string {
	var b strings.Builder
	b.Grow(len(s))
	pos := 0
	for _, m := range ms {
		if m.Start < pos { // overlaps the previous one: extend it
			if m.End > pos {
				pos = m.End
			}
			continue
		}
		b.WriteString(s[pos:m.Start])
		b.WriteString(Redact(s[m.Start:m.End]))
		pos = m.End
	}
	b.WriteString(s[pos:])
	return b.String()
}
