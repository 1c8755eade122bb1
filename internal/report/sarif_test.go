package report

import (
	"encoding/json"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
)

// decodeSARIF reads the writer's output back into our own types.
func decodeSARIF(t *testing.T, r *Report) sarifLog {
	t.Helper()
	var log sarifLog
	if err := json.Unmarshal(render(t, "sarif", Options{}, r), &log); err != nil {
		t.Fatal(err)
	}
	if len(log.Runs) != 1 {
		t.Fatalf("want exactly one run, got %d", len(log.Runs))
	}
	return log
}

// TestSARIFGitHubRequirements checks what GitHub code scanning needs beyond
// the schema: driver identity, rules with security metadata, results that
// point at a rule, a relative file and a line, and stable fingerprints.
func TestSARIFGitHubRequirements(t *testing.T) {
	r := fullReport()
	log := decodeSARIF(t, r)
	run := log.Runs[0]
	if log.Version != "2.1.0" || log.Schema == "" {
		t.Errorf("version %q schema %q", log.Version, log.Schema)
	}
	d := run.Tool.Driver
	if d.Name != "mlflow-guard" || d.Version != "v0.3.1" || d.SemanticVersion != "0.3.1" || !strings.HasPrefix(d.InformationURI, "https://") {
		t.Errorf("driver = %+v", d)
	}
	cat := rules.Catalog()
	if len(d.Rules) != len(cat) {
		t.Fatalf("driver has %d rules, catalog %d", len(d.Rules), len(cat))
	}
	reTag := regexp.MustCompile(`^external/cwe/cwe-[1-9]\d*$`)
	for i, rl := range d.Rules {
		if rl.ID != cat[i].ID || rl.Name != cat[i].Name {
			t.Errorf("rule %d = %s/%s, want %s", i, rl.ID, rl.Name, cat[i].ID)
		}
		if rl.ShortDescription.Text == "" || rl.FullDescription.Text == "" || rl.Help.Text == "" || rl.Help.Markdown == "" {
			t.Errorf("%s: empty description or help", rl.ID)
		}
		if !strings.HasPrefix(rl.HelpURI, "https://") || !strings.HasSuffix(rl.HelpURI, cat[i].DocFile()) {
			t.Errorf("%s: helpUri %q is not an absolute link to its page", rl.ID, rl.HelpURI)
		}
		if rl.DefaultConfiguration.Level != cat[i].Level.SARIFLevel() {
			t.Errorf("%s: default level %q", rl.ID, rl.DefaultConfiguration.Level)
		}
		if v, err := strconv.ParseFloat(rl.Properties.SecuritySeverity, 64); err != nil || v <= 0 || v > 10 {
			t.Errorf("%s: security-severity %q", rl.ID, rl.Properties.SecuritySeverity)
		}
		switch rl.Properties.Precision {
		case "very-high", "high", "medium", "low":
		default:
			t.Errorf("%s: precision %q", rl.ID, rl.Properties.Precision)
		}
		if len(rl.Properties.Tags) < 2 || rl.Properties.Tags[0] != "security" {
			t.Errorf("%s: tags %v", rl.ID, rl.Properties.Tags)
		}
		for _, tag := range rl.Properties.Tags[1:] {
			if !reTag.MatchString(tag) {
				t.Errorf("%s: tag %q is not GitHub's external/cwe/cwe-N form", rl.ID, tag)
			}
		}
	}
	if len(run.Results) != len(r.Findings) {
		t.Fatalf("%d results for %d findings (suppressed ones must stay listed)", len(run.Results), len(r.Findings))
	}
	suppressed := 0
	for _, res := range run.Results {
		if res.RuleIndex == nil || d.Rules[*res.RuleIndex].ID != res.RuleID {
			t.Errorf("%s: ruleIndex does not point at its rule", res.RuleID)
		}
		if len(res.Locations) != 1 || res.Locations[0].PhysicalLocation == nil {
			t.Fatalf("%s: want one physical location", res.RuleID)
		}
		pl := res.Locations[0].PhysicalLocation
		if pl.ArtifactLocation.URIBaseID != "%SRCROOT%" || strings.HasPrefix(pl.ArtifactLocation.URI, "/") || strings.Contains(pl.ArtifactLocation.URI, " ") {
			t.Errorf("%s: artifact location %+v", res.RuleID, pl.ArtifactLocation)
		}
		if pl.Region == nil || pl.Region.StartLine < 1 {
			t.Errorf("%s: region %+v lacks startLine >= 1", res.RuleID, pl.Region)
		}
		if rg := pl.Region; rg != nil && rg.EndLine != 0 && (rg.EndLine < rg.StartLine || (rg.EndLine == rg.StartLine && rg.EndColumn <= rg.StartColumn)) {
			t.Errorf("%s: region %+v is not ordered", res.RuleID, rg)
		}
		if !regexp.MustCompile(`^[0-9a-f]{16,64}:\d+$`).MatchString(res.PartialFingerprints["primaryLocationLineHash"]) {
			t.Errorf("%s: primaryLocationLineHash %q", res.RuleID, res.PartialFingerprints["primaryLocationLineHash"])
		}
		if !strings.Contains(res.Message.Text, "\nFix: ") {
			t.Errorf("%s: message lacks the fix: %q", res.RuleID, res.Message.Text)
		}
		if len(res.Suppressions) > 0 {
			suppressed++
		}
	}
	if suppressed != 2 {
		t.Errorf("%d suppressed results, want 2", suppressed)
	}
	if base, ok := run.OriginalURIBaseIDs["%SRCROOT%"]; !ok || base.URI != "" || base.Description == nil {
		t.Errorf("originalUriBaseIds %%SRCROOT%% = %+v, want a description and no machine path", base)
	}
	inv := run.Invocations[0]
	if inv.ExecutionSuccessful || len(inv.ToolExecutionNotifications) != 2 {
		t.Errorf("incomplete run with 2 errors gave invocation %+v", inv)
	}
}

