package scan

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// Marker is what an inline suppression comment contains; files without it
// need no directive parsing.
const Marker = "mlflow-guard:"

var (
	// directiveRe matches "# mlflow-guard: ignore[MLG102, name] reason" with
	// "#", "//" or ";" as the comment leader; the brackets are optional (no
	// brackets: every rule).
	directiveRe = regexp.MustCompile(`(?:#|//|;)\s*mlflow-guard:\s*(\S+?)(?:\[([^\]]*)\])?(?:\s+(.*))?$`)
	// ownLineRe tells a comment-only line (the directive covers the next line).
	ownLineRe = regexp.MustCompile(`^\s*(?:#|//|;)`)
)

// directive is one inline suppression comment.
type directive struct {
	path   string
	line   int // where the comment is
	target int // the line it covers
	rules  map[string]bool
	all    bool
	reason string
	used   bool
}

// parseDirective reads one source line. It returns nil when the line holds
// no directive, and problems for malformed ones (reported, not fatal).
// strs are the line's string literals (stringLexer): a marker inside one is
// not a comment and suppresses nothing.
func parseDirective(ix *rules.Index, path string, lineNo int, line string, strs [][2]int) (*directive, []finding.Error) {
	if !strings.Contains(line, Marker) {
		return nil, nil
	}
	loc := directiveRe.FindStringSubmatchIndex(line)
	if loc == nil {
		return nil, nil
	}
	m := make([]string, len(loc)/2)
	for i := range m {
		if loc[2*i] >= 0 {
			m[i] = line[loc[2*i]:loc[2*i+1]]
		}
	}
	bad := func(format string, args ...any) finding.Error {
		return finding.Error{Path: path, Line: lineNo, Kind: finding.ErrSuppression, Message: fmt.Sprintf(format, args...)}
	}
	if inSpans(strs, loc[0]) {
		return nil, []finding.Error{bad("an mlflow-guard marker inside a string literal is not a comment and suppresses nothing; put it in a comment")}
	}
	if m[1] != "ignore" {
		return nil, []finding.Error{bad("unknown mlflow-guard directive %q (want ignore[RULE] reason)", m[1])}
	}
	d := &directive{path: path, line: lineNo, target: lineNo, reason: cleanReason(m[3])}
	if ownLineRe.MatchString(line) {
		d.target = lineNo + 1
	}
	var errs []finding.Error
	if loc[4] >= 0 && strings.Trim(m[2], " \t,") == "" {
		// "ignore[]": brackets that name no rule are a mistake, not a
		// licence to suppress everything.
		return nil, []finding.Error{bad("inline suppression ignore[] names no rule; write ignore[RULE] (it suppresses nothing as written)")}
	}
	if loc[4] < 0 {
		d.all = true // bare "ignore reason": every rule on the line (documented)
	} else {
		d.rules = map[string]bool{}
		for _, name := range strings.Split(m[2], ",") {
			name = strings.TrimSpace(name)
			if name == "" {
				continue
			}
			r, ok := ix.Lookup(name)
			if !ok {
				errs = append(errs, bad("inline suppression names unknown rule %q", name))
				continue
			}
			d.rules[r.ID] = true
		}
		if len(d.rules) == 0 {
			return nil, errs
		}
	}
	if d.reason == "" {
		errs = append(errs, bad("inline suppression %s has no reason; it still applies, but say why after the brackets", d.label()))
	}
	return d, errs
}

// cleanReason drops separators people put before a reason ("-- ", ": ").
func cleanReason(s string) string {
	return strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(s), "-:—"))
}

func (d *directive) covers(ruleID string) bool { return d.all || d.rules[ruleID] }

func (d *directive) label() string {
	if d.all {
		return "ignore"
	}
	ids := make([]string, 0, len(d.rules))
	for id := range d.rules {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	return "ignore[" + strings.Join(ids, ",") + "]"
}

// applyInline marks findings covered by a directive as suppressed and
// returns the directives nothing used. Findings inside archive members or
// without a line cannot carry a comment.
func applyInline(fs []finding.Finding, ds []*directive) []finding.Error {
	byPath := map[string][]*directive{}
	for _, d := range ds {
		byPath[d.path] = append(byPath[d.path], d)
	}
	for i := range fs {
		f := &fs[i]
		if f.Line <= 0 || f.Member != "" {
			continue
		}
		for _, d := range byPath[f.Path] {
			if d.target != f.Line || !d.covers(f.RuleID) {
				continue
			}
			d.used = true
			if !f.Suppressed {
				f.Suppressed = true
				f.Suppression = &finding.Suppression{Kind: "inline", Reason: d.reason, Where: fmt.Sprintf("%s:%d", d.path, d.line)}
			}
		}
	}
	var errs []finding.Error
	for _, d := range ds {
		if !d.used {
			errs = append(errs, finding.Error{Path: d.path, Line: d.line, Kind: finding.ErrUnusedSuppression,
				Message: fmt.Sprintf("inline suppression %s matched no finding; remove it", d.label())})
		}
	}
	return errs
}
