package audit

import (
	"context"
	"fmt"
	"net/url"
	"strings"
	"unicode/utf8"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// dataChecks judges everything the source holds.
func (a *Auditor) dataChecks(ctx context.Context) {
	src := a.opts.Source
	exps, err := src.Experiments(ctx)
	if err != nil {
		a.readFailed("experiments", err)
	}
	a.stats.experiments.Store(int64(len(exps)))
	for _, e := range exps {
		a.checkExperiment(e)
	}
	fail := a.readFailed
	src.Runs(ctx, exps, (*runSink)(a), fail)
	src.ModelVersions(ctx, func(mv mlflowapi.ModelVersion) { a.checkModelVersion(ctx, mv) }, fail)
	a.checkSeveralInProduction()
}

// runSink adapts the auditor to RunSink.
type runSink Auditor

func (s *runSink) RunSeen() { s.stats.runs.Add(1) }

// RunDeleted implements deletedSink.
func (s *runSink) RunDeleted(runID string) { s.deleted.Store(runID, true) }

// QuietKey implements quietSink: Value judges params and tags with Check,
// which reports no short value under a key SensitiveKey rejects.
func (s *runSink) QuietKey(field Field, key string) bool {
	return (field == FieldParam || field == FieldTag) && !s.det.SensitiveKey(key)
}

// Skipped implements quietSink.
func (s *runSink) Skipped(n int64) { s.stats.values.Add(n) }

func (s *runSink) Value(expID, runID string, field Field, key, value string) {
	a := (*Auditor)(s)
	a.stats.values.Add(1)
	var reason string
	var ok bool
	switch field {
	case FieldRunName, FieldDataset:
		// The name is not a key that names a secret: judge the value alone.
		reason, ok = a.det.Check("", value)
	default:
		reason, ok = a.det.Check(key, value)
	}
	if !ok {
		return
	}
	base := "experiments/" + expID + "/runs/" + runID
	var path, what string
	switch field {
	case FieldParam:
		path, what = base+"/params/"+key, "param "+a.quoteKey(key)
	case FieldTag:
		path, what = base+"/tags/"+key, "tag "+a.quoteKey(key)
	case FieldRunName:
		path, what = base+"/run_name", "run name"
	case FieldDataset:
		path, what = base+"/datasets/"+key, "source of dataset "+a.quoteKey(key)
	}
	msg := fmt.Sprintf("secret in %s: %s (value %s)", what, reason, a.redactValue(value))
	if _, ok := a.deleted.Load(runID); ok {
		msg += "; the run is deleted, but the backend store keeps its values until mlflow gc removes it"
	}
	a.add(finding.Finding{RuleID: "MLG201", Path: path, Message: msg})
}

// redactValue shows a reported value without its secret: the secret spans
// masked where the detector can place them, the whole value otherwise (a
// secret found by its key alone has no span). Clipped only after redaction,
// so a cut can never hide part of a secret from the detector.
func (a *Auditor) redactValue(v string) string {
	r := a.det.RedactAll(v)
	if r == v {
		r = secrets.Redact(v)
	}
	return clip(r, 160)
}

// quoteKey quotes a key for a message, redacting any secret in the key
// itself before clipping it (a cut could hide part of a secret from the
// detector).
func (a *Auditor) quoteKey(k string) string { return fmt.Sprintf("%q", clip(a.det.RedactAll(k), 80)) }

// clip shortens s to at most n bytes, on a rune boundary.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "..."
}

// checkExperiment judges the experiment's artifact location and tags.
func (a *Auditor) checkExperiment(e mlflowapi.Experiment) {
	path := "experiments/" + e.ExperimentID
	for _, p := range judgeLocation(e.ArtifactLocation, a.opts.Policy.ArtifactLocationAllowed) {
		a.add(finding.Finding{RuleID: p.rule, Path: path + "/artifact_location",
			Message: fmt.Sprintf("experiment %q stores artifacts at %s: %s", e.Name, clip(a.det.RedactAll(e.ArtifactLocation), 200), p.why)})
	}
	for _, t := range e.Tags {
		if reason, ok := a.det.Check(t.Key, t.Value); ok {
			a.add(finding.Finding{RuleID: "MLG201", Path: path + "/tags/" + t.Key,
				Message: fmt.Sprintf("secret in experiment tag %s: %s (value %s)", a.quoteKey(t.Key), reason, a.redactValue(t.Value))})
		}
	}
}

type problem struct{ rule, why string }

// objectStoreSchemes name a bucket or container right after the scheme.
var objectStoreSchemes = map[string]bool{"s3": true, "s3a": true, "gs": true, "wasbs": true, "wasb": true, "abfss": true, "abfs": true, "oss": true}

// judgeLocation finds the MLG205/MLG304 problems of an artifact location.
func judgeLocation(loc string, allowed func(string) bool) []problem {
	if loc == "" {
		return nil
	}
	var out []problem
	dec := loc
	// Undo repeated percent-encoding: %252e%252e hides ".." from one decode.
	for range 5 {
		d, err := url.PathUnescape(dec)
		if err != nil || d == dec {
			break
		}
		dec = d
	}
	scheme := ""
	if i := strings.Index(dec, ":"); i > 0 && !strings.ContainsAny(dec[:i], "/\\") {
		scheme = strings.ToLower(dec[:i])
	}
	switch {
	case scheme == "http":
		out = append(out, problem{"MLG304", "plain http:// artifact store (no TLS, typically anonymous)"})
	case scheme == "file" || scheme == "":
		out = append(out, problem{"MLG205", "local filesystem location on the server (file: or bare path) instead of the artifact proxy or an object store"})
	case objectStoreSchemes[scheme]:
		// the same judgement scan applies: a bucket named as public
		host := dec[len(scheme)+1:]
		host = strings.TrimLeft(host, "/")
		if i := strings.IndexAny(host, "/\\"); i >= 0 {
			host = host[:i]
		}
		if strings.Contains(strings.ToLower(host), "public") {
			out = append(out, problem{"MLG304", fmt.Sprintf("bucket %q is by its name public; artifacts must live in a private bucket", host)})
		}
	}
	var bad []string
	for _, seg := range strings.FieldsFunc(dec, func(r rune) bool { return r == '/' || r == '\\' }) {
		if seg == ".." {
			bad = append(bad, `".." segment`)
			break
		}
	}
	if strings.Contains(dec, "#") {
		bad = append(bad, `"#"`)
	}
	if strings.Contains(dec, ";") {
		bad = append(bad, `";"`)
	}
	if strings.ContainsRune(dec, 0) {
		bad = append(bad, "NUL byte")
	}
	if len(bad) > 0 {
		why := "contains " + strings.Join(bad, ", ")
		if dec != loc {
			why += " after URL-decoding"
		}
		out = append(out, problem{"MLG205", why + " (path traversal class, CVE-2024-1483/-1594/-2928/-3848)"})
	}
	if !allowed(loc) {
		out = append(out, problem{"MLG205", "outside the configured artifact_locations allowlist"})
	}
	return out
}
