package rules

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
)

//go:generate go test . -run TestDocsUpToDate -update

// generatedNote marks every generated page so nobody edits it by hand.
const generatedNote = "<!-- Generated from internal/rules/catalog.go by `go test ./internal/rules -update`. Do not edit. -->\n"

// levelCell shows our level with its SARIF equivalent.
func levelCell(r Rule) string {
	return fmt.Sprintf("`%s` (SARIF `%s`)", r.Level, r.Level.SARIFLevel())
}

// CWEURL links a "CWE-502" identifier to MITRE's page; other strings pass
// through unlinked.
func CWEURL(cwe string) string {
	n, ok := strings.CutPrefix(cwe, "CWE-")
	if !ok || n == "" {
		return ""
	}
	return "https://cwe.mitre.org/data/definitions/" + n + ".html"
}

func cweLinks(cwes []string) string {
	parts := make([]string, 0, len(cwes))
	for _, c := range cwes {
		if u := CWEURL(c); u != "" {
			parts = append(parts, fmt.Sprintf("[%s](%s)", c, u))
		} else {
			parts = append(parts, c)
		}
	}
	return strings.Join(parts, ", ")
}

// Example languages, guessed from the snippet so the catalog stays plain
// text. The guess only picks a fence label; a wrong guess costs colouring.
var (
	reYAMLKey   = regexp.MustCompile(`^(- )?[A-Za-z_][A-Za-z0-9_-]*:(\s|$)`)
	reNginx     = regexp.MustCompile(`(?m)^\s*(server \{|location \S* ?\{|add_header |limit_req |client_max_body_size |proxy_pass )`)
	reShellHead = regexp.MustCompile(`^(mlflow |export |--|mlflow-guard )`)
)

// ExampleLang returns the fenced-code language of a Do/Dont snippet:
// python, shell, yaml, ini or nginx.
func ExampleLang(snippet string) string {
	first := ""
	for _, l := range strings.Split(snippet, "\n") {
		t := strings.TrimSpace(l)
		if t != "" && !strings.HasPrefix(t, "#") {
			first = t
			break
		}
	}
	switch {
	case strings.HasPrefix(first, "["):
		return "ini"
	case reNginx.MatchString(snippet):
		return "nginx"
	case reShellHead.MatchString(first):
		return "shell"
	case reYAMLKey.MatchString(first) && !strings.Contains(first, "("):
		return "yaml"
	}
	return "python"
}

func fence(b *bytes.Buffer, code string) {
	fmt.Fprintf(b, "```%s\n%s\n```\n", ExampleLang(code), strings.TrimRight(code, "\n"))
}

// RenderMarkdownPage renders one rule's page for docs/rules.
func RenderMarkdownPage(r Rule) []byte {
	var b bytes.Buffer
	b.WriteString(generatedNote)
	fmt.Fprintf(&b, "# %s %s\n\n", r.ID, r.Name)
	fmt.Fprintf(&b, "%s\n\n", r.Summary)
	b.WriteString("| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| Level | %s |\n", levelCell(r))
	fmt.Fprintf(&b, "| Security severity | %s |\n", r.SecuritySeverity)
	fmt.Fprintf(&b, "| CWE | %s |\n", cweLinks(r.CWE))
	fmt.Fprintf(&b, "| OWASP | %s |\n", strings.Join(r.OWASP, ", "))
	fmt.Fprintf(&b, "| Security rule | %s |\n", r.SeedRule)
	fmt.Fprintf(&b, "| Enforced in | %s |\n\n", strings.Join(r.EnforcedIn, ", "))
	writeHelpBody(&b, r, "##")
	b.WriteString("\n## Suppress\n\n")
	b.WriteString(suppressMarkdown(r))
	b.WriteString("\n[All rules](README.md)\n")
	return b.Bytes()
}

// RenderRuleMarkdown is one rule's page without the generated-file note and
// the link back to the index: what `rules --format markdown RULE` prints.
func RenderRuleMarkdown(r Rule) []byte {
	page := bytes.TrimPrefix(RenderMarkdownPage(r), []byte(generatedNote))
	return bytes.TrimSuffix(page, []byte("\n[All rules](README.md)\n"))
}

// writeHelpBody writes the sections shared by the docs page and SARIF help.
func writeHelpBody(b *bytes.Buffer, r Rule, h string) {
	fmt.Fprintf(b, "%s Why it matters\n\n%s\n\n", h, r.Description)
	fmt.Fprintf(b, "%s Fix\n\n%s\n\n", h, r.Fix)
	for _, k := range r.FixContexts() {
		fmt.Fprintf(b, "- %s: %s\n", strings.ToUpper(ContextLabel(k)[:1])+ContextLabel(k)[1:], r.FixFor[k])
	}
	if len(r.FixFor) > 0 {
		b.WriteString("\n")
	}
	fmt.Fprintf(b, "%s Do\n\n", h)
	fence(b, r.Do)
	fmt.Fprintf(b, "\n%s Don't\n\n", h)
	fence(b, r.Dont)
}

