package policy

import (
	"fmt"
	"unicode/utf8"

	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// Mode is what a rule does when it fires.
type Mode string

const (
	ModeDeny    Mode = "deny"
	ModeRedact  Mode = "redact"
	ModeLogOnly Mode = "log-only"
)

// Rule ids the policies enforce.
const (
	RuleSecret    = "MLG201"
	RuleUntrusted = "MLG203"
	RuleLocation  = "MLG205"
	RuleTraversal = "MLG301"
	RulePublic    = "MLG304"
	RuleSignedURL = "MLG305"
	// RuleSSRF: an outbound target on a private or metadata address. The
	// catalog has no SSRF row of its own; locations are MLG205's.
	RuleSSRF = "MLG205"
)

// KeyDetector names a secret found only because its key names one.
const KeyDetector = "secret-key"

// detect judges a key/value pair with the shared detector (the same call
// audit makes) and names the detector that fired.
func (e *Engine) detect(key, value string) (detector, reason string, ok bool) {
	reason, ok = e.det.Check(key, value)
	if !ok {
		return "", "", false
	}
	sens := key != "" && e.det.SensitiveKey(key)
	for _, m := range e.det.FindInValue(value) {
		if (m.Kind != secrets.KindHighEntropy && m.Kind != secrets.KindAssignment) || !sens {
			return m.Kind, reason, true
		}
	}
	if sens {
		return KeyDetector, reason, true
	}
	return secrets.KindHighEntropy, reason, true
}

// detectMemo caches detect for keys judged alone, within one request: a
// log-batch repeats metric keys hundreds of times. Values are rarely
// repeated, and hashing them costs more than it saves.
type detectMemo map[string]detectResult

type detectResult struct {
	detector, reason string
	ok               bool
}

func (m detectMemo) detectKey(e *Engine, key string) (detector, reason string, ok bool) {
	if r, hit := m[key]; hit {
		return r.detector, r.reason, r.ok
	}
	detector, reason, ok = e.detect("", key)
	m[key] = detectResult{detector, reason, ok}
	return detector, reason, ok
}

// badChar reports a control character MLflow would store as is: in keys
// every C0/C1 control and DEL; in values the same except tab, LF and CR
// (notes and multi-line params are common). Bidi overrides too: they make
// a stored key display as another one.
func badChar(s string, isKey bool) (rune, bool) {
	for _, r := range s {
		switch {
		case r == utf8.RuneError:
			return r, true
		case !isKey && (r == '\t' || r == '\n' || r == '\r'):
		case r < 0x20 || r == 0x7f || (r >= 0x80 && r <= 0x9f):
			return r, true
		case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
			return r, true
		}
	}
	return 0, false
}

// checkSecret applies MLG203 (caps, control characters) and MLG201
// (secrets) to one item. It reports whether it redacted the item in place.
// memo remembers the keys already judged in this request.
func (e *Engine) checkSecret(it item, memo detectMemo) (Decision, bool) {
	sp := it.spec
	key, value := it.key, it.value
	var d Decision
	// The shown key costs a detector pass; only a finding needs it.
	showKey := func() string { return clipShow(e.det.RedactAll(key), 80) }
	field := string(sp.field)
	// MLG203: caps counted in characters, as Python's len() does.
	u := e.cfg.Secrets.Untrusted
	{
		var problem string
		switch {
		case sp.key != "" && utf8.RuneCountInString(key) > min(sp.keyMax, u.capKey()):
			problem = fmt.Sprintf("key longer than %d characters", min(sp.keyMax, u.capKey()))
		case it.hasValue && sp.valueMax > 0 && utf8.RuneCountInString(value) > min(sp.valueMax, u.capValue()):
			problem = fmt.Sprintf("value longer than %d characters", min(sp.valueMax, u.capValue()))
		}
		if problem == "" {
			if r, bad := badChar(key, true); bad && sp.key != "" {
				problem = fmt.Sprintf("key holds control character U+%04X", r)
			} else if r, bad := badChar(value, sp.kind == kKey || sp.field == FieldRunName); bad && it.hasValue {
				problem = fmt.Sprintf("value holds control character U+%04X", r)
			}
		}
		if problem != "" {
			f := Finding{Rule: RuleUntrusted, Field: field, Key: showKey(), Detector: "input-bounds", Mode: u.Mode}
			d.Findings = append(d.Findings, f)
			if u.Mode == ModeDeny {
				return Decision{Action: Deny, Rule: RuleUntrusted, Findings: d.Findings,
					Reason: fmt.Sprintf("%s %q: %s", field, showKey(), problem)}, false
			}
		}
	}
	mode := e.cfg.Secrets.Mode
	// A key can itself be the secret ("ghp_..." as a param name, a metric
	// named after a token). A key cannot be redacted and still mean what
	// the caller meant, so that is a denial in every mode but log-only.
	if sp.key != "" {
		if det, reason, ok := memo.detectKey(e, key); ok {
			f := Finding{Rule: RuleSecret, Field: field, Key: showKey(), Detector: det, Mode: mode}
			d.Findings = append(d.Findings, f)
			if mode != ModeLogOnly {
				return Decision{Action: Deny, Rule: RuleSecret, Findings: d.Findings,
					Reason: fmt.Sprintf("%s key: %s", field, reason)}, false
			}
		}
	}
	if !it.hasValue || sp.kind == kKey {
		return d, false
	}
	judgeKey := key
	if sp.kind == kValue {
		judgeKey = "" // a run name or dataset source is judged by value alone
	}
	det, reason, ok := e.detect(judgeKey, value)
	if !ok {
		return d, false
	}
	d.Findings = append(d.Findings, Finding{Rule: RuleSecret, Field: field, Key: showKey(), Detector: det, Mode: mode})
	switch mode {
	case ModeRedact:
		if it.obj == nil || it.valueKey == "" {
			return Decision{Action: Deny, Rule: RuleSecret, Findings: d.Findings,
				Reason: fmt.Sprintf("%s %q: %s (cannot redact here)", field, showKey(), reason)}, false
		}
		it.obj[it.valueKey] = "[REDACTED:" + det + "]"
		return d, true
	case ModeLogOnly:
		return d, false
	}
	return Decision{Action: Deny, Rule: RuleSecret, Findings: d.Findings,
		Reason: fmt.Sprintf("%s %q: %s", field, showKey(), reason)}, false
}
