package audit

import (
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/config"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

func rulesOf(ps []problem) string {
	var s []string
	for _, p := range ps {
		s = append(s, p.rule)
	}
	return strings.Join(s, ",")
}

func TestJudgeLocation(t *testing.T) {
	allowAll := func(string) bool { return true }
	cases := []struct{ loc, want string }{
		{"mlflow-artifacts:/3", ""},
		{"s3://ml-artifacts/team-a", ""},
		{"gs://bucket/x", ""},
		{"https://store.example.com/a", ""},
		{"", ""},
		{"file:///var/tmp/mlruns", "MLG205"},
		{"/srv/mlruns/1", "MLG205"},
		{"./mlruns", "MLG205"},
		{"http://artifacts.example.com/a", "MLG304"},
		{"s3://b/a/../other", "MLG205"},
		{"s3://b/a/%2e%2e/other", "MLG205"},
		{"s3://b/a/%252e%252e/other", "MLG205"},
		{"s3://b/a#frag", "MLG205"},
		{"s3://b/a;x=1", "MLG205"},
		{"http://h/a/../b", "MLG304,MLG205"},
		{"s3://b/a..b/c", ""},
		{"s3://public-ml-artifacts/mlflow", "MLG304"},
		{"gs://team-public/x", "MLG304"},
		{"s3://ml-artifacts/public/x", ""},
	}
	for _, c := range cases {
		if got := rulesOf(judgeLocation(c.loc, allowAll)); got != c.want {
			t.Errorf("judgeLocation(%q) = %q, want %q", c.loc, got, c.want)
		}
	}
	p := config.DefaultPolicy()
	p.ArtifactLocations = []string{"s3://ml-artifacts/"}
	if got := rulesOf(judgeLocation("s3://other-bucket/x", p.ArtifactLocationAllowed)); got != "MLG205" {
		t.Errorf("outside allowlist: got %q", got)
	}
	if got := rulesOf(judgeLocation("s3://ml-artifacts/x", p.ArtifactLocationAllowed)); got != "" {
		t.Errorf("inside allowlist: got %q", got)
	}
}

func TestApproval(t *testing.T) {
	a, err := New(Options{Source: &RESTSource{}, Policy: config.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	tags := func(kv ...string) []mlflowapi.Tag {
		var ts []mlflowapi.Tag
		for i := 0; i+1 < len(kv); i += 2 {
			ts = append(ts, mlflowapi.Tag{Key: kv[i], Value: kv[i+1]})
		}
		return ts
	}
	const by, at, req, dg = "mlflow-guard.approved_by", "mlflow-guard.approved_at", "mlflow-guard.requested_by", "mlflow-guard.digest"
	cases := []struct {
		name string
		mv   mlflowapi.ModelVersion
		want string
	}{
		{"unprotected", mlflowapi.ModelVersion{CurrentStage: "None", Aliases: []string{"challenger"}}, ""},
		{"archived", mlflowapi.ModelVersion{CurrentStage: "Archived"}, ""},
		{"production no record", mlflowapi.ModelVersion{CurrentStage: "Production"}, "MLG105"},
		{"staging lower case", mlflowapi.ModelVersion{CurrentStage: "staging"}, "MLG105"},
		{"champion", mlflowapi.ModelVersion{Aliases: []string{"Champion"}}, "MLG105"},
		{"prod glob", mlflowapi.ModelVersion{Aliases: []string{"prod-eu"}}, "MLG105"},
		{"self approved", mlflowapi.ModelVersion{Aliases: []string{"champion"}, Tags: tags(req, "Carol", by, "carol", at, "t", dg, "d")}, "MLG105"},
		{"no requester", mlflowapi.ModelVersion{Aliases: []string{"champion"}, Tags: tags(by, "bob", at, "t", dg, "d")}, "MLG105"},
		{"no time", mlflowapi.ModelVersion{Aliases: []string{"champion"}, Tags: tags(req, "alice", by, "bob", dg, "d")}, "MLG105"},
		{"blank approver", mlflowapi.ModelVersion{Aliases: []string{"champion"}, Tags: tags(req, "alice", by, "  ", at, "t", dg, "d")}, "MLG105"},
		{"approved no digest", mlflowapi.ModelVersion{CurrentStage: "Production", Tags: tags(req, "alice", by, "bob", at, "t")}, "MLG110"},
		{"approved", mlflowapi.ModelVersion{CurrentStage: "Production", Tags: tags(req, "alice", by, "bob", at, "t", dg, "sha256:00")}, ""},
	}
	for _, c := range cases {
		a.res.Findings = nil
		c.mv.Name, c.mv.Version = "m", "1"
		a.checkApproval(c.mv)
		var got []string
		for _, f := range a.res.Findings {
			got = append(got, f.RuleID)
		}
		if strings.Join(got, ",") != c.want {
			t.Errorf("%s: got %v, want %q", c.name, got, c.want)
		}
	}
}

func TestValueFindingRedacts(t *testing.T) {
	a, err := New(Options{Source: &RESTSource{}, Policy: config.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	sink := (*runSink)(a)
	sink.Value("1", "r1", FieldParam, "db_password", "hunter2-but-longer-9")
	sink.Value("1", "r1", FieldParam, "conn", "postgresql://u:Pa55w0rd-xyz@h/db")
	sink.Value("1", "r1", FieldParam, "learning_rate", "0.01")
	sink.Value("1", "r1", FieldRunName, "run_name", "nightly")
	if len(a.res.Findings) != 2 {
		t.Fatalf("got %d findings, want 2: %+v", len(a.res.Findings), a.res.Findings)
	}
	for _, f := range a.res.Findings {
		if strings.Contains(f.Message, "hunter2") || strings.Contains(f.Message, "Pa55w0rd") {
			t.Errorf("secret printed: %s", f.Message)
		}
		if !strings.HasPrefix(f.Path, "experiments/1/runs/r1/params/") {
			t.Errorf("path %q", f.Path)
		}
	}
}

func TestSeveralInProduction(t *testing.T) {
	a, err := New(Options{Source: &RESTSource{}, Policy: config.DefaultPolicy()})
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range []mlflowapi.ModelVersion{
		{Name: "a", Version: "1", CurrentStage: "Production"},
		{Name: "a", Version: "2", CurrentStage: "production"},
		{Name: "a", Version: "3", CurrentStage: "Archived"},
		{Name: "b", Version: "1", CurrentStage: "Production"},
	} {
		a.noteStage(v)
	}
	a.checkSeveralInProduction()
	if len(a.res.Findings) != 1 || a.res.Findings[0].Path != "registered-models/a" || a.res.Findings[0].RuleID != "MLG105" {
		t.Errorf("got %+v", a.res.Findings)
	}
}
