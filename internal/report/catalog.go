package report

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// CatalogFormats lists the accepted `mlflow-guard rules --format` values.
var CatalogFormats = []string{"text", "markdown", "json"}

// catalogEntry is the JSON shape of one rule: every catalog field.
type catalogEntry struct {
	ID               string   `json:"id"`
	Name             string   `json:"name"`
	Level            string   `json:"level"`
	SARIFLevel       string   `json:"sarif_level"`
	SecuritySeverity string   `json:"security_severity"`
	Precision        string   `json:"precision"`
	SeedRule         string   `json:"seed_rule"`
	CWE              []string `json:"cwe"`
	OWASP            []string `json:"owasp"`
	EnforcedIn       []string `json:"enforced_in"`
	Summary          string   `json:"summary"`
	Description      string   `json:"description"`
	Fix              string   `json:"fix"`
	Do               string   `json:"do"`
	Dont             string   `json:"dont"`
	HelpURI          string   `json:"help_uri"`
}

// WriteCatalog renders the rule catalog for `mlflow-guard rules`: text is
// the seed's quick-reference table, markdown a table for docs, json every
// field of every rule.
func WriteCatalog(w io.Writer, format string, rs []rules.Rule) error {
	var err error
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text":
		err = catalogText(w, rs)
	case "markdown", "md":
		err = catalogMarkdown(w, rs)
	case "json":
		err = catalogJSON(w, rs)
	default:
		return fmt.Errorf("unknown catalog format %q (valid: %s)", format, strings.Join(CatalogFormats, ", "))
	}
	if err != nil {
		return fmt.Errorf("write rule catalog: %w", err)
	}
	return nil
}

func catalogText(w io.Writer, rs []rules.Rule) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tNAME\tLEVEL\tCWE\tSUMMARY")
	for _, r := range rs {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", r.ID, r.Name, r.Level, strings.Join(r.CWE, ", "), r.Summary)
	}
	return tw.Flush()
}

func catalogMarkdown(w io.Writer, rs []rules.Rule) error {
	var b strings.Builder
	b.WriteString("| Rule | Name | Level | CWE/OWASP | Summary |\n|------|------|-------|-----------|---------|\n")
	for _, r := range rs {
		refs := append(append([]string{}, r.OWASP...), r.CWE...)
		fmt.Fprintf(&b, "| %s | [%s](%s) | %s | %s | %s |\n", r.ID, r.Name, r.HelpURL(), r.Level,
			strings.Join(refs, ", "), strings.ReplaceAll(r.Summary, "|", `\|`))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func catalogJSON(w io.Writer, rs []rules.Rule) error {
	out := make([]catalogEntry, 0, len(rs))
	for _, r := range rs {
		out = append(out, catalogEntry{
			ID: r.ID, Name: r.Name, Level: r.Level.String(), SARIFLevel: r.Level.SARIFLevel(),
			SecuritySeverity: r.SecuritySeverity, Precision: r.Precision(), SeedRule: r.SeedRule,
			CWE: nonNil(r.CWE), OWASP: nonNil(r.OWASP), EnforcedIn: nonNil(r.EnforcedIn),
			Summary: r.Summary, Description: r.Description, Fix: r.Fix, Do: r.Do, Dont: r.Dont,
			HelpURI: r.HelpURL(),
		})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
