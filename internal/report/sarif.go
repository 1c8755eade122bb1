package report

import (
	"encoding/json"
	"fmt"
	"io"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// SARIF writes SARIF 2.1.0 for GitHub code scanning and other consumers.
//
// Decisions (see also docs in the package tests):
//   - one run; tool.driver.rules holds the whole catalog so ruleIndex is
//     stable across scans; helpUri is the absolute rules.HelpURL.
//   - a finding without a line (a whole file: a model, a config) is anchored
//     at startLine 1 with no columns, because GitHub needs a line to show and
//     track an alert; columns and end positions appear only when known.
//   - an archive member is a logicalLocation "path!member" and is named in
//     the message, since GitHub shows only the physical file.
//   - partialFingerprints.primaryLocationLineHash is our line-independent
//     fingerprint in GitHub's "hash:occurrence" shape (the occurrence is
//     already folded into the hash, so it is always 1).
//   - suppressed findings stay in results with suppressions: inline comments
//     are "inSource", config and baseline entries "external".
//   - input errors become toolExecutionNotifications; executionSuccessful is
//     false only when the run was incomplete.
type SARIF struct{}

var _ Writer = (*SARIF)(nil)

// sarifSchemaURI is the OASIS schema the output conforms to (the same file
// is committed as schema/sarif-schema-2.1.0.json and validated in tests).
const sarifSchemaURI = "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"

const srcRoot = "%SRCROOT%"

var reSemver = regexp.MustCompile(`^v?(\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$`)

// Write renders the report as one SARIF log.
func (s *SARIF) Write(w io.Writer, r *Report) error {
	v := prepare(r)
	name := v.tool.Name
	if name == "" {
		name = "mlflow-guard"
	}
	driver := sarifDriver{Name: name, Version: v.tool.Version, InformationURI: rules.ProjectURL, Rules: make([]sarifRule, 0, len(v.rules))}
	if m := reSemver.FindStringSubmatch(v.tool.Version); m != nil {
		driver.SemanticVersion = m[1]
	}
	for _, rl := range v.rules {
		driver.Rules = append(driver.Rules, sarifRuleFor(rl))
	}
	run := sarifRun{
		Tool:        sarifTool{Driver: driver},
		Invocations: []sarifInvocation{invocation(v)},
		Results:     make([]sarifResult, 0, len(v.findings)),
	}
	if base := rootURI(v.root); base != "" {
		run.OriginalURIBaseIDs = map[string]sarifBaseLoc{srcRoot: {URI: base}}
	} else if v.root != "" {
		run.OriginalURIBaseIDs = map[string]sarifBaseLoc{srcRoot: {Description: &sarifText{Text: "The directory that was scanned; result paths are relative to it."}}}
	}
	for _, f := range v.findings {
		run.Results = append(run.Results, v.result(f))
	}
	log := sarifLog{Schema: sarifSchemaURI, Version: "2.1.0", Runs: []sarifRun{run}}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(log); err != nil {
		return fmt.Errorf("write sarif report: %w", err)
	}
	return nil
}

func sarifRuleFor(rl rules.Rule) sarifRule {
	tags := []string{"security"}
	for _, c := range rl.CWE {
		tags = append(tags, "external/cwe/"+strings.ToLower(c))
	}
	return sarifRule{
		ID:                   rl.ID,
		Name:                 rl.Name,
		ShortDescription:     sarifText{Text: rl.Summary},
		FullDescription:      sarifText{Text: rl.Description},
		Help:                 sarifHelp{Text: rules.HelpText(rl), Markdown: rules.HelpMarkdown(rl)},
		HelpURI:              rl.HelpURL(),
		DefaultConfiguration: sarifRuleConfig{Level: rl.Level.SARIFLevel()},
		Properties:           sarifRuleProps{Tags: tags, SecuritySeverity: rl.SecuritySeverity, Precision: rl.Precision()},
	}
}

func (v *view) result(f finding.Finding) sarifResult {
	res := sarifResult{
		RuleID:  f.RuleID,
		Level:   sarifLevel(f.Level),
		Message: sarifText{Text: resultMessage(f)},
		Locations: []sarifLocation{{
			PhysicalLocation: &sarifPhysical{ArtifactLocation: v.artifactLoc(f.Path), Region: region(f)},
		}},
		PartialFingerprints: map[string]string{"primaryLocationLineHash": f.Fingerprint + ":1"},
	}
	if _, idx, ok := v.rule(f.RuleID); ok {
		res.RuleIndex = &idx
	}
	if f.Member != "" {
		res.Locations[0].LogicalLocations = []sarifLogical{{
			Name: f.Member, FullyQualifiedName: displayPath(f.Path, f.Member), Kind: "resource",
		}}
	}
	if f.Suppressed {
		res.Suppressions = []sarifSuppression{suppression(f.Suppression)}
	}
	return res
}

// sarifLevel maps a level; an unset one becomes "warning", SARIF's default.
func sarifLevel(l finding.Level) string {
	if l == finding.LevelNone {
		return "warning"
	}
	return l.SARIFLevel()
}

func resultMessage(f finding.Finding) string {
	msg := f.Message
	if f.Member != "" {
		msg += " (in archive member " + f.Member + ")"
	}
	if f.Cell > 0 && f.CellLine > 0 {
		msg += fmt.Sprintf(" (notebook cell %d, line %d)", f.Cell, f.CellLine)
	}
	if f.Fix != "" {
		msg += "\nFix: " + f.Fix
	}
	return msg
}

func suppression(s *finding.Suppression) sarifSuppression {
	out := sarifSuppression{Kind: "external", Status: "accepted"}
	if s == nil {
		return out
	}
	if s.Kind == "inline" {
		out.Kind = "inSource"
	}
	out.Justification = s.Reason
	if s.Where != "" {
		if out.Justification != "" {
			out.Justification += " "
		}
		out.Justification += "(" + s.Kind + " at " + s.Where + ")"
	}
	return out
}

// region anchors line-less findings at line 1 and emits columns and the end
// only when they describe a non-empty, ordered range.
func region(f finding.Finding) *sarifRegion {
	if f.Line <= 0 {
		return &sarifRegion{StartLine: 1}
	}
	rg := &sarifRegion{StartLine: f.Line}
	if f.Column > 0 {
		rg.StartColumn = f.Column
	}
	if f.EndLine > f.Line {
		rg.EndLine = f.EndLine
		if f.EndColumn > 0 {
			rg.EndColumn = f.EndColumn
		}
	} else if f.EndLine == f.Line && f.Column > 0 && f.EndColumn > f.Column {
		rg.EndLine = f.EndLine
		rg.EndColumn = f.EndColumn
	}
	return rg
}

// artifactLoc places a report path. A scan path that is absolute (a root
// given as an absolute path outside the working directory) becomes an
// absolute file:// URI with no base ID: relative to %SRCROOT% it would name
// a different file. Everything else is relative to %SRCROOT%.
func (v *view) artifactLoc(p string) sarifArtifactLoc {
	if !v.serverRoot() && filepath.IsAbs(p) {
		u := filepath.ToSlash(p)
		if !strings.HasPrefix(u, "/") {
			u = "/" + u // Windows drive paths: file:///C:/...
		}
		return sarifArtifactLoc{URI: (&url.URL{Scheme: "file", Path: u}).String()}
	}
	return artifactLoc(p)
}

// serverRoot reports whether the report is about a server (audit, gateway):
// its paths are request paths and resources, not files.
func (v *view) serverRoot() bool {
	u, err := url.Parse(v.root)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https")
}

// artifactLoc makes a relative, percent-encoded URI under %SRCROOT%. Gateway
// and audit paths (request paths, server resources) lose their leading slash
// so they stay relative to the server URL in originalUriBaseIds.
func artifactLoc(p string) sarifArtifactLoc {
	p = strings.TrimLeft(filepath.ToSlash(p), "/")
	if p == "" {
		p = "."
	}
	// String (not EscapedPath) prefixes "./" when the first segment holds a
	// colon, so "c:x" cannot be read as a URI scheme.
	return sarifArtifactLoc{URI: (&url.URL{Path: p}).String(), URIBaseID: srcRoot}
}

// rootURI gives the audited server's URL as the base for its request
// paths. A scanned directory gets no URI: it would put the machine's
// absolute path into the report, and consumers resolve %SRCROOT% against
// their own checkout anyway (GitHub maps relative URIs to repository files).
func rootURI(root string) string {
	u, err := url.Parse(root)
	if root == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return ""
	}
	// credentials, query and fragment of a tracking URI are no base
	u.User, u.RawQuery, u.Fragment, u.RawFragment, u.ForceQuery = nil, "", "", "", false
	s := u.String()
	if !strings.HasSuffix(s, "/") {
		s += "/"
	}
	return s
}

func invocation(v *view) sarifInvocation {
	inv := sarifInvocation{ExecutionSuccessful: !v.summary.Incomplete}
	for _, e := range v.errors {
		n := sarifNotification{
			Level:      notificationLevel(e.Kind),
			Message:    sarifText{Text: e.String()},
			Descriptor: &sarifDescr{ID: string(e.Kind)},
		}
		if e.Path != "" {
			pl := &sarifPhysical{ArtifactLocation: v.artifactLoc(e.Path)}
			if e.Line > 0 {
				pl.Region = &sarifRegion{StartLine: e.Line}
			}
			n.Locations = []sarifLocation{{PhysicalLocation: pl}}
		}
		inv.ToolExecutionNotifications = append(inv.ToolExecutionNotifications, n)
	}
	return inv
}

// notificationLevel: input that was not fully analyzed is an error (a gap
// in coverage that fails the run); a file the user chose to leave out is a
// note; config and suppression problems are warnings.
func notificationLevel(kind finding.ErrorKind) string {
	switch {
	case kind.Incomplete():
		return "error"
	case kind == finding.ErrExcluded:
		return "note"
	}
	return "warning"
}
