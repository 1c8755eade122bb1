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
	// SeedRule is the security rule (one of the four guidelines) this one
	// belongs to; users see it as "security rule".
	SeedRule string
	CWE      []string // "CWE-502"
	OWASP    []string // "OWASP A01:2025", "OWASP LLM05"
	// Summary is the one-sentence "what it catches".
	Summary string
	// Description explains the risk in a short paragraph.
	Description string
	// Fix is the remedy printed with each finding: one line, or a short
	// "- " list of options.
	Fix string
	// FixFor replaces Fix for findings in one context, when the rule
	// covers files that need different remedies (a Dockerfile and a
	// Kubernetes manifest). Keys are the Ctx* constants; see FixIn.
	FixFor map[string]string
	// Do and Dont are short examples in the security rule's spirit.
	Do   string
	Dont string
	// EnforcedIn lists InCode, InDeploy, ...
	EnforcedIn []string
	// SecuritySeverity is the SARIF security-severity score (0.0-10.0).
	SecuritySeverity string
}

// Contexts of a finding that pick a FixFor entry: set by the analyzer in
// finding.Finding.Context, or derived from the path (PathContext).
const (
	CtxDockerfile        = "dockerfile"
	CtxCompose           = "compose"
	CtxKubernetes        = "kubernetes"
	CtxAdminPassword     = "admin_password"
	CtxDefaultPermission = "default_permission"
	CtxNotebookOutput    = "notebook_output"
	// CtxOther is a file of no kind with advice of its own (a CI
	// workflow, loose YAML, a shell script): the generic Fix, even when the
	// name alone would suggest a Kubernetes manifest.
	CtxOther = "other"
)

// FixIn is the fix for a finding of r with the given context (may be
// empty) at path: the FixFor entry of the context, or of the file kind
// the path shows, else Fix.
func (r Rule) FixIn(context, path string) string {
	if context == "" {
		context = PathContext(path)
	}
	if f, ok := r.FixFor[context]; ok && context != "" {
		return f
	}
	return r.Fix
}

// contextLabels name the contexts for people.
var contextLabels = map[string]string{
	CtxDockerfile:        "in a Dockerfile",
	CtxCompose:           "in a compose file",
	CtxKubernetes:        "in Kubernetes",
	CtxAdminPassword:     "for the admin password",
	CtxDefaultPermission: "for default_permission",
	CtxNotebookOutput:    "in a notebook's saved output",
	CtxOther:             "elsewhere",
}

// ContextLabel is how help texts introduce a FixFor entry ("in a
// Dockerfile").
func ContextLabel(ctx string) string {
	if l, ok := contextLabels[ctx]; ok {
		return l
	}
	return "for " + ctx
}

// FixContexts lists r's FixFor keys in a stable order.
func (r Rule) FixContexts() []string {
	ks := make([]string, 0, len(r.FixFor))
	for k := range r.FixFor {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

// FixAll is the default fix followed by each context's, as text.
func (r Rule) FixAll() string {
	var b strings.Builder
	b.WriteString(r.Fix)
	for _, k := range r.FixContexts() {
		b.WriteString("\n" + strings.ToUpper(ContextLabel(k)[:1]) + ContextLabel(k)[1:] + ": " + r.FixFor[k])
	}
	return b.String()
}

// PathContext derives a context from a file name alone: Dockerfiles,
// compose files, and other YAML (Kubernetes manifests and their Helm
// values); "" when the name says nothing.
func PathContext(path string) string {
	base := strings.ToLower(path[strings.LastIndexAny(path, `/\`)+1:])
	switch {
	case base == "dockerfile" || base == "containerfile" || strings.HasPrefix(base, "dockerfile.") || strings.HasSuffix(base, ".dockerfile"):
		return CtxDockerfile
	case !strings.HasSuffix(base, ".yml") && !strings.HasSuffix(base, ".yaml"):
		return ""
	case strings.HasPrefix(base, "docker-compose") || strings.HasPrefix(base, "compose.") || strings.HasPrefix(base, "compose-"):
		return CtxCompose
	}
	return CtxKubernetes
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
