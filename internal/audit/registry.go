package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// maxMLmodel bounds the MLmodel download: it is a small YAML file.
const maxMLmodel = 1 << 20

func versionPath(mv mlflowapi.ModelVersion) string {
	return "registered-models/" + mv.Name + "/versions/" + mv.Version
}

// checkModelVersion judges one registered model version: its approval
// record, its MLmodel and, in deep mode, its files.
func (a *Auditor) checkModelVersion(ctx context.Context, mv mlflowapi.ModelVersion) {
	a.stats.versions.Add(1)
	a.noteStage(mv)
	a.checkApproval(mv)
	if a.opts.Client == nil {
		a.noClientOnce.Do(func() {
			a.fail(finding.Error{Path: "registered-models", Kind: KindExcluded,
				Message: "database mode without --tracking-uri: MLmodel and model artifact checks (MLG101, MLG108, --deep) skipped"}, false)
		})
		return
	}
	path := versionPath(mv)
	if a.unreachable.Load() {
		a.unreachableOnce.Do(func() {
			a.fail(finding.Error{Path: "registered-models", Kind: finding.ErrSkipped,
				Message: "server unreachable: MLmodel and model artifact checks (MLG101, MLG108, --deep) skipped"}, true)
		})
		return
	}
	body, err := a.opts.Client.ModelVersionArtifact(ctx, mv.Name, mv.Version, "MLmodel", maxMLmodel)
	switch {
	case errors.Is(err, mlflowapi.ErrNotFound):
		// Fail closed: a version whose flavors cannot be read was not judged.
		a.fail(finding.Error{Path: path, Kind: finding.ErrUnchecked, Message: "no MLmodel file: not an MLflow model, flavor checks skipped"}, true)
	case err != nil:
		a.readFailed(path+"/MLmodel", err)
	default:
		problems, perr := model.JudgeMLmodel(body)
		if perr != nil {
			a.fail(finding.Error{Path: path + "/MLmodel", Kind: finding.ErrParse, Message: perr.Error()}, true)
			break
		}
		for _, p := range problems {
			a.add(finding.Finding{RuleID: p.RuleID, Path: path + "/MLmodel", Line: p.Line, Message: p.Message})
		}
	}
	if a.opts.Deep {
		a.deepScan(ctx, mv)
	}
}

// noteStage remembers Production versions per model (for
// checkSeveralInProduction).
func (a *Auditor) noteStage(mv mlflowapi.ModelVersion) {
	if !strings.EqualFold(mv.CurrentStage, "Production") {
		return
	}
	a.mu.Lock()
	if a.production == nil {
		a.production = map[string][]string{}
	}
	a.production[mv.Name] = append(a.production[mv.Name], mv.Version)
	a.mu.Unlock()
}

// checkSeveralInProduction reports models with more than one version in
// Production: a promotion that did not archive the previous version (MLG105).
func (a *Auditor) checkSeveralInProduction() {
	a.mu.Lock()
	var out []finding.Finding
	for name, vs := range a.production {
		if len(vs) < 2 {
			continue
		}
		sort.Strings(vs)
		out = append(out, finding.Finding{RuleID: "MLG105", Path: "registered-models/" + name,
			Message: fmt.Sprintf("model %q has %d versions in Production at once (%s): the previous version was not archived on promotion", name, len(vs), strings.Join(vs, ", "))})
	}
	a.mu.Unlock()
	for _, f := range out {
		a.add(f)
	}
}

// protection lists why a version needs an approval (stage, aliases).
func (a *Auditor) protection(mv mlflowapi.ModelVersion) []string {
	var why []string
	if a.opts.Policy.IsProtectedStage(mv.CurrentStage) {
		why = append(why, "stage "+mv.CurrentStage)
	}
	aliases := append([]string(nil), mv.Aliases...)
	sort.Strings(aliases)
	for _, al := range aliases {
		if a.opts.Policy.IsProtectedAlias(al) {
			why = append(why, "alias "+al)
		}
	}
	return why
}

// checkApproval reports MLG105 for a protected version without a valid
// four-eyes approval record, and MLG110 for an approved one without a digest.
func (a *Auditor) checkApproval(mv mlflowapi.ModelVersion) {
	why := a.protection(mv)
	if len(why) == 0 {
		return
	}
	tags := a.opts.Policy.Approval
	by, _ := mlflowapi.TagValue(mv.Tags, tags.ApprovedBy)
	at, _ := mlflowapi.TagValue(mv.Tags, tags.ApprovedAt)
	req, _ := mlflowapi.TagValue(mv.Tags, tags.RequestedBy)
	by, at, req = strings.TrimSpace(by), strings.TrimSpace(at), strings.TrimSpace(req)
	var missing string
	switch {
	case by == "" && at == "" && req == "":
		missing = "no approval record (tags " + tags.RequestedBy + ", " + tags.ApprovedBy + ", " + tags.ApprovedAt + ")"
	case by == "":
		missing = "approval record lacks " + tags.ApprovedBy
	case at == "":
		missing = "approval record lacks " + tags.ApprovedAt
	case req == "":
		missing = "approval record lacks " + tags.RequestedBy + ", so four eyes cannot be shown"
	case strings.EqualFold(by, req):
		missing = fmt.Sprintf("approved by its own requester %q", by)
	}
	path := versionPath(mv)
	if missing != "" {
		a.add(finding.Finding{RuleID: "MLG105", Path: path,
			Message: fmt.Sprintf("model %q version %s is protected (%s) but %s", mv.Name, mv.Version, strings.Join(why, ", "), missing)})
		return
	}
	if d, _ := mlflowapi.TagValue(mv.Tags, tags.Digest); strings.TrimSpace(d) == "" {
		a.add(finding.Finding{RuleID: "MLG110", Path: path,
			Message: fmt.Sprintf("model %q version %s is approved (%s) but has no recorded digest (tag %s)", mv.Name, mv.Version, strings.Join(why, ", "), tags.Digest)})
	}
}
