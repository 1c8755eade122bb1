package python

import (
	"regexp"
	"strings"
)

// fixedLocationRe matches the literal start of a model URI that pins where
// the model comes from: the registry or a run ("models:/", "runs:/"), or a
// store whose scheme and bucket/host the code writes out
// ("s3://team-bucket/1/" + run_id). An empty authority ("file:///") or a
// scheme alone ("s3://" + x) pins nothing.
var fixedLocationRe = regexp.MustCompile(`^(?:models:/|runs:/|[a-z][a-z0-9+.-]*://[^/?#\s]+/)`)

func fixedModelLocation(prefix string) bool {
	return fixedLocationRe.MatchString(strings.ToLower(prefix))
}

// commonPrefix is the longest common start of a and b.
func commonPrefix(a, b string) string {
	n := min(len(a), len(b))
	i := 0
	for i < n && a[i] == b[i] {
		i++
	}
	return a[:i]
}

// ownModelCall is a call that returns the code's own logged or registered
// model (its model_uri is not request data).
func ownModelCall(qual string) bool {
	if !strings.HasPrefix(qual, "mlflow.") {
		return false
	}
	return strings.HasSuffix(qual, ".log_model") || qual == "mlflow.register_model"
}

// pinnedLocation reports a model URI whose location the code fixes on every
// path: its own literal start, or every branch joined into it
// (f"runs:/{id}/model" on one, f"models:/{name}/{v}" on the other).
func pinnedLocation(v *val) bool {
	return v != nil && (v.pinned || fixedModelLocation(v.prefix()))
}

// registryStateKey is a key under which a model version carries its stage
// or aliases (src_vr["current_stage"], src_vr.get("aliases", [])).
func registryStateKey(k *val) bool {
	return k != nil && k.known() && (k.tmpl == "current_stage" || k.tmpl == "aliases")
}
