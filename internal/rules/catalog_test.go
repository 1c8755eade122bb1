package rules

import (
	"maps"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// wantIDs is the ID column of the design's rules.md, copied here because that
// file lives outside the repository. A rule added or dropped must change both.
var wantIDs = []string{
	"MLG101", "MLG102", "MLG103", "MLG104", "MLG105", "MLG106", "MLG107", "MLG108", "MLG109", "MLG110", "MLG111",
	"MLG201", "MLG202", "MLG203", "MLG204", "MLG205",
	"MLG301", "MLG302", "MLG303", "MLG304", "MLG305", "MLG306",
	"MLG401", "MLG402", "MLG403", "MLG404", "MLG405", "MLG406", "MLG407", "MLG408", "MLG409", "MLG410",
}

var (
	reID    = regexp.MustCompile(`^MLG[1-4]\d\d$`)
	reName  = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)+$`)
	reCWE   = regexp.MustCompile(`^CWE-[1-9]\d*$`)
	reOWASP = regexp.MustCompile(`^OWASP (A\d\d:20\d\d|LLM\d\d)$`)
	reSev   = regexp.MustCompile(`^\d{1,2}\.\d$`)
	reCVE   = regexp.MustCompile(`CVE-\d{4}-\d{4,}`)
)

func TestCatalogIDs(t *testing.T) {
	rs := Catalog()
	if len(rs) != 32 {
		t.Fatalf("catalog has %d rules, want 32", len(rs))
	}
	var got []string
	for _, r := range rs {
		got = append(got, r.ID)
	}
	if !slices.Equal(got, wantIDs) {
		t.Fatalf("catalog IDs (in order) = %v\nwant %v", got, wantIDs)
	}
}

func TestCatalogUniqueAndWellFormed(t *testing.T) {
	ids, names := map[string]bool{}, map[string]bool{}
	for _, r := range Catalog() {
		if !reID.MatchString(r.ID) {
			t.Errorf("%s: ID does not match %s", r.ID, reID)
		}
		if ids[r.ID] {
			t.Errorf("%s: duplicate ID", r.ID)
		}
		ids[r.ID] = true
		if !reName.MatchString(r.Name) {
			t.Errorf("%s: name %q is not kebab-case", r.ID, r.Name)
		}
		if names[r.Name] {
			t.Errorf("%s: duplicate name %q", r.ID, r.Name)
		}
		names[r.Name] = true
		if reID.MatchString(strings.ToUpper(r.Name)) {
			t.Errorf("%s: name %q looks like an ID", r.ID, r.Name)
		}
	}
}

func TestCatalogFieldsComplete(t *testing.T) {
	for _, r := range Catalog() {
		fields := map[string]string{
			"Name": r.Name, "SeedRule": r.SeedRule, "Summary": r.Summary, "Description": r.Description,
			"Fix": r.Fix, "Do": r.Do, "Dont": r.Dont, "SecuritySeverity": r.SecuritySeverity,
		}
		for k, v := range fields {
			if strings.TrimSpace(v) == "" {
				t.Errorf("%s: %s is empty", r.ID, k)
			}
		}
		if r.Level < finding.Advisory || r.Level > finding.Strict {
			t.Errorf("%s: invalid level %v", r.ID, r.Level)
		}
		if len(r.CWE) == 0 || len(r.OWASP) == 0 || len(r.EnforcedIn) == 0 {
			t.Errorf("%s: CWE, OWASP and EnforcedIn must be non-empty", r.ID)
		}
		for _, c := range r.CWE {
			if !reCWE.MatchString(c) {
				t.Errorf("%s: CWE %q does not match %s", r.ID, c, reCWE)
			}
		}
		for _, o := range r.OWASP {
			if !reOWASP.MatchString(o) {
				t.Errorf("%s: OWASP %q does not match %s", r.ID, o, reOWASP)
			}
		}
		seen := map[string]bool{}
		for _, e := range r.EnforcedIn {
			switch e {
			case InCode, InDeploy, InModel, InGateway, InAudit:
			default:
				t.Errorf("%s: unknown EnforcedIn %q", r.ID, e)
			}
			if seen[e] {
				t.Errorf("%s: EnforcedIn lists %q twice", r.ID, e)
			}
			seen[e] = true
		}
		// The fix is printed under every finding: one line, or a lead
		// line and a short "- " list of options, each line short.
		for _, fix := range append([]string{r.Fix}, slices.Collect(maps.Values(r.FixFor))...) {
			lines := strings.Split(fix, "\n")
			if strings.ContainsRune(fix, '\r') || strings.HasSuffix(fix, "\n") || len(lines) > 6 {
				t.Errorf("%s: a fix is one line or a lead line and up to five \"- \" options: %q", r.ID, fix)
			}
			for i, l := range lines {
				if i > 0 && !strings.HasPrefix(l, "- ") {
					t.Errorf("%s: fix line %d is not a \"- \" option: %q", r.ID, i+1, l)
				}
				if len(l) > 160 {
					t.Errorf("%s: fix line is %d characters; keep it under 160", r.ID, len(l))
				}
			}
		}
		if strings.ContainsAny(r.Summary, "\n") {
			t.Errorf("%s: Summary must be one line", r.ID)
		}
		if r.Do == r.Dont {
			t.Errorf("%s: Do and Dont are identical", r.ID)
		}
	}
}

func TestSeverityMatchesLevel(t *testing.T) {
	for _, r := range Catalog() {
		if !reSev.MatchString(r.SecuritySeverity) {
			t.Errorf("%s: security-severity %q is not of the form 9.8", r.ID, r.SecuritySeverity)
			continue
		}
		v, ok := r.Severity()
		if !ok {
			t.Errorf("%s: security-severity %q out of range", r.ID, r.SecuritySeverity)
			continue
		}
		lo, hi := SeverityBand(r.Level)
		if v < lo || v > hi {
			t.Errorf("%s: security-severity %.1f outside %.1f-%.1f for level %s", r.ID, v, lo, hi, r.Level)
		}
	}
}

// Rule prefixes belong to one seed rule each (rules.md).
func TestSeedRuleByPrefix(t *testing.T) {
	want := map[byte]string{'1': seedModel, '2': seedTracking, '3': seedArtifact, '4': seedServer}
	for _, r := range Catalog() {
		if got := r.SeedRule; got != want[r.ID[3]] {
			t.Errorf("%s: seed rule %q, want %q", r.ID, got, want[r.ID[3]])
		}
	}
}

// CVEs cited in descriptions must be well formed; a typo would send readers
// to the wrong advisory.
func TestDescriptionCVEs(t *testing.T) {
	n := 0
	for _, r := range Catalog() {
		for _, m := range regexp.MustCompile(`CVE-[0-9-]+`).FindAllString(r.Description, -1) {
			if !reCVE.MatchString(m) || strings.HasSuffix(m, "-") {
				t.Errorf("%s: malformed CVE reference %q", r.ID, m)
			}
			n++
		}
	}
	if n < 10 {
		t.Errorf("only %d CVE references across the catalog; the descriptions should cite the CVE history", n)
	}
}

func TestIndexLookup(t *testing.T) {
	ix := NewIndex()
	for _, r := range Catalog() {
		for _, key := range []string{r.ID, strings.ToLower(r.ID), r.Name, strings.ToUpper(r.Name)} {
			got, ok := ix.Lookup(key)
			if !ok || got.ID != r.ID {
				t.Errorf("Lookup(%q) = %v, %v; want %s", key, got.ID, ok, r.ID)
			}
		}
	}
	if _, ok := ix.Lookup("MLG999"); ok {
		t.Error("Lookup(MLG999) found a rule")
	}
	if len(ix.All()) != len(wantIDs) {
		t.Errorf("All() has %d rules", len(ix.All()))
	}
}

// Catalog must hand out independent copies.
func TestCatalogIsACopy(t *testing.T) {
	a := Catalog()
	a[0].CWE[0] = "CWE-1"
	a[0].Fix = "changed"
	b := Catalog()
	if b[0].CWE[0] == "CWE-1" || b[0].Fix == "changed" {
		t.Fatal("Catalog returned shared state")
	}
}

// TestFixFor: every per-context fix has a known context and text, and the
// fix of a finding follows its context, else its file kind, else Fix.
func TestFixFor(t *testing.T) {
	for _, r := range Catalog() {
		for k, v := range r.FixFor {
			if _, ok := contextLabels[k]; !ok {
				t.Errorf("%s: FixFor context %q is not a Ctx* constant", r.ID, k)
			}
			if strings.TrimSpace(v) == "" || v == r.Fix {
				t.Errorf("%s: FixFor[%s] is empty or repeats Fix", r.ID, k)
			}
		}
	}
	ix := NewIndex()
	r410, _ := ix.Lookup("MLG410")
	r404, _ := ix.Lookup("MLG404")
	cases := []struct {
		r         Rule
		ctx, path string
		want      string
	}{
		{r410, "", "deploy/Dockerfile", r410.FixFor[CtxDockerfile]},
		{r410, "", "deploy/Dockerfile.prod", r410.FixFor[CtxDockerfile]},
		{r410, "", "docker-compose.yml", r410.FixFor[CtxCompose]},
		{r410, "", "compose.yaml", r410.FixFor[CtxCompose]},
		{r410, "", "k8s/deployment.yaml", r410.FixFor[CtxKubernetes]},
		{r410, CtxCompose, "k8s/weird.yaml", r410.FixFor[CtxCompose]},
		{r410, "", "run.sh", r410.Fix},
		{r404, CtxDefaultPermission, "auth/basic_auth.ini", r404.FixFor[CtxDefaultPermission]},
		{r404, CtxAdminPassword, "auth/basic_auth.ini", r404.FixFor[CtxAdminPassword]},
		{r404, "", "auth/basic_auth.ini", r404.Fix},
	}
	for _, c := range cases {
		if got := c.r.FixIn(c.ctx, c.path); got != c.want {
			t.Errorf("%s FixIn(%q, %q) = %q, want %q", c.r.ID, c.ctx, c.path, got, c.want)
		}
	}
	if r410.FixFor[CtxDockerfile] == r410.FixFor[CtxKubernetes] {
		t.Error("MLG410: the Dockerfile and Kubernetes fixes must differ")
	}
}

// internalWords are the project's own working terms; users read "security
// rule" instead of the design notes' word for the four guidelines.
var internalWords = regexp.MustCompile(`(?i)\bseed(s|'s|ed)?\b|\bseed[ _-]rule`)

// TestNoInternalWords: what users read (every text of every rule, and the
// rendered docs pages) never names the project's own working terms.
func TestNoInternalWords(t *testing.T) {
	for _, r := range Catalog() {
		texts := append([]string{r.Summary, r.Description, r.Fix, r.Do, r.Dont, r.SeedRule, HelpText(r), HelpMarkdown(r)}, slices.Collect(maps.Values(r.FixFor))...)
		for _, s := range texts {
			if m := internalWords.FindString(s); m != "" {
				t.Errorf("%s: user-facing text says %q: %q", r.ID, m, s)
			}
		}
		if m := internalWords.Find(RenderMarkdownPage(r)); m != nil {
			t.Errorf("%s: docs page says %q", r.ID, m)
		}
	}
	if m := internalWords.Find(RenderIndex(Catalog())); m != nil {
		t.Errorf("docs/rules index says %q", m)
	}
}

// contextWords are words that only make sense in one kind of file: advice
// shown for another kind must not use them.
var contextWords = map[string]*regexp.Regexp{
	CtxDockerfile: regexp.MustCompile(`Dockerfile|\b(USER|ENV|ARG|CMD|ENTRYPOINT|BuildKit)\b|docker run|--read-only|--security-opt|--memory|--cpus|(^|\s)-p\s`),
	CtxCompose:    regexp.MustCompile(`(?i)compose|\bports:|env_file|security_opt|read_only|deploy\.resources|secrets:|privileged:`),
	CtxKubernetes: regexp.MustCompile(`Kubernetes|\bHelm\b|values\.yaml|secretKeyRef|existingSecret|securityContext|runAsNonRoot|readOnlyRootFilesystem|allowPrivilegeEscalation|(^|[^.a-z])resources\.limits|\b(Ingress|ClusterIP|LoadBalancer|NodePort|hostPort|Service|pod|kubectl)\b|kubernetes\.io`),
}

// TestFixFitsItsFile: for every rule and every context a finding can carry
// (the file kinds, the generic "other", and the rule's own FixFor keys),
// the advice shown names nothing of another kind of file.
func TestFixFitsItsFile(t *testing.T) {
	for _, r := range Catalog() {
		ctxs := []string{"", CtxOther, CtxDockerfile, CtxCompose, CtxKubernetes}
		ctxs = append(ctxs, r.FixContexts()...)
		for _, ctx := range ctxs {
			fix := r.FixIn(ctx, "")
			if fix == "" {
				t.Errorf("%s in %q: no fix", r.ID, ctx)
			}
			for other, re := range contextWords {
				if other == ctx {
					continue
				}
				if m := re.FindString(fix); m != "" {
					t.Errorf("%s %s: advice names %q, which belongs %s: %q", r.ID, ContextLabel(ctx), m, ContextLabel(other), fix)
				}
			}
		}
	}
	// the file kinds a path alone shows pick the same advice
	for path, ctx := range map[string]string{"deploy/Dockerfile": CtxDockerfile, "docker-compose.yml": CtxCompose, "k8s/deploy.yaml": CtxKubernetes, "run.sh": ""} {
		for _, r := range Catalog() {
			if got, want := r.FixIn("", path), r.FixIn(ctx, ""); got != want {
				t.Errorf("%s at %s: %q, want the %q advice %q", r.ID, path, got, ctx, want)
			}
		}
	}
}
