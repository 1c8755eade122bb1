package mlflowapi

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// REST paths the client uses (MLflow 2.x and 3.x).
const (
	PathSearchExperiments      = "/api/2.0/mlflow/experiments/search"
	PathSearchRuns             = "/api/2.0/mlflow/runs/search"
	PathSearchRegisteredModels = "/api/2.0/mlflow/registered-models/search"
	PathSearchModelVersions    = "/api/2.0/mlflow/model-versions/search"
	PathGetModelVersion        = "/api/2.0/mlflow/model-versions/get"
	PathModelVersionDownload   = "/api/2.0/mlflow/model-versions/get-download-uri"
	PathArtifactsProxy         = "/api/2.0/mlflow-artifacts/artifacts"
	PathModelVersionArtifact   = "/model-versions/get-artifact"
	PathGraphQL                = "/graphql"
	PathHealth                 = "/health"
)

// Each pages a search: fetch is called with a page token until the server
// returns none. It stops at the first error; pages already handed to fn
// stay handled (the caller keeps partial results).
func each(ctx context.Context, fetch func(token string) (next string, err error)) error {
	token := ""
	seen := map[string]bool{}
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		next, err := fetch(token)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if seen[next] {
			return fmt.Errorf("%w: server repeated page token %q", ErrMalformed, next)
		}
		seen[next] = true
		token = next
	}
}

// SearchExperiments pages through every experiment (active and deleted).
func (c *Client) SearchExperiments(ctx context.Context, fn func([]Experiment) error) error {
	return each(ctx, func(token string) (string, error) {
		q := url.Values{"max_results": {strconv.Itoa(c.page)}, "view_type": {"ALL"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var r searchExperimentsResponse
		if err := c.getJSON(ctx, PathSearchExperiments, q, &r); err != nil {
			return "", err
		}
		return r.NextPageToken, fn(r.Experiments)
	})
}

// SearchRuns pages through every run (active and deleted) of the experiments.
func (c *Client) SearchRuns(ctx context.Context, experimentIDs []string, fn func([]Run) error) error {
	return each(ctx, func(token string) (string, error) {
		req := searchRunsRequest{ExperimentIDs: experimentIDs, MaxResults: c.page, PageToken: token, RunViewType: "ALL"}
		var r searchRunsResponse
		if err := c.postJSON(ctx, PathSearchRuns, req, &r); err != nil {
			return "", err
		}
		return r.NextPageToken, fn(r.Runs)
	})
}

// SearchRegisteredModels pages through every registered model.
func (c *Client) SearchRegisteredModels(ctx context.Context, fn func([]RegisteredModel) error) error {
	return each(ctx, func(token string) (string, error) {
		// The registry caps max_results at 1000.
		q := url.Values{"max_results": {strconv.Itoa(min(c.page, 1000))}}
		if token != "" {
			q.Set("page_token", token)
		}
		var r searchRegisteredModelsResponse
		if err := c.getJSON(ctx, PathSearchRegisteredModels, q, &r); err != nil {
			return "", err
		}
		return r.NextPageToken, fn(r.RegisteredModels)
	})
}

// SearchModelVersions pages through the versions of one registered model.
func (c *Client) SearchModelVersions(ctx context.Context, name string, fn func([]ModelVersion) error) error {
	filter := "name='" + strings.ReplaceAll(name, "'", "\\'") + "'"
	return each(ctx, func(token string) (string, error) {
		q := url.Values{"max_results": {strconv.Itoa(min(c.page, 10000))}, "filter": {filter}}
		if token != "" {
			q.Set("page_token", token)
		}
		var r searchModelVersionsResponse
		if err := c.getJSON(ctx, PathSearchModelVersions, q, &r); err != nil {
			return "", err
		}
		return r.NextPageToken, fn(r.ModelVersions)
	})
}

// GetModelVersion reads one version (with its tags and aliases).
func (c *Client) GetModelVersion(ctx context.Context, name, version string) (ModelVersion, error) {
	var r getModelVersionResponse
	err := c.getJSON(ctx, PathGetModelVersion, url.Values{"name": {name}, "version": {version}}, &r)
	return r.ModelVersion, err
}

// ModelVersionDownloadURI is where a version's files live.
func (c *Client) ModelVersionDownloadURI(ctx context.Context, name, version string) (string, error) {
	var r getDownloadURIResponse
	err := c.getJSON(ctx, PathModelVersionDownload, url.Values{"name": {name}, "version": {version}}, &r)
	return r.ArtifactURI, err
}

// ModelVersionArtifact downloads one file of a model version (at most
// limit bytes) through the server's model-version artifact route.
func (c *Client) ModelVersionArtifact(ctx context.Context, name, version, path string, limit int64) ([]byte, error) {
	return c.do(ctx, http.MethodGet, PathModelVersionArtifact, url.Values{"name": {name}, "version": {version}, "path": {path}}, nil, limit)
}

// ProxyPath turns an mlflow-artifacts: URI into the path the artifact
// proxy serves; ok is false for other schemes.
func ProxyPath(artifactURI string) (string, bool) {
	u, err := url.Parse(artifactURI)
	if err != nil || u.Scheme != "mlflow-artifacts" {
		return "", false
	}
	return strings.TrimPrefix(u.Path, "/"), true
}

// ListArtifacts lists one directory behind the artifact proxy
// (mlflow-artifacts:/ locations; the server runs with --serve-artifacts).
func (c *Client) ListArtifacts(ctx context.Context, dir string) ([]FileInfo, error) {
	var out []FileInfo
	err := each(ctx, func(token string) (string, error) {
		q := url.Values{"path": {dir}}
		if token != "" {
			q.Set("page_token", token)
		}
		var r listArtifactsResponse
		if err := c.getJSON(ctx, PathArtifactsProxy, q, &r); err != nil {
			return "", err
		}
		out = append(out, r.Files...)
		return r.NextPageToken, nil
	})
	return out, err
}

// DownloadArtifact streams one file behind the artifact proxy into w, at
// most limit bytes; more is an error.
func (c *Client) DownloadArtifact(ctx context.Context, path string, w io.Writer, limit int64) (int64, error) {
	segs := strings.Split(path, "/")
	for i, s := range segs {
		segs[i] = url.PathEscape(s)
	}
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + PathArtifactsProxy + "/" + strings.Join(segs, "/")
	u.RawPath = strings.TrimRight(c.base.EscapedPath(), "/") + PathArtifactsProxy + "/" + strings.Join(segs, "/")
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return 0, err
	}
	c.authorize(req)
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, fmt.Errorf("download %s: %w", path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		ae := &APIError{Method: "GET", URL: u.String(), Status: resp.StatusCode, Message: strings.TrimSpace(string(b))}
		switch {
		case resp.StatusCode == 401 || resp.StatusCode == 403:
			ae.kind = ErrAuth
		case resp.StatusCode == 404:
			ae.kind = ErrNotFound
		default:
			ae.kind = ErrServer
		}
		return 0, ae
	}
	n, err := io.Copy(w, io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return n, fmt.Errorf("download %s: %w", path, err)
	}
	if n > limit {
		return n, fmt.Errorf("download %s: larger than the %d-byte budget", path, limit)
	}
	return n, nil
}
