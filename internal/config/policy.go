// Package config loads .mlflow-guard.yaml and holds the policy knobs that
// analyzers, the auditor and the gateway share.
package config

import (
	"path"
	"strings"
)

// Policy is what "protected" and "allowed" mean for this organisation. The
// analyzers and the auditor read it; the user sets it in .mlflow-guard.yaml.
type Policy struct {
	// ProtectedStages are registry stages that need an approval (default
	// Production, Staging). Compared case-insensitively.
	ProtectedStages []string `yaml:"protected_stages" json:"protected_stages"`
	// ProtectedAliases are alias patterns (path.Match globs, case-insensitive)
	// that need an approval (default prod*, production, champion).
	ProtectedAliases []string `yaml:"protected_aliases" json:"protected_aliases"`
	// ArtifactLocations is the allowlist of artifact-location prefixes
	// (e.g. s3://mlflow-artifacts/). Empty means "no allowlist configured":
	// only the built-in unsafe-location checks apply.
	ArtifactLocations []string `yaml:"artifact_locations" json:"artifact_locations"`
	// Approval names the model-version tags that record a four-eyes approval.
	Approval ApprovalTags `yaml:"approval" json:"approval"`
}

// ApprovalTags are the model-version tag keys of an approval record. The
// auditor reads them and the gateway writes them.
type ApprovalTags struct {
	ApprovedBy  string `yaml:"approved_by_tag" json:"approved_by_tag"`
	ApprovedAt  string `yaml:"approved_at_tag" json:"approved_at_tag"`
	RequestedBy string `yaml:"requested_by_tag" json:"requested_by_tag"`
	// Digest holds the SHA-256 of the approved model's manifest.
	Digest string `yaml:"digest_tag" json:"digest_tag"`
	// PublicKey is a PEM file of the gateway's approval key(s), relative
	// to the config file: with it, audit verifies the signed record (tag
	// mlflow-guard.approval) instead of trusting the tags above.
	PublicKey string `yaml:"public_key" json:"public_key,omitempty"`
}

// DefaultPolicy is the policy when the config says nothing.
func DefaultPolicy() Policy {
	return Policy{
		ProtectedStages:  []string{"Production", "Staging"},
		ProtectedAliases: []string{"prod*", "production", "champion"},
		Approval: ApprovalTags{
			ApprovedBy:  "mlflow-guard.approved_by",
			ApprovedAt:  "mlflow-guard.approved_at",
			RequestedBy: "mlflow-guard.requested_by",
			Digest:      "mlflow-guard.digest",
		},
	}
}

// IsProtectedStage reports whether stage needs an approval.
func (p Policy) IsProtectedStage(stage string) bool {
	for _, s := range p.ProtectedStages {
		if strings.EqualFold(s, stage) {
			return true
		}
	}
	return false
}

// IsProtectedAlias reports whether alias matches a protected pattern.
func (p Policy) IsProtectedAlias(alias string) bool {
	a := strings.ToLower(alias)
	for _, pat := range p.ProtectedAliases {
		if ok, _ := path.Match(strings.ToLower(pat), a); ok {
			return true
		}
	}
	return false
}

// ArtifactLocationAllowed reports whether loc starts with an allowlisted
// prefix. With no allowlist configured it returns true.
func (p Policy) ArtifactLocationAllowed(loc string) bool {
	if len(p.ArtifactLocations) == 0 {
		return true
	}
	for _, pre := range p.ArtifactLocations {
		if strings.HasPrefix(loc, pre) {
			return true
		}
	}
	return false
}