// Inline reports whether findings of r can be suppressed by a comment: only
// rules reported on text files (code, deployment config) can; model files,
// live servers and gateway requests hold no comments.
func (r Rule) Inline() bool {
	for _, e := range r.EnforcedIn {
		if e == InCode || e == InDeploy {
			return true
		}
	}
	return false
}

// SuppressInline is the comment that suppresses r on one line.
func (r Rule) SuppressInline() string {
	return "# mlflow-guard: ignore[" + r.ID + "] <why this is safe here>"
}

// SuppressConfig is the .mlflow-guard.yaml entry that suppresses r.
func (r Rule) SuppressConfig() string {
	return "ignore:\n  - rule: " + r.ID + "\n    path: <glob, e.g. notebooks/**>   # optional: the whole rule without it\n" +
		"    reason: <why this is accepted>\n    expires: 2030-12-31              # optional"
}

// suppressBaseline says how a baseline suppresses what is there today.
const suppressBaseline = "A baseline suppresses every finding already present: " +
	"`mlflow-guard scan --format json --output baseline.json` once, then `mlflow-guard scan --baseline baseline.json`."

// suppressMarkdown is the "Suppress" section of a rule page.
func suppressMarkdown(r Rule) string {
	var b strings.Builder
	if r.Inline() {
		b.WriteString("On the line, or on a comment line just above it (`#`, or `//` and `;` in INI files):\n\n")
		fmt.Fprintf(&b, "```\n%s\n```\n\n", r.SuppressInline())
	}
	b.WriteString("In `.mlflow-guard.yaml`, for a path glob or for the whole rule:\n\n")
	fmt.Fprintf(&b, "```yaml\n%s\n```\n\n", r.SuppressConfig())
	b.WriteString(suppressBaseline + " Details: [suppression](../suppression.md).\n")
	return b.String()
}

// SuppressText is how to suppress r, as plain text.
func SuppressText(r Rule) string {
	var b strings.Builder
	if r.Inline() {
		fmt.Fprintf(&b, "On the line, or on a comment line just above it:\n  %s\n", r.SuppressInline())
	}
	b.WriteString("In .mlflow-guard.yaml, for a path glob or for the whole rule:\n")
	for _, l := range strings.Split(r.SuppressConfig(), "\n") {
		b.WriteString("  " + l + "\n")
	}
	b.WriteString("A baseline suppresses every finding already present:\n" +
		"  mlflow-guard scan --format json --output baseline.json   # once\n" +
		"  mlflow-guard scan --baseline baseline.json\n")
	return b.String()
}

// HelpMarkdown is the rule's help for SARIF help.markdown.
func HelpMarkdown(r Rule) string {
	var b bytes.Buffer
	fmt.Fprintf(&b, "%s\n\n", r.Summary)
	writeHelpBody(&b, r, "####")
	return b.String()
}

// HelpText is the plain-text help for SARIF help.text.
func HelpText(r Rule) string {
	return fmt.Sprintf("%s\n\n%s\n\nFix: %s\n\nDo:\n%s\n\nDon't:\n%s\n",
		r.Summary, r.Description, r.FixAll(), r.Do, r.Dont)
}

// RenderIndex renders docs/rules/README.md: the catalog as one table.
func RenderIndex(rs []Rule) []byte {
	var b bytes.Buffer
	b.WriteString(generatedNote)
	b.WriteString("# mlflow-guard rules\n\n")
	b.WriteString("Every finding, gateway denial and audit result names one of these rules. " +
		"IDs are stable and never reused; the kebab-case name is an alias. " +
		"Levels: `strict` (SARIF `error`: fails CI, the gateway blocks), `warning` (SARIF `warning`), `advisory` (SARIF `note`); " +
		"a policy may raise or lower a level.\n\n")
	fmt.Fprintf(&b, "Security severity (the score GitHub code scanning shows): %s\n\n", SeverityScale)
	b.WriteString("| ID | name | level | severity | CWE | enforced in | what it catches |\n")
	b.WriteString("|---|---|---|---|---|---|---|\n")
	seed := ""
	for _, r := range rs {
		if r.SeedRule != seed {
			seed = r.SeedRule
			fmt.Fprintf(&b, "| | **%s** | | | | | |\n", seed)
		}
		fmt.Fprintf(&b, "| %s | [%s](%s) | %s | %s | %s | %s | %s |\n",
			r.ID, r.Name, r.DocFile(), r.Level, r.SecuritySeverity, strings.Join(r.CWE, ", "),
			strings.Join(r.EnforcedIn, ", "), escapeCell(r.Summary))
	}
	return b.Bytes()
}

// escapeCell keeps a pipe in a summary from splitting a table cell.
func escapeCell(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

// GenerateDocs returns every file of docs/rules, keyed by file name.
func GenerateDocs(rs []Rule) map[string][]byte {
	out := make(map[string][]byte, len(rs)+1)
	out["README.md"] = RenderIndex(rs)
	for _, r := range rs {
		out[r.DocFile()] = RenderMarkdownPage(r)
	}
	return out
}
