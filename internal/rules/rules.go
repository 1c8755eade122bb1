// Package rules is the rule catalog: one explicit list, the single source of
// truth for IDs, names, levels and help text. Everything that reports a
// finding names one of these IDs.
package rules

import (
	"sort"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// Where a rule is enforced (the "enforced in" column of rules.md).
const (
	InCode    = "code"
	InDeploy  = "deploy"
	InModel   = "model"
	InGateway = "gateway"
	InAudit   = "audit"
)

// Rule is one catalog entry.
type Rule struct {
	ID    string
	Name  string // kebab-case alias
	Level finding.Level
	// SeedRule is the seed rule this one belongs to.
	SeedRule string
	CWE      []string // "CWE-502"
	OWASP    []string // "OWASP A01:2025", "OWASP LLM05"
	// Summary is the one-sentence "what it catches".
	Summary string
	// Description explains the risk in a short paragraph.
	Description string
	// Fix is the one-line remedy printed with each finding.
	Fix string
	// Do and Dont are short examples in the seed's spirit.
	Do   string
	Dont string
	// EnforcedIn lists InCode, InDeploy, ...
	EnforcedIn []string
	// SecuritySeverity is the SARIF security-severity score (0.0-10.0).
	SecuritySeverity string
}

// Catalog is the rule list in ID order. It is built fresh on each call so no
// caller can change another's copy.
func Catalog() []Rule {
	rs := catalog()
	sort.Slice(rs, func(i, j int) bool { return rs[i].ID < rs[j].ID })
	return rs
}

// Index maps IDs and names (case-insensitive for names) to rules.
type Index struct {
	byID   map[string]Rule
	byName map[string]Rule
	all    []Rule
}

// NewIndex builds an index over the catalog.
func NewIndex() *Index {
	ix := &Index{byID: map[string]Rule{}, byName: map[string]Rule{}}
	ix.all = Catalog()
	for _, r := range ix.all {
		ix.byID[r.ID] = r
		ix.byName[strings.ToLower(r.Name)] = r
	}
	return ix
}

// Lookup finds a rule by ID ("MLG102") or name ("unsafe-deserialization").
func (ix *Index) Lookup(idOrName string) (Rule, bool) {
	if r, ok := ix.byID[strings.ToUpper(idOrName)]; ok {
		return r, true
	}
	r, ok := ix.byName[strings.ToLower(idOrName)]
	return r, ok
}

// All returns the catalog in ID order.
func (ix *Index) All() []Rule { return ix.all }
