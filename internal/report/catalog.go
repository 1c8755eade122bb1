package report

import (
	"bytes"
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
	ID               string            `json:"id"`
	Name             string            `json:"name"`
	Level            string            `json:"level"`
	SARIFLevel       string            `json:"sarif_level"`
	SecuritySeverity string            `json:"security_severity"`
	Precision        string            `json:"precision"`
	SecurityRule     string            `json:"security_rule"`
	CWE              []string          `json:"cwe"`
	OWASP            []string          `json:"owasp"`
	EnforcedIn       []string          `json:"enforced_in"`
	Summary          string            `json:"summary"`
	Description      string            `json:"description"`
	Fix              string            `json:"fix"`
	FixFor           map[string]string `json:"fix_for,omitempty"`
	Do               string            `json:"do"`
	Dont             string            `json:"dont"`
	Suppress         string            `json:"suppress"`
	HelpURI          string            `json:"help_uri"`
}

// WriteCatalog renders the rule catalog for `mlflow-guard rules`: text is
// a quick-reference table, markdown a table for docs, json every
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

// WriteRules renders the rules a user named: each one in full in text and
// markdown (its docs page), the same entries as WriteCatalog in json.
func WriteRules(w io.Writer, format string, rs []rules.Rule) error {
	var err error
	switch strings.ToLower(strings.TrimSpace(format)) {
	case "text":
		var b strings.Builder
		for i, r := range rs {
			if i > 0 {
				b.WriteString("\n")
			}
			ruleText(&b, r)
		}
		_, err = io.WriteString(w, b.String())
	case "markdown", "md":
		var b bytes.Buffer
		for i, r := range rs {
			if i > 0 {
				b.WriteString("\n")
			}
			b.Write(rules.RenderRuleMarkdown(r))
		}
		_, err = w.Write(b.Bytes())
	default:
		return WriteCatalog(w, format, rs)
	}
	if err != nil {
		return fmt.Errorf("write rules: %w", err)
	}
	return nil
}

// ruleText is one rule in full as plain text: every section of its docs
// page, in the same order.
func ruleText(b *strings.Builder, r rules.Rule) {
	refs := append(append([]string{}, r.CWE...), r.OWASP...)
	fmt.Fprintf(b, "%s %s\n", r.ID, r.Name)
	fmt.Fprintf(b, "  level %s (SARIF %s), security severity %s; %s\n", r.Level, r.Level.SARIFLevel(), r.SecuritySeverity, strings.Join(refs, ", "))
	fmt.Fprintf(b, "  security rule: %s; enforced in: %s\n", r.SeedRule, strings.Join(r.EnforcedIn, ", "))
	fmt.Fprintf(b, "  %s\n", r.HelpURL())
	section := func(title, body string, indent string) {
		fmt.Fprintf(b, "\n%s\n", title)
		for _, l := range strings.Split(strings.TrimRight(body, "\n"), "\n") {
			if l == "" {
				b.WriteString("\n")
				continue
			}
			b.WriteString(indent + l + "\n")
		}
	}
	section("What is reported", wrapText(r.Summary, 76), "  ")
	section("Why it matters", wrapText(r.Description, 76), "  ")
	fix := ""
	for _, l := range strings.Split(r.FixAll(), "\n") {
		w := wrapText(l, 76)
		if strings.HasPrefix(l, "- ") {
			w = strings.ReplaceAll(wrapText(l, 74), "\n", "\n  ")
		}
		fix += w + "\n"
	}
	section("Fix", fix, "  ")
	section("Do", r.Do, "    ")
	section("Don't", r.Dont, "    ")
	section("Suppress", rules.SuppressText(r), "  ")
}

// wrapText breaks prose into lines of at most width bytes at spaces.
func wrapText(s string, width int) string {
	var b strings.Builder
	n := 0
	for _, word := range strings.Fields(s) {
		if n > 0 && n+1+len(word) > width {
			b.WriteString("\n")
			n = 0
		} else if n > 0 {
			b.WriteString(" ")
			n++
		}
		b.WriteString(word)
		n += len(word)
	}
	return b.String()
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
			SecuritySeverity: r.SecuritySeverity, Precision: r.Precision(), SecurityRule: r.SeedRule,
			CWE: nonNil(r.CWE), OWASP: nonNil(r.OWASP), EnforcedIn: nonNil(r.EnforcedIn),
			Summary: r.Summary, Description: r.Description, Fix: r.Fix, FixFor: r.FixFor, Do: r.Do, Dont: r.Dont,
			Suppress: rules.SuppressText(r), HelpURI: r.HelpURL(),
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
