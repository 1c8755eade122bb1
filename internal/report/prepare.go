package report

import (
	"cmp"
	"slices"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// view is what every writer renders: a copy of the report with findings
// sorted, catalog metadata filled where the producer left it out, and a
// summary recounted from the lists so all formats agree.
type view struct {
	tool     Tool
	findings []finding.Finding
	errors   []finding.Error
	summary  Summary
	rules    []rules.Rule
	byID     map[string]int // rule ID -> index into rules
	root     string
}

// catalogRules returns the report's rule list, or the built-in catalog.
func catalogRules(r *Report) []rules.Rule {
	if len(r.Rules) > 0 {
		return r.Rules
	}
	return rules.Catalog()
}

func prepare(r *Report) *view {
	v := &view{tool: r.Tool, root: r.Root, rules: catalogRules(r), byID: map[string]int{}}
	for i, rl := range v.rules {
		v.byID[rl.ID] = i
	}
	v.findings = make([]finding.Finding, len(r.Findings))
	copy(v.findings, r.Findings)
	occ := map[string]int{}
	for i := range v.findings {
		f := &v.findings[i]
		// Positions are 1-based with 0 for "not applicable"; a negative one
		// is a producer bug that must not leak into the contract.
		f.Line, f.Column, f.EndLine, f.EndColumn = max(f.Line, 0), max(f.Column, 0), max(f.EndLine, 0), max(f.EndColumn, 0)
		if idx, ok := v.byID[f.RuleID]; ok {
			rl := v.rules[idx]
			if f.Rule == "" {
				f.Rule = rl.Name
			}
			if f.Fix == "" {
				f.Fix = rl.FixIn(f.Context, f.Path)
			}
			if f.CWE == nil {
				f.CWE = slices.Clone(rl.CWE)
			}
			if f.Level == finding.LevelNone {
				f.Level = rl.Level
			}
		}
		if f.CWE == nil {
			f.CWE = []string{}
		}
		if f.Fingerprint == "" {
			// The scan engine normally sets this; fall back to the same
			// function so formats never disagree on identity.
			key := f.RuleID + "\x00" + f.Path + "\x00" + f.Member + "\x00" + f.Snippet + "\x00" + f.Message
			f.Fingerprint = finding.ComputeFingerprint(f, occ[key])
			occ[key]++
		}
	}
	slices.SortStableFunc(v.findings, compareFindings)
	v.errors = make([]finding.Error, len(r.Errors))
	copy(v.errors, r.Errors)
	slices.SortStableFunc(v.errors, func(a, b finding.Error) int {
		return cmp.Or(cmp.Compare(a.Path, b.Path), cmp.Compare(a.Member, b.Member), cmp.Compare(a.Line, b.Line))
	})
	v.summary = Summarize(v.findings, v.errors, r.Summary)
	return v
}

func compareFindings(a, b finding.Finding) int {
	return cmp.Or(
		cmp.Compare(a.Path, b.Path), cmp.Compare(a.Member, b.Member),
		cmp.Compare(a.Line, b.Line), cmp.Compare(a.Column, b.Column),
		cmp.Compare(a.RuleID, b.RuleID), cmp.Compare(a.Message, b.Message),
	)
}

// Summarize recounts a summary from the findings and errors. Files, Ignored
// and Excluded come from base; Incomplete is base's or true when an error
// is of an incomplete kind (finding.ErrorKind.Incomplete), so no writer can
// report a partial result as a complete one.
// Findings, ByLevel and ByRule count unsuppressed findings only; ByLevel
// always has the three level keys so consumers need no existence checks.
func Summarize(fs []finding.Finding, errs []finding.Error, base Summary) Summary {
	s := Summary{
		Files:      base.Files,
		Ignored:    base.Ignored,
		Excluded:   base.Excluded,
		Incomplete: base.Incomplete,
		Errors:     len(errs),
		ByLevel: map[string]int{
			finding.Strict.String(): 0, finding.Warning.String(): 0, finding.Advisory.String(): 0,
		},
		ByRule: map[string]int{},
	}
	for _, e := range errs {
		if e.Kind.Incomplete() {
			s.Incomplete = true
		}
	}
	for _, f := range fs {
		if f.Suppressed {
			s.Suppressed++
			continue
		}
		s.Findings++
		if f.Level >= finding.Advisory && f.Level <= finding.Strict {
			s.ByLevel[f.Level.String()]++
		}
		s.ByRule[f.RuleID]++
	}
	return s
}

// rule returns the catalog entry for id.
func (v *view) rule(id string) (rules.Rule, int, bool) {
	i, ok := v.byID[id]
	if !ok {
		return rules.Rule{}, -1, false
	}
	return v.rules[i], i, true
}
