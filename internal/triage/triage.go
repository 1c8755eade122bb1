// Package triage turns raw analyzer findings into reportable ones: catalog
// metadata, configured levels, disabled rules, fingerprints, and the three
// kinds of suppression (inline comments, config ignores, a baseline). It
// works on findings only, so scan and audit share it.
package triage

import (
	"fmt"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/report"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// Apply fills each finding from the catalog and config, drops disabled
// rules, computes fingerprints and applies config ignores and the baseline.
// Findings the scan already suppressed inline keep that suppression. cfg and
// baseline may be nil. The returned errors name expired and unused config
// ignore entries and findings of unknown rules.
func Apply(fs []finding.Finding, ix *rules.Index, cfg *config.Config, baseline *Baseline, now time.Time) ([]finding.Finding, []finding.Error) {
	if ix == nil {
		ix = rules.NewIndex()
	}
	var errs []finding.Error
	out := make([]finding.Finding, 0, len(fs))
	unknown := map[string]bool{}
	for _, f := range fs {
		r, ok := ix.Lookup(f.RuleID)
		if !ok {
			if !unknown[f.RuleID] {
				unknown[f.RuleID] = true
				errs = append(errs, finding.Error{Path: f.Path, Line: f.Line, Kind: finding.ErrUnknownRule,
					Message: fmt.Sprintf("finding names rule %q, which is not in the catalog", f.RuleID)})
			}
			if f.Level == finding.LevelNone {
				f.Level = finding.Strict
			}
			out = append(out, f)
			continue
		}
		if !cfg.Enabled(r.ID) {
			continue
		}
		f.RuleID, f.Rule = r.ID, r.Name
		// An analyzer may lower a finding's level (weaker evidence); config
		// overrides both.
		def := r.Level
		if f.Level != finding.LevelNone {
			def = f.Level
		}
		f.Level = cfg.LevelFor(r.ID, def)
		if len(f.CWE) == 0 {
			f.CWE = append([]string(nil), r.CWE...)
		}
		if f.Fix == "" {
			f.Fix = r.FixIn(f.Context, f.Path)
		}
		out = append(out, f)
	}
	finding.Sort(out)
	fingerprint(out)
	errs = append(errs, applyIgnores(out, cfg, now)...)
	if baseline != nil {
		for i := range out {
			f := &out[i]
			if !f.Suppressed && baseline.Has(f.Fingerprint) {
				f.Suppressed = true
				f.Suppression = &finding.Suppression{Kind: "baseline", Reason: "present in the baseline report", Where: baseline.Path}
			}
		}
	}
	return out, errs
}

// fingerprint numbers identical (rule, path, member, snippet) findings in
// order, so two equal lines in one file keep distinct, stable fingerprints.
func fingerprint(fs []finding.Finding) {
	seen := map[string]int{}
	for i := range fs {
		f := &fs[i]
		key := f.Snippet
		if key == "" {
			key = f.Message
		}
		k := strings.Join([]string{f.RuleID, f.Path, f.Member, strings.Join(strings.Fields(key), " ")}, "\x00")
		f.Fingerprint = finding.ComputeFingerprint(f, seen[k])
		seen[k]++
	}
}

// applyIgnores applies the config's ignore entries; expired entries no
// longer suppress and are reported, as are entries that matched nothing.
func applyIgnores(fs []finding.Finding, cfg *config.Config, now time.Time) []finding.Error {
	if cfg == nil || len(cfg.Ignores) == 0 {
		return nil
	}
	used := make([]bool, len(cfg.Ignores))
	for i := range fs {
		f := &fs[i]
		for j, ig := range cfg.Ignores {
			if ig.Expired(now) || !ig.Matches(f.RuleID, cfg.RepoPath(f.Path)) {
				continue
			}
			used[j] = true
			if !f.Suppressed {
				f.Suppressed = true
				f.Suppression = &finding.Suppression{Kind: "config", Reason: ig.Reason, Where: ig.Where(cfg.Path)}
			}
		}
	}
	var errs []finding.Error
	for j, ig := range cfg.Ignores {
		switch {
		case ig.Expired(now):
			errs = append(errs, finding.Error{Path: cfg.Path, Line: ig.Line, Kind: finding.ErrConfig,
				Message: fmt.Sprintf("ignore entry %s expired on %s and no longer suppresses; fix the findings or renew it", describe(ig), ig.Expires.Format("2006-01-02"))})
		case !used[j]:
			errs = append(errs, finding.Error{Path: cfg.Path, Line: ig.Line, Kind: finding.ErrUnusedSuppression,
				Message: fmt.Sprintf("ignore entry %s matched no finding; remove it", describe(ig))})
		}
	}
	return errs
}

func describe(ig config.Ignore) string {
	r, p := ig.Rule, ig.Path
	if r == "" {
		r = "*"
	}
	if p == "" {
		p = "**"
	}
	return fmt.Sprintf("(%s on %s)", r, p)
}

// Summarize counts a triaged result. The report is incomplete when some
// input was not fully analyzed (see finding.ErrorKind.Incomplete): its
// findings are partial.
func Summarize(fs []finding.Finding, errs []finding.Error, files int) report.Summary {
	return report.Summarize(fs, errs, report.Summary{Files: files})
}

// IncompleteKind reports whether an error of this kind means part of the
// input went unexamined; it is finding.ErrorKind.Incomplete, the one
// partial-result rule.
func IncompleteKind(kind finding.ErrorKind) bool { return kind.Incomplete() }
