package pull

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"path"
	"strconv"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// resolve finds the model version ref names.
func resolve(ctx context.Context, c *mlflowapi.Client, ref Ref) (mlflowapi.ModelVersion, error) {
	var mv mlflowapi.ModelVersion
	var err error
	switch {
	case ref.Version != "":
		mv, err = c.GetModelVersion(ctx, ref.Name, ref.Version)
	case ref.Alias != "":
		mv, err = c.GetModelVersionByAlias(ctx, ref.Name, ref.Alias)
	default:
		var stages []string
		if ref.Stage != "" {
			stages = []string{ref.Stage}
		}
		var vs []mlflowapi.ModelVersion
		vs, err = c.GetLatestVersions(ctx, ref.Name, stages)
		if err == nil {
			mv, err = newest(vs, ref)
		}
	}
	if err != nil {
		return mv, apiErr(fmt.Sprintf("resolving %s", ref), err)
	}
	// The server's answer decides nothing it was not asked: a version of
	// another model, or not yet READY, is not pulled.
	if mv.Name != ref.Name || mv.Version == "" {
		return mv, fmt.Errorf("resolving %s: the server answered with model %q version %q", ref, mv.Name, mv.Version)
	}
	if ref.Version != "" && mv.Version != ref.Version {
		return mv, fmt.Errorf("resolving %s: the server answered with version %q", ref, mv.Version)
	}
	if mv.Status != "" && mv.Status != "READY" {
		return mv, usageErr("%s resolves to version %s, which is %s, not READY", ref, mv.Version, mv.Status)
	}
	return mv, nil
}

// newest picks the highest version, as MLflow's _get_latest_model_version.
func newest(vs []mlflowapi.ModelVersion, ref Ref) (mlflowapi.ModelVersion, error) {
	best, bestN := mlflowapi.ModelVersion{}, int64(-1)
	for _, v := range vs {
		n, err := strconv.ParseInt(v.Version, 10, 64)
		if err != nil {
			return best, fmt.Errorf("resolving %s: version %q is not a number", ref, v.Version)
		}
		if n > bestN {
			best, bestN = v, n
		}
	}
	if bestN < 0 {
		return best, usageErr("%s: no version of model %q found", ref, ref.Name)
	}
	return best, nil
}

// apiErr maps a client error onto the pull's error classes: credentials
// refused, a name the registry does not know (MLflow answers an unknown
// alias with 400 INVALID_PARAMETER_VALUE), or a failure to talk to it.
func apiErr(what string, err error) error {
	var ae *mlflowapi.APIError
	switch {
	case errors.Is(err, mlflowapi.ErrAuth):
		return fmt.Errorf("%s: %w: %w", what, ErrAuth, err)
	case errors.Is(err, mlflowapi.ErrNotFound),
		errors.As(err, &ae) && ae.Status == 400 && (ae.Code == "INVALID_PARAMETER_VALUE" || ae.Code == "RESOURCE_DOES_NOT_EXIST"):
		return fmt.Errorf("%s: %w: %w", what, ErrUsage, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// maxSourceHops bounds runs:/ and models:/ indirections (one of each is
// all MLflow writes).
const maxSourceHops = 3

// ArtifactRoot finds where the version's files are behind the server's
// artifact proxy, as `mlflow artifacts download` does: the registry's
// download URI, with runs:/ and logged-model models:/ sources resolved to
// their artifact location. A location outside the proxy (s3://, file://,
// another host) is not downloaded: pull talks to the tracking server only.
func ArtifactRoot(ctx context.Context, c *mlflowapi.Client, mv mlflowapi.ModelVersion) (string, error) {
	uri, err := c.ModelVersionDownloadURI(ctx, mv.Name, mv.Version)
	if err != nil {
		return "", apiErr("download URI of "+mv.Name+" version "+mv.Version, err)
	}
	for hop := 0; ; hop++ {
		if uri == "" {
			return "", errors.New("the server returned an empty artifact location")
		}
		if hop > maxSourceHops {
			return "", fmt.Errorf("artifact location %q: more than %d indirections", uri, maxSourceHops)
		}
		u, err := url.Parse(uri)
		if err != nil {
			return "", fmt.Errorf("artifact location %q: %w", uri, err)
		}
		switch u.Scheme {
		case "mlflow-artifacts":
			if u.Host != "" && !strings.EqualFold(u.Host, c.BaseURL().Host) {
				return "", fmt.Errorf("artifact location %q names another server than the tracking server %s; not followed", uri, c.BaseURL().Host)
			}
			p := strings.Trim(u.Path, "/")
			if err := ValidateRel(p); err != nil {
				return "", fmt.Errorf("artifact location %q: %w", uri, err)
			}
			return p, nil
		case "runs":
			// runs:/<run_id>/<path>
			id, sub, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
			if !safeID(id) {
				return "", fmt.Errorf("artifact location %q: bad run id", uri)
			}
			run, err := c.GetRun(ctx, id)
			if err != nil {
				return "", apiErr("run "+id, err)
			}
			uri = joinURI(run.Info.ArtifactURI, sub)
		case "models":
			// models:/<model_id>[/<path>]: a logged model (MLflow 3).
			id, sub, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
			if !strings.HasPrefix(id, "m-") || !safeID(id) {
				return "", fmt.Errorf("artifact location %q: not a logged model id", uri)
			}
			lm, err := c.GetLoggedModel(ctx, id)
			if err != nil {
				return "", apiErr("logged model "+id, err)
			}
			uri = joinURI(lm.ArtifactURI, sub)
		default:
			return "", fmt.Errorf("artifact location %q is outside the tracking server's artifact proxy (scheme %q); pull downloads through the proxy only (mlflow server --serve-artifacts)", uri, u.Scheme)
		}
	}
}

func joinURI(base, sub string) string {
	if sub == "" || base == "" {
		return base
	}
	return strings.TrimRight(base, "/") + "/" + path.Clean("/" + sub)[1:]
}

// safeID: run and logged-model ids are hex with a prefix.
func safeID(s string) bool {
	if s == "" || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}
