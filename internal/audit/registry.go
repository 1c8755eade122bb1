package audit

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
	"github.com/mlflow-guard/mlflow-guard/internal/pull"
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
	judged := map[string]bool{}
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
			judged[problemKey(p.RuleID, p.Message)] = true
			a.add(finding.Finding{RuleID: p.RuleID, Path: path + "/MLmodel", Line: p.Line, Message: p.Message})
		}
	}
	if a.opts.Deep {
		a.deepScan(ctx, mv, judged)
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
	if len(a.opts.ApprovalKeys) > 0 {
		a.checkSignedApproval(mv, why)
		return
	}
	if _, ok := mlflowapi.TagValue(mv.Tags, approval.TagApproval); ok {
		a.unverifiedOnce.Do(func() {
			a.fail(finding.Error{Path: "registered-models", Kind: KindExcluded,
				Message: "signed approval records (tag " + approval.TagApproval + ") were found but not verified: pass --public-key (or approval.public_key in the config) to check them; the unsigned approval tags were read instead"}, false)
		})
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

// checkSignedApproval judges a protected version by its signed record, as
// pull does: signed by a trusted key, four eyes, a pass verdict, for this
// version, bound to the recorded digest and manifest (pull.VerifyApproval).
// On top, the version sits at a protected target, so its promotion must
// have consumed the record (PromotedAt set) and the record must approve
// one of the targets the version holds; otherwise it was promoted around
// the gateway.
func (a *Auditor) checkSignedApproval(mv mlflowapi.ModelVersion, why []string) {
	now := time.Now
	if a.opts.Now != nil {
		now = a.opts.Now
	}
	path := versionPath(mv)
	prot := strings.Join(why, ", ")
	ap, rf := pull.VerifyApproval(mv, a.opts.ApprovalKeys, now())
	if rf != nil {
		a.add(finding.Finding{RuleID: rf.RuleID, Path: path,
			Message: fmt.Sprintf("protected (%s): %s", prot, rf.Message)})
		return
	}
	rec := ap.Record
	if rec.PromotedAt.IsZero() {
		a.add(finding.Finding{RuleID: "MLG105", Path: path,
			Message: fmt.Sprintf("model %q version %s is protected (%s) but its approval for %s was never consumed by a promotion through the gateway: it was promoted around it", mv.Name, mv.Version, prot, rec.Target)})
		return
	}
	if !targetHeld(rec.Target, why) {
		a.add(finding.Finding{RuleID: "MLG105", Path: path,
			Message: fmt.Sprintf("model %q version %s is protected (%s) but its approval is for %s, a target it does not hold", mv.Name, mv.Version, prot, rec.Target)})
	}
}

// targetHeld reports whether a record's target ("alias:champion",
// "stage:Production") is among the protections (case-insensitive, as
// protected targets are configured).
func targetHeld(target string, why []string) bool {
	kind, name, ok := strings.Cut(target, ":")
	if !ok {
		return false
	}
	for _, w := range why {
		wk, wn, _ := strings.Cut(w, " ")
		if strings.EqualFold(wk, kind) && strings.EqualFold(wn, name) {
			return true
		}
	}
	return false
}
