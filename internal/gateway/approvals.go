package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
)

// ApprovalConfig is the four-eyes part of the gateway.
type ApprovalConfig struct {
	// Protect names the protected stages and aliases (internal/config);
	// nil lists take config.DefaultPolicy's.
	Protect config.Policy
	// Keys signs approval records. Nil: a key generated in memory for
	// this process (tests); serve always passes one.
	Keys *SigningKeys
	// TTL is how long an approval stays usable (default 24h). A request
	// may ask for less, never more.
	TTL time.Duration
}

func (c *ApprovalConfig) defaults() error {
	def := config.DefaultPolicy()
	if c.Protect.ProtectedStages == nil {
		c.Protect.ProtectedStages = def.ProtectedStages
	}
	if c.Protect.ProtectedAliases == nil {
		c.Protect.ProtectedAliases = def.ProtectedAliases
	}
	if c.TTL <= 0 {
		c.TTL = 24 * time.Hour
	}
	if c.Keys == nil {
		k, err := approval.GenerateKey(nil)
		if err != nil {
			return err
		}
		c.Keys = &SigningKeys{Private: k}
	}
	return nil
}

// Target kinds. Promotions (alias, stage) are bound to a version's digest
// and verdict and leave a signed record on the version; the others are
// destructive changes to what holds a protected alias or stage, approved
// and consumed the same way but with nothing left to sign.
const (
	TargetAlias         = "alias"          // alias:<name>, set on a version
	TargetStage         = "stage"          // stage:<Stage>, a version moved into it
	TargetDeleteAlias   = "delete-alias"   // delete-alias:<name>, model-level
	TargetDeleteVersion = "delete-version" // a version holding a protected alias or stage
	TargetDeleteModel   = "delete-model"   // a model holding one
	TargetRename        = "rename"         // rename:<new name>
)

// mlflowStages are MLflow's stages, canonical spelling; MLflow matches
// them case-insensitively.
var mlflowStages = []string{"None", "Staging", "Production", "Archived"}

func canonicalStage(s string) string {
	for _, c := range mlflowStages {
		if strings.EqualFold(c, s) {
			return c
		}
	}
	return s
}

// target is a parsed target string.
type target struct {
	kind, arg string
}

func (t target) String() string {
	if t.arg == "" {
		return t.kind
	}
	return t.kind + ":" + t.arg
}

// promotion says whether the target puts a version in front of
// deployments (and so binds to its digest).
func (t target) promotion() bool { return t.kind == TargetAlias || t.kind == TargetStage }

// versioned says whether the target names a version.
func (t target) versioned() bool {
	return t.kind == TargetAlias || t.kind == TargetStage || t.kind == TargetDeleteVersion
}

// parseTarget reads "alias:champion", "stage:production" (canonicalised),
// "delete-alias:champion", "delete-version", "delete-model", "rename:new".
func parseTarget(s string) (target, error) {
	kind, arg, _ := strings.Cut(s, ":")
	t := target{kind: kind, arg: arg}
	switch kind {
	case TargetAlias, TargetDeleteAlias, TargetRename:
		if arg == "" {
			return t, fmt.Errorf("target %q needs a name after the colon", s)
		}
	case TargetStage:
		t.arg = canonicalStage(arg)
		if arg == "" {
			return t, fmt.Errorf("target %q needs a stage", s)
		}
	case TargetDeleteVersion, TargetDeleteModel:
		if arg != "" {
			return t, fmt.Errorf("target %q takes no argument", s)
		}
	default:
		return t, fmt.Errorf("target %q: want alias:NAME, stage:STAGE, delete-alias:NAME, delete-version, delete-model or rename:NEW_NAME", s)
	}
	return t, nil
}

// protectedTarget says whether a target needs an approval under the
// configured policy (promotions and alias removals only when the alias or
// stage is protected; the rest are only asked for when something
// protected is held, which the guard checks).
func (g *Gateway) protectedTarget(t target) bool {
	p := g.cfg.Approvals.Protect
	switch t.kind {
	case TargetAlias, TargetDeleteAlias:
		return p.IsProtectedAlias(t.arg)
	case TargetStage:
		return p.IsProtectedStage(t.arg)
	}
	return true
}

func deny105(reason, msg string) *Denial {
	return &Denial{Status: http.StatusForbidden, Code: "PERMISSION_DENIED", Rule: "MLG105", Reason: reason, Msg: msg}
}

// --- upstream registry reads and writes ---

type mvInfo struct {
	Name         string   `json:"name"`
	Version      string   `json:"version"`
	CurrentStage string   `json:"current_stage"`
	Aliases      []string `json:"aliases"`
	Tags         []struct {
		Key   string `json:"key"`
		Value string `json:"value"`
	} `json:"tags"`
}

func (m *mvInfo) tag(k string) (string, bool) {
	for _, t := range m.Tags {
		if t.Key == k {
			return t.Value, true
		}
	}
	return "", false
}

type rmInfo struct {
	Name    string `json:"name"`
	Aliases []struct {
		Alias   string `json:"alias"`
		Version string `json:"version"`
	} `json:"aliases"`
	LatestVersions []mvInfo `json:"latest_versions"`
}

