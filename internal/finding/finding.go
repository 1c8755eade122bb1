// Package finding holds the types every enforcement point reports: a Finding
// names one catalog rule, where it was seen, and how bad it is.
package finding

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
)

// Level is a rule's severity. The zero value is not a valid level.
type Level int

const (
	LevelNone Level = iota
	Advisory
	Warning
	Strict
)

// String returns the lower-case name used in config, JSON and flags.
func (l Level) String() string {
	switch l {
	case Advisory:
		return "advisory"
	case Warning:
		return "warning"
	case Strict:
		return "strict"
	}
	return "none"
}

// SARIFLevel maps a level onto SARIF's result levels.
func (l Level) SARIFLevel() string {
	switch l {
	case Strict:
		return "error"
	case Warning:
		return "warning"
	case Advisory:
		return "note"
	}
	return "none"
}

// ParseLevel reads a level name as written in config files and flags.
func ParseLevel(s string) (Level, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "advisory", "note", "info":
		return Advisory, nil
	case "warning", "warn":
		return Warning, nil
	case "strict", "error":
		return Strict, nil
	}
	return LevelNone, fmt.Errorf("unknown level %q (want strict, warning or advisory)", s)
}

// MarshalText lets Level appear as its name in JSON and YAML.
func (l Level) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText parses a level name.
func (l *Level) UnmarshalText(b []byte) error {
	v, err := ParseLevel(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Finding is one rule violation. Analyzers fill RuleID, the location, Message
// and (for archives) Member; the scan engine fills Rule, Level, CWE, Fix and
// Fingerprint from the catalog and the config.
type Finding struct {
	RuleID    string `json:"rule_id"`
	Rule      string `json:"rule"`
	Level     Level  `json:"level"`
	Message   string `json:"message"`
	Path      string `json:"path"`
	Line      int    `json:"line"`
	Column    int    `json:"column"`
	EndLine   int    `json:"end_line"`
	EndColumn int    `json:"end_column"`
	// Member is the archive member (zip entry, torch pickle, ...) the finding is in.
	Member string `json:"member,omitempty"`
	// Cell and CellLine place a finding in a Jupyter notebook: the cell
	// (1-based, every cell counted) and the line within it. Line is then
	// the .ipynb line holding that source line, for editors and SARIF.
	Cell        int      `json:"cell,omitempty"`
	CellLine    int      `json:"cell_line,omitempty"`
	Fingerprint string   `json:"fingerprint"`
	Suppressed  bool     `json:"suppressed"`
	CWE         []string `json:"cwe"`
	// Fix is the rule's one-line remedy, copied from the catalog for reports.
	Fix string `json:"fix,omitempty"`
	// Suppression says how and why a suppressed finding was suppressed.
	Suppression *Suppression `json:"suppression,omitempty"`
	// Context names what the finding is in when its rule's fix depends on
	// it (rules.Ctx*: "dockerfile", "default_permission", ...); empty lets
	// the catalog derive it from the path. It only picks the Fix text.
	Context string `json:"-"`
	// Snippet is the trimmed source line (already redacted); used for the
	// fingerprint and for the text report. Never holds a raw secret.
	Snippet string `json:"-"`
}

// Suppression records why a finding does not count.
type Suppression struct {
	Kind   string `json:"kind"` // "inline", "config" or "baseline"
	Reason string `json:"reason,omitempty"`
	// Where is the file:line of the inline comment or config entry.
	Where string `json:"where,omitempty"`
}

// Error is a problem with the input itself (unparseable file, unreadable
// directory, size cap). It is reported beside the findings; the scan goes on.
type Error struct {
	Path    string    `json:"path"`
	Line    int       `json:"line,omitempty"`
	Member  string    `json:"member,omitempty"`
	Kind    ErrorKind `json:"kind"`
	Message string    `json:"message"`
}

// ErrorKind says what went wrong with an input. The values are part of the
// report contract: schema/report.schema.json lists exactly ErrorKinds.
type ErrorKind string

// The error kinds. Whether a kind makes a report incomplete is decided by
// ErrorKind.Incomplete, the one partial-result rule.
const (
	// ErrParse: the file could not be parsed (a syntax error), so it was
	// not analyzed.
	ErrParse ErrorKind = "parse"
	// ErrRead: the file or directory could not be read.
	ErrRead ErrorKind = "read"
	// ErrSkipped: the tool left a file out on its own account (a special
	// file, a link leaving the root, an analyzer's built-in size limit).
	ErrSkipped ErrorKind = "skipped"
	// ErrLimit: the analysis stopped at a work, depth or size budget.
	ErrLimit ErrorKind = "limit"
	// ErrUnchecked: part of the file is in a variant the analyzer cannot
	// read, or its analysis was abandoned.
	ErrUnchecked ErrorKind = "unchecked"
	// ErrPanic: an analyzer crashed on the file; the crash was contained.
	ErrPanic ErrorKind = "panic"
	// ErrCancelled: the run was interrupted (SIGINT, SIGTERM, a deadline)
	// before the file was analyzed.
	ErrCancelled ErrorKind = "cancelled"
	// ErrExcluded: the user's own choice left the file out (an --exclude
	// glob, a --max-file-size the user set), or there was nothing to read
	// (a dangling symbolic link). Listed as a note; the run still passes.
	ErrExcluded ErrorKind = "excluded"
	// ErrConfig: a config entry is wrong or stale (an expired ignore).
	ErrConfig ErrorKind = "config"
	// ErrSuppression: a malformed inline suppression comment.
	ErrSuppression ErrorKind = "suppression"
	// ErrUnusedSuppression: a suppression (inline or config) matched nothing.
	ErrUnusedSuppression ErrorKind = "unused-suppression"
	// ErrUnknownRule: a finding names a rule the catalog does not have.
	ErrUnknownRule ErrorKind = "unknown-rule"
)

// ErrorKinds lists every kind, in the order of the schema's enum.
func ErrorKinds() []ErrorKind {
	return []ErrorKind{ErrParse, ErrRead, ErrSkipped, ErrLimit, ErrUnchecked, ErrPanic, ErrCancelled,
		ErrExcluded, ErrConfig, ErrSuppression, ErrUnusedSuppression, ErrUnknownRule}
}

// Incomplete is the partial-result rule: an error of this kind means some
// input was not fully analyzed (it stopped early, could not be read or
// parsed, or crashed the analyzer), so the findings are partial and the run
// must fail (exit 3, "incomplete": true, SARIF executionSuccessful false).
// Kinds about the user's own choices and about suppressions do not. A kind
// this list does not know fails closed: it counts as incomplete.
func (k ErrorKind) Incomplete() bool {
	switch k {
	case ErrExcluded, ErrConfig, ErrSuppression, ErrUnusedSuppression, ErrUnknownRule:
		return false
	}
	return true
}

func (e Error) String() string {
	loc := e.Path
	if e.Line > 0 {
		loc = fmt.Sprintf("%s:%d", loc, e.Line)
	}
	if e.Member != "" {
		loc += "!" + e.Member
	}
	return fmt.Sprintf("%s: %s: %s", loc, e.Kind, e.Message)
}

// ComputeFingerprint derives a fingerprint that survives lines moving: it
// hashes the rule, the path, the member and the whitespace-normalised snippet
// (or, without a snippet, the message), plus an occurrence index that tells
// identical lines in one file apart.
func ComputeFingerprint(f *Finding, occurrence int) string {
	h := sha256.New()
	key := f.Snippet
	if key == "" {
		key = f.Message
	}
	fmt.Fprintf(h, "%s\x00%s\x00%s\x00%s\x00%d", f.RuleID, f.Path, f.Member, strings.Join(strings.Fields(key), " "), occurrence)
	return hex.EncodeToString(h.Sum(nil))[:32]
}
