package pull

import (
	"crypto/ed25519"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// Approved is what a verified version carries: its signed record and the
// manifest the record is bound to.
type Approved struct {
	Record   approval.Record
	Manifest map[string]string // path relative to the artifact root -> sha256 hex
}

// VerifyApproval checks a model version's tags against the trusted keys:
// a record signed by one of them (approval.Decode), valid now
// (Record.Check: four eyes, a pass verdict, not expired unless consumed
// in time), for this model and version, bound to the digest recorded on
// the version, which in turn is the digest of the recorded manifest. The
// tags themselves are writable by anyone with EDIT on the model; only the
// signature makes them evidence, so every link back to it is checked.
func VerifyApproval(mv mlflowapi.ModelVersion, keys []ed25519.PublicKey, now time.Time) (Approved, *Refusal) {
	where := "registered-models/" + mv.Name + "/versions/" + mv.Version
	who := fmt.Sprintf("model %q version %s", mv.Name, mv.Version)
	raw, ok := mlflowapi.TagValue(mv.Tags, approval.TagApproval)
	if !ok || strings.TrimSpace(raw) == "" {
		return Approved{}, refuse("MLG105", where, "%s has no approval record (tag %s): it was never approved through the gateway", who, approval.TagApproval)
	}
	rec, err := approval.Decode(raw, keys)
	switch {
	case errors.Is(err, approval.ErrBadSignature):
		return Approved{}, refuse("MLG105", where, "%s: the approval record is not signed by a trusted key (%s); it was written around the gateway or signed by another key", who, fingerprints(keys))
	case err != nil:
		return Approved{}, refuse("MLG105", where, "%s: the approval record cannot be read: %v", who, err)
	}
	if err := rec.Check(now); err != nil {
		return Approved{}, refuse("MLG105", where, "%s: %v", who, err)
	}
	if rec.Model != mv.Name || rec.Version != mv.Version {
		return Approved{}, refuse("MLG105", where, "%s: the approval record is for model %q version %s, not this version (a record copied from elsewhere)", who, rec.Model, rec.Version)
	}
	if v, ok := mlflowapi.TagValue(mv.Tags, approval.TagVerdict); ok && v != approval.VerdictPass {
		return Approved{}, refuse("MLG105", where, "%s: the registration gate's verdict is %q, not %q", who, v, approval.VerdictPass)
	}
	digest, ok := mlflowapi.TagValue(mv.Tags, approval.TagDigest)
	if !ok || strings.TrimSpace(digest) == "" {
		return Approved{}, refuse("MLG110", where, "%s is approved but has no recorded digest (tag %s)", who, approval.TagDigest)
	}
	if digest != rec.Digest {
		return Approved{}, refuse("MLG110", where, "%s: the approval is bound to digest %s but the version records %s: the approval is for other files", who, rec.Digest, digest)
	}
	if head, ok := mlflowapi.TagValue(mv.Tags, approval.TagManifest); !ok || strings.TrimSpace(head) == "" {
		return Approved{}, refuse("MLG110", where, "%s is approved but has no recorded manifest (tag %s)", who, approval.TagManifest)
	}
	tags := make(map[string]string, len(mv.Tags))
	for _, t := range mv.Tags {
		tags[t.Key] = t.Value
	}
	text, err := approval.JoinManifest(tags)
	if err != nil {
		return Approved{}, refuse("MLG110", where, "%s: the recorded manifest cannot be read: %v", who, err)
	}
	sums, err := ParseManifest(text)
	if err != nil {
		return Approved{}, refuse("MLG110", where, "%s: the recorded manifest (tag %s) is invalid: %v", who, approval.TagManifest, err)
	}
	if got := model.ManifestDigest(sums); got != rec.Digest {
		return Approved{}, refuse("MLG110", where, "%s: the recorded manifest hashes to %s, not the approved digest %s: the manifest was changed after approval", who, got, rec.Digest)
	}
	return Approved{Record: rec, Manifest: sums}, nil
}

// fingerprints lists the trusted keys for messages.
func fingerprints(keys []ed25519.PublicKey) string {
	fps := make([]string, len(keys))
	for i, k := range keys {
		fps[i] = approval.Fingerprint(k)
	}
	return strings.Join(fps, ", ")
}
