package secrets

import "strings"

// assignRule finds "name = value", "name: value", "name=value&" and
// "\"name\": \"value\"" inside free text (log lines, JSON bodies, config
// snippets, query strings) and judges the value by the name: this is where
// generic high-entropy strings are caught, and only next to a secret-like
// name. It is a single left-to-right scan rather than a regex because it runs
// on every string that mentions a keyword.
type assignRule struct {
	keywords []string
	kwBytes  []byteSet // byte set of each keyword
}

func newAssignRule() *assignRule {
	kws := []string{"pass", "pwd", "secret", "token", "key", "auth", "cred", "bearer", "cookie", "dsn", "session", "sig", "salt", "conn"}
	return &assignRule{keywords: kws, kwBytes: bytesOfEach(kws)}
}

const maxKeyLen = 61

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '.' || c == '-'
}

// isValueChar: what an unquoted or quoted secret literal may contain. Quotes,
// separators of the surrounding syntax, brackets and '=' end it.
func isValueChar(c byte) bool {
	return c > ' ' && c != 0x7f && !strings.ContainsRune("\"'&?,;=(){}[]<>`", rune(c))
}

func (a *assignRule) find(d *Detector, s, lower string, present *byteSet, out []Match) []Match {
	if !containsAnyBytes(lower, present, a.keywords, a.kwBytes) {
		return out
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c != '=' && c != ':' {
			continue
		}
		sepEnd := i + 1
		if sepEnd < len(s) && (c == ':' && s[sepEnd] == '=' || c == '=' && s[sepEnd] == '>') {
			sepEnd++
		} else if sepEnd < len(s) && s[sepEnd] == '=' || i > 0 && strings.IndexByte("=!<>:", s[i-1]) >= 0 {
			continue // ==, !=, <=, >=: a comparison, not an assignment
		}
		key, ok := keyBefore(s, i)
		if !ok || !containsAny(asciiLower(key), a.keywords) {
			continue
		}
		vs, ve, quoted := valueAfter(s, sepEnd)
		if ve-vs < 6 {
			continue
		}
		i = ve - 1
		val := s[vs:ve]
		if ve < len(s) && (s[ve] == '(' || s[ve] == '[') {
			continue // a call or subscript: password = get_secret(...)
		}
		if IsPlaceholder(val) || val[0] == '$' || val[0] == '%' || namesOrFakes(val) || !quoted && isCodeName(val) {
			continue
		}
		strong := d.SensitiveKey(key)
		switch {
		case (strong || weakSecretKey(key)) && highEntropy(val) && (strong || !isHex(val)):
			out = append(out, Match{Kind: KindHighEntropy, Start: vs, End: ve})
		case strong && passwordLike(val, quoted):
			out = append(out, Match{Kind: KindAssignment, Start: vs, End: ve})
		}
	}
	return out
}

// keyBefore returns the identifier that ends just before the separator at
// sep, skipping spaces and one closing quote.
func keyBefore(s string, sep int) (string, bool) {
	j := sep
	for j > 0 && (s[j-1] == ' ' || s[j-1] == '\t') {
		j--
	}
	if j > 0 && (s[j-1] == '"' || s[j-1] == '\'') {
		j--
	}
	end := j
	for j > 0 && end-j < maxKeyLen && isKeyChar(s[j-1]) {
		j--
	}
	for j < end && !(s[j] >= 'a' && s[j] <= 'z' || s[j] >= 'A' && s[j] <= 'Z' || s[j] == '_') {
		j++ // a name starts with a letter or underscore
	}
	return s[j:end], j < end
}

// valueAfter returns the literal after a separator: spaces and one opening
// quote skipped, then value characters, then up to two '=' of base64 padding.
func valueAfter(s string, i int) (start, end int, quoted bool) {
	for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
		i++
	}
	if i < len(s) && (s[i] == '"' || s[i] == '\'') {
		quoted = true
		i++
	}
	start = i
	for i < len(s) && isValueChar(s[i]) {
		i++
	}
	for k := 0; k < 2 && i < len(s) && s[i] == '=' && i > start; k++ {
		i++
	}
	return start, i, quoted
}

// Free text is judged more strictly than an explicit key/value pair (Check):
// it is mostly code, docs and log lines, where a value next to a secret
// word is far more often a constant's name or a documentation example than
// a secret. The filters below were tuned on MLflow's and scikit-learn's own
// sources (TestCorpusFalsePositives).

// fakeMarkers appear in documentation examples, never in real secrets.
var fakeMarkers = []string{"123456", "abcdef", "xxxx", "example", "dummy", "placeholder", "changeit",
	"password", "passwd", "passphrase", "secret", "token", "apikey", "api_key", "api-key", "credential"}

// namesOrFakes: the value names a secret ("OPENAI_API_KEY", "new-passphrase",
// "SpanContextToken") or is an obvious example ("sk-1234567890").
func namesOrFakes(v string) bool {
	l := asciiLower(v)
	for _, m := range fakeMarkers {
		if strings.Contains(l, m) {
			return true
		}
	}
	return false
}

// isCodeName: an unquoted identifier or attribute path in code
// (r2_creds.session_token, s3_client), not a literal.
func isCodeName(v string) bool {
	sep := false
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '.' || c == '_':
			sep = true
		case c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return sep
}

// passwordLike: a literal that could be a hand-written password. Lower-case
// slugs without digits ("genai-eval-session") and UPPER_SNAKE names are
// constants, not passwords.
func passwordLike(v string, quoted bool) bool {
	if !hasDigit(v) && !hasUpper(v) && strings.Trim(v, "abcdefghijklmnopqrstuvwxyz-_.") == "" {
		return false
	}
	if !hasLower(v) && strings.Trim(v, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == "" && strings.Contains(v, "_") {
		return false
	}
	return quoted || hasDigit(v) && (hasUpper(v) || hasLower(v))
}