func TestSARIFMappings(t *testing.T) {
	byRule := func(log sarifLog, id string, suppressed bool) sarifResult {
		for _, res := range log.Runs[0].Results {
			if res.RuleID == id && (len(res.Suppressions) > 0) == suppressed {
				return res
			}
		}
		t.Fatalf("no result for %s", id)
		return sarifResult{}
	}
	log := decodeSARIF(t, fullReport())
	// A level lowered by config shows per result, not only per rule.
	if got := byRule(log, "MLG402", false).Level; got != "note" {
		t.Errorf("advisory MLG402 level = %q, want note", got)
	}
	// Inline suppression -> inSource; config -> external.
	if s := byRule(log, "MLG201", true).Suppressions[0]; s.Kind != "inSource" || !strings.Contains(s.Justification, "test fixture credential") {
		t.Errorf("inline suppression = %+v", s)
	}
	if s := byRule(log, "MLG405", true).Suppressions[0]; s.Kind != "external" {
		t.Errorf("config suppression = %+v", s)
	}
	// Archive member: logical location and named in the message.
	m := byRule(log, "MLG106", false)
	if len(m.Locations[0].LogicalLocations) != 1 || m.Locations[0].LogicalLocations[0].FullyQualifiedName != "models/fraud/model.zip!model/data.pkl" {
		t.Errorf("member logical location = %+v", m.Locations[0].LogicalLocations)
	}
	if !strings.Contains(m.Message.Text, "model/data.pkl") {
		t.Errorf("member missing from message %q", m.Message.Text)
	}
	// Line 0 -> startLine 1, no columns.
	if rg := m.Locations[0].PhysicalLocation.Region; rg.StartLine != 1 || rg.StartColumn != 0 || rg.EndLine != 0 {
		t.Errorf("line-less region = %+v", rg)
	}
	if got := byRule(log, "MLG201", false).Locations[0].PhysicalLocation.ArtifactLocation.URI; got != "notebooks/my%20exp.py" {
		t.Errorf("uri with a space = %q", got)
	}
}

func TestSARIFRootsAndVersions(t *testing.T) {
	cases := []struct{ root, want string }{
		{"https://mlflow.example.com", "https://mlflow.example.com/"},
		{"https://mlflow.example.com/base/", "https://mlflow.example.com/base/"},
		{"https://user:s3cret@mlflow.example.com/base?token=x#f", "https://mlflow.example.com/base/"},
		{"/srv/my repo", ""},
		{"file:///srv/repo", ""},
		{"rel/dir", ""},
		{"", ""},
	}
	for _, c := range cases {
		if got := rootURI(c.root); got != c.want {
			t.Errorf("rootURI(%q) = %q, want %q", c.root, got, c.want)
		}
	}
	for v, want := range map[string]string{"v1.2.3": "1.2.3", "1.2.3-rc.1": "1.2.3-rc.1", "dev": "", "(devel)": ""} {
		r := emptyReport()
		r.Tool.Version = v
		if got := decodeSARIF(t, r).Runs[0].Tool.Driver.SemanticVersion; got != want {
			t.Errorf("version %q -> semanticVersion %q, want %q", v, got, want)
		}
	}
	// Gateway/audit paths are request paths: keep them relative.
	if got := artifactLoc("/api/2.0/mlflow/experiments/get").URI; got != "api/2.0/mlflow/experiments/get" {
		t.Errorf("request path uri = %q", got)
	}
}

func TestSARIFRegion(t *testing.T) {
	cases := []struct {
		f    finding.Finding
		want sarifRegion
	}{
		{finding.Finding{}, sarifRegion{StartLine: 1}},
		{finding.Finding{Line: 4}, sarifRegion{StartLine: 4}},
		{finding.Finding{Line: 4, Column: 2, EndLine: 4, EndColumn: 9}, sarifRegion{StartLine: 4, StartColumn: 2, EndLine: 4, EndColumn: 9}},
		{finding.Finding{Line: 4, Column: 9, EndLine: 4, EndColumn: 2}, sarifRegion{StartLine: 4, StartColumn: 9}},
		{finding.Finding{Line: 4, Column: 2, EndLine: 3, EndColumn: 2}, sarifRegion{StartLine: 4, StartColumn: 2}},
		{finding.Finding{Line: 4, EndLine: 6}, sarifRegion{StartLine: 4, EndLine: 6}},
	}
	for _, c := range cases {
		if got := *region(c.f); got != c.want {
			t.Errorf("region(%d:%d-%d:%d) = %+v, want %+v", c.f.Line, c.f.Column, c.f.EndLine, c.f.EndColumn, got, c.want)
		}
	}
}
