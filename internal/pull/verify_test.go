package pull

import (
	"bytes"
	"crypto/ed25519"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// TestVerifyApproval covers the links between the signed record and the
// unsigned tags that the live test does not reach one by one.
func TestVerifyApproval(t *testing.T) {
	key, _ := approval.GenerateKey(nil)
	keys := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	manifest := func(sums map[string]string) (string, string) {
		var b bytes.Buffer
		_ = model.WriteManifest(&b, sums)
		return b.String(), model.ManifestDigest(sums)
	}
	good := map[string]string{"MLmodel": strings.Repeat("a", 64), "model.skops": strings.Repeat("b", 64)}
	text, digest := manifest(good)
	rec := approval.Record{V: 1, Model: "m", Version: "3", Digest: digest, Verdict: "pass", Target: "alias:champion",
		Requester: "alice", Approver: "bob", ApprovedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}
	signed, _ := approval.Encode(rec, key)
	evil := map[string]string{"../escape": strings.Repeat("c", 64)}
	evilText, evilDigest := manifest(evil)
	evilRec := rec
	evilRec.Digest = evilDigest
	evilSigned, _ := approval.Encode(evilRec, key)
	tags := func(kv ...string) []mlflowapi.Tag {
		var out []mlflowapi.Tag
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, mlflowapi.Tag{Key: kv[i], Value: kv[i+1]})
		}
		return out
	}
	for _, tc := range []struct {
		name string
		tags []mlflowapi.Tag
		rule string
		msg  string
	}{
		{"valid", tags(approval.TagApproval, signed, approval.TagDigest, digest, approval.TagManifest, text), "", ""},
		{"no record", tags(approval.TagDigest, digest, approval.TagManifest, text), "MLG105", "no approval record"},
		{"garbage record", tags(approval.TagApproval, "x.y", approval.TagDigest, digest, approval.TagManifest, text), "MLG105", "cannot be read"},
		{"no digest tag", tags(approval.TagApproval, signed, approval.TagManifest, text), "MLG110", "no recorded digest"},
		{"no manifest tag", tags(approval.TagApproval, signed, approval.TagDigest, digest), "MLG110", "no recorded manifest"},
		{"manifest edited after approval", tags(approval.TagApproval, signed, approval.TagDigest, digest,
			approval.TagManifest, strings.Replace(text, "aaaa", "aaab", 1)), "MLG110", "was changed after approval"},
		{"file added to the manifest", tags(approval.TagApproval, signed, approval.TagDigest, digest,
			approval.TagManifest, text+strings.Repeat("d", 64)+"  extra.py\n"), "MLG110", "was changed after approval"},
		{"signed manifest with an escaping path", tags(approval.TagApproval, evilSigned, approval.TagDigest, evilDigest,
			approval.TagManifest, evilText), "MLG110", "invalid"},
		{"verdict", tags(approval.TagApproval, signed, approval.TagDigest, digest, approval.TagManifest, text,
			approval.TagVerdict, "quarantined"), "MLG105", "quarantined"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ap, rf := VerifyApproval(mlflowapi.ModelVersion{Name: "m", Version: "3", Tags: tc.tags}, keys, now)
			switch {
			case tc.rule == "" && rf != nil:
				t.Fatalf("refused: %v", rf)
			case tc.rule == "":
				if len(ap.Manifest) != 2 || ap.Record.Approver != "bob" {
					t.Fatalf("approved = %+v", ap)
				}
			case rf == nil || rf.RuleID != tc.rule || !strings.Contains(rf.Message, tc.msg):
				t.Fatalf("got %v, want %s with %q", rf, tc.rule, tc.msg)
			}
		})
	}
}

// TestVerifyApprovalParts: a manifest recorded in parts verifies whole,
// and a part dropped or moved is MLG110.
func TestVerifyApprovalParts(t *testing.T) {
	key, _ := approval.GenerateKey(nil)
	keys := []ed25519.PublicKey{key.Public().(ed25519.PublicKey)}
	now := time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)
	sums := map[string]string{}
	for i := range 3000 {
		sums[fmt.Sprintf("vocab/shard-%02d/entry-%05d.txt", i%50, i)] = fmt.Sprintf("%064x", i)
	}
	var b bytes.Buffer
	_ = model.WriteManifest(&b, sums)
	digest := model.ManifestDigest(sums)
	signed, _ := approval.Encode(approval.Record{V: 1, Model: "m", Version: "3", Digest: digest, Verdict: "pass", Target: "alias:champion",
		Requester: "alice", Approver: "bob", ApprovedAt: now.Add(-time.Hour), ExpiresAt: now.Add(time.Hour)}, key)
	parts, err := approval.SplitManifest(b.String())
	if err != nil || len(parts) < 4 {
		t.Fatalf("split: %v, %d tags", err, len(parts))
	}
	build := func(mut func(m map[string]string)) []mlflowapi.Tag {
		m := map[string]string{approval.TagApproval: signed, approval.TagDigest: digest}
		for _, kv := range parts {
			m[kv[0]] = kv[1]
		}
		if mut != nil {
			mut(m)
		}
		var out []mlflowapi.Tag
		for k, v := range m {
			out = append(out, mlflowapi.Tag{Key: k, Value: v})
		}
		return out
	}
	ap, rf := VerifyApproval(mlflowapi.ModelVersion{Name: "m", Version: "3", Tags: build(nil)}, keys, now)
	if rf != nil || len(ap.Manifest) != len(sums) {
		t.Fatalf("parts: %v, %d files", rf, len(ap.Manifest))
	}
	for name, c := range map[string]struct {
		mut func(m map[string]string)
		msg string
	}{
		"dropped": {func(m map[string]string) { delete(m, approval.ManifestPartTag(2)) }, "is missing"},
		"moved": {func(m map[string]string) {
			m[approval.ManifestPartTag(1)], m[approval.ManifestPartTag(3)] = m[approval.ManifestPartTag(3)], m[approval.ManifestPartTag(1)]
		}, "moved or edited"},
		"edited": {func(m map[string]string) {
			m[approval.ManifestPartTag(2)] = strings.Replace(m[approval.ManifestPartTag(2)], "entry", "entrx", 1)
		}, "was changed after approval"},
	} {
		if _, rf := VerifyApproval(mlflowapi.ModelVersion{Name: "m", Version: "3", Tags: build(c.mut)}, keys, now); rf == nil || rf.RuleID != "MLG110" || !strings.Contains(rf.Message, c.msg) {
			t.Errorf("%s: %v, want MLG110 with %q", name, rf, c.msg)
		}
	}
}