// upstreamJSON calls the upstream MLflow directly (never the cache): the
// answers decide approvals. Errors fail the caller closed.
func (g *Gateway) upstreamJSON(ctx context.Context, method, path string, q url.Values, body any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	return g.upstreamDo(ctx, g.resolve.client, method, path, q, body, out)
}

// upstreamDo sends one JSON call to the upstream MLflow with client c and
// decodes a 200 answer into out (when non-nil); any other status is an
// *upstreamError. The answer is read up to 16 MiB.
func (g *Gateway) upstreamDo(ctx context.Context, c *http.Client, method, path string, q url.Values, body any, out any) error {
	u := g.cfg.Upstream.String() + path
	if len(q) > 0 {
		u += "?" + q.Encode()
	}
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("upstream %s: %w", path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return fmt.Errorf("upstream %s: %w", path, err)
	}
	if resp.StatusCode != http.StatusOK {
		var e struct {
			Code string `json:"error_code"`
		}
		_ = json.Unmarshal(b, &e)
		return &upstreamError{status: resp.StatusCode, code: e.Code, path: path}
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("upstream %s: %w", path, err)
	}
	return nil
}

type upstreamError struct {
	status int
	code   string
	path   string
}

func (e *upstreamError) Error() string {
	return fmt.Sprintf("upstream %s answered %d %s", e.path, e.status, e.code)
}

func isNotFound(err error) bool {
	var ue *upstreamError
	return errors.As(err, &ue) && (ue.code == "RESOURCE_DOES_NOT_EXIST" || ue.status == http.StatusNotFound)
}

func (g *Gateway) getVersion(ctx context.Context, name, version string) (*mvInfo, error) {
	var v struct {
		ModelVersion mvInfo `json:"model_version"`
	}
	if err := g.upstreamJSON(ctx, http.MethodGet, v2+"model-versions/get", url.Values{"name": {name}, "version": {version}}, nil, &v); err != nil {
		return nil, err
	}
	return &v.ModelVersion, nil
}

func (g *Gateway) getModel(ctx context.Context, name string) (*rmInfo, error) {
	var v struct {
		RegisteredModel rmInfo `json:"registered_model"`
	}
	if err := g.upstreamJSON(ctx, http.MethodGet, v2+"registered-models/get", url.Values{"name": {name}}, nil, &v); err != nil {
		return nil, err
	}
	return &v.RegisteredModel, nil
}

func (g *Gateway) setVersionTag(ctx context.Context, name, version, key, value string) error {
	return g.upstreamJSON(ctx, http.MethodPost, v2+"model-versions/set-tag", nil,
		map[string]string{"name": name, "version": version, "key": key, "value": value}, nil)
}

// holdsProtected lists what protected a model (version == "") or one
// version holds: "alias:x" and "stage:Production" entries.
func (g *Gateway) holdsProtected(ctx context.Context, name, version string) ([]string, error) {
	p := g.cfg.Approvals.Protect
	var held []string
	if version != "" {
		mv, err := g.getVersion(ctx, name, version)
		if err != nil {
			return nil, err
		}
		if p.IsProtectedStage(mv.CurrentStage) {
			held = append(held, "stage:"+mv.CurrentStage)
		}
		for _, a := range mv.Aliases {
			if p.IsProtectedAlias(a) {
				held = append(held, "alias:"+a)
			}
		}
		return held, nil
	}
	rm, err := g.getModel(ctx, name)
	if err != nil {
		return nil, err
	}
	for _, a := range rm.Aliases {
		if p.IsProtectedAlias(a.Alias) {
			held = append(held, "alias:"+a.Alias)
		}
	}
	for _, v := range rm.LatestVersions {
		if p.IsProtectedStage(v.CurrentStage) {
			held = append(held, "stage:"+v.CurrentStage)
		}
	}
	return held, nil
}

// gateState is what the registration gate recorded on a version.
type gateState struct {
	Digest, Verdict, Findings, Manifest string
}

func gateOf(mv *mvInfo) gateState {
	var s gateState
	s.Digest, _ = mv.tag(approval.TagDigest)
	s.Verdict, _ = mv.tag(approval.TagVerdict)
	s.Findings, _ = mv.tag(approval.TagFindings)
	tags := make(map[string]string, len(mv.Tags))
	for _, t := range mv.Tags {
		tags[t.Key] = t.Value
	}
	s.Manifest, _ = approval.JoinManifest(tags) // "" when it cannot be one recorded manifest
	return s
}

// validDigest is the shape approval.Record.Check accepts.
func validDigest(d string) bool {
	if !strings.HasPrefix(d, "sha256:") || len(d) != len("sha256:")+64 {
		return false
	}
	for _, c := range d[len("sha256:"):] {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

// checkGate refuses a version the registration gate has not passed.
func checkGate(s gateState, name, version string) error {
	switch {
	case s.Digest == "":
		return fmt.Errorf("model %q version %s has no %s tag: the registration gate has not recorded it (MLG110)", name, version, approval.TagDigest)
	case !validDigest(s.Digest):
		return fmt.Errorf("model %q version %s: %s is not a sha256 digest (MLG110)", name, version, approval.TagDigest)
	case s.Verdict != approval.VerdictPass:
		return fmt.Errorf("model %q version %s: registration verdict is %q, not %q", name, version, s.Verdict, approval.VerdictPass)
	}
	return nil
}
