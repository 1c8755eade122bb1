package mlflowapi

import (
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
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

// maxTokenLen bounds one page token: MLflow's are short base64 offsets.
const maxTokenLen = 4096

// each pages a search: fetch is called with a page token until the server
// returns none. It stops at the first error; pages already handed to fn
// stay handled (the caller keeps partial results). Pages are counted
// against the client's page cap and tokens are remembered by hash, so a
// server that hands out endless distinct tokens costs bounded memory and
// ends with ErrLimit; a run of empty pages that still carry a token (which
// MLflow never sends: its last page is short) ends with ErrMalformed.
func (c *Client) each(ctx context.Context, what string, fetch func(token string) (next string, items int, err error)) error {
	token := ""
	seen := map[[sha256.Size]byte]struct{}{}
	empty := 0
	for pages := 0; ; pages++ {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if pages >= c.maxPages {
			return fmt.Errorf("%s: %w: more than %d pages", what, ErrLimit, c.maxPages)
		}
		next, n, err := fetch(token)
		if err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		if len(next) > maxTokenLen {
			return fmt.Errorf("%s: %w: page token of %d bytes", what, ErrMalformed, len(next))
		}
		if n == 0 {
			if empty++; empty > maxEmptyPages {
				return fmt.Errorf("%s: %w: %d empty pages in a row that still carry a page token", what, ErrMalformed, empty)
			}
		} else {
			empty = 0
		}
		h := sha256.Sum256([]byte(next))
		if _, dup := seen[h]; dup {
			return fmt.Errorf("%s: %w: server repeated page token %q", what, ErrMalformed, clipToken(next))
		}
		seen[h] = struct{}{}
		token = next
	}
}

// maxEmptyPages is how many empty pages with a next token are tolerated in
// a row.
const maxEmptyPages = 3

func clipToken(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// SearchExperiments pages through every experiment (active and deleted).
func (c *Client) SearchExperiments(ctx context.Context, fn func([]Experiment) error) error {
	return c.each(ctx, PathSearchExperiments, func(token string) (string, int, error) {
		q := url.Values{"max_results": {strconv.Itoa(c.page)}, "view_type": {"ALL"}}
		if token != "" {
			q.Set("page_token", token)
		}
		var r searchExperimentsResponse
		if err := c.getJSON(ctx, PathSearchExperiments, q, &r); err != nil {
			return "", 0, err
		}
		return r.NextPageToken, len(r.Experiments), fn(r.Experiments)
	})
}

// SearchRuns pages through every run (active and deleted) of the experiments.
func (c *Client) SearchRuns(ctx context.Context, experimentIDs []string, fn func([]Run) error) error {
	return c.each(ctx, PathSearchRuns, func(token string) (string, int, error) {
		req := searchRunsRequest{ExperimentIDs: experimentIDs, MaxResults: c.page, PageToken: token, RunViewType: "ALL"}
		var r searchRunsResponse
		if err := c.postJSON(ctx, PathSearchRuns, req, &r); err != nil {
			return "", 0, err
		}
		return r.NextPageToken, len(r.Runs), fn(r.Runs)
	})
}

// SearchRegisteredModels pages through every registered model.
func (c *Client) SearchRegisteredModels(ctx context.Context, fn func([]RegisteredModel) error) error {
	return c.each(ctx, PathSearchRegisteredModels, func(token string) (string, int, error) {
		// The registry caps max_results at 1000.
		q := url.Values{"max_results": {strconv.Itoa(min(c.page, 1000))}}
		if token != "" {
			q.Set("page_token", token)
		}
		var r searchRegisteredModelsResponse
		if err := c.getJSON(ctx, PathSearchRegisteredModels, q, &r); err != nil {
			return "", 0, err
		}
		return r.NextPageToken, len(r.RegisteredModels), fn(r.RegisteredModels)
	})
}

// SearchModelVersions pages through the versions of one registered model.
// The name is quoted for the filter grammar (QuoteFilterValue); a name that
// no filter literal can express is found by an unfiltered search instead.
// Either way only versions whose name equals name exactly reach fn.
func (c *Client) SearchModelVersions(ctx context.Context, name string, fn func([]ModelVersion) error) error {
	lit, ok := QuoteFilterValue(name)
	if !ok {
		return c.SearchAllModelVersions(ctx, func(vs []ModelVersion) error {
			return fn(sameName(vs, name))
		})
	}
	return c.searchModelVersions(ctx, "name="+lit, func(vs []ModelVersion) error {
		return fn(sameName(vs, name))
	})
}

// SearchAllModelVersions pages through every version of every registered
// model, without a filter.
func (c *Client) SearchAllModelVersions(ctx context.Context, fn func([]ModelVersion) error) error {
	return c.searchModelVersions(ctx, "", fn)
}

func (c *Client) searchModelVersions(ctx context.Context, filter string, fn func([]ModelVersion) error) error {
	return c.each(ctx, PathSearchModelVersions, func(token string) (string, int, error) {
		q := url.Values{"max_results": {strconv.Itoa(min(c.page, 10000))}}
		if filter != "" {
			q.Set("filter", filter)
		}
		if token != "" {
			q.Set("page_token", token)
		}
		var r searchModelVersionsResponse
		if err := c.getJSON(ctx, PathSearchModelVersions, q, &r); err != nil {
			return "", 0, err
		}
		return r.NextPageToken, len(r.ModelVersions), fn(r.ModelVersions)
	})
}

// sameName keeps the versions of exactly that model: the server's filter
// is only trusted to narrow the search, not to decide membership.
func sameName(vs []ModelVersion, name string) []ModelVersion {
	out := vs[:0:0]
	for _, v := range vs {
		if v.Name == name {
			out = append(out, v)
		}
	}
	return out
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

// MaxArtifactSize is the largest file size a listing may report. Anything
// larger (or negative) is not a size a real store holds; it would defeat a
// download budget, so the listing is rejected as malformed.
const MaxArtifactSize = 1 << 40

// checkListing rejects a listing page with a size no store can hold.
func checkListing(dir string, files []FileInfo) error {
	for _, f := range files {
		if f.FileSize < 0 || f.FileSize > MaxArtifactSize {
			return fmt.Errorf("listing %s: %w: %q has size %d", dir, ErrMalformed, f.Path, f.FileSize)
		}
	}
	return nil
}

// ListArtifacts lists one directory behind the artifact proxy
// (mlflow-artifacts:/ locations; the server runs with --serve-artifacts).
// More than limit entries is ErrLimit; a negative or absurd size is
// ErrMalformed.
func (c *Client) ListArtifacts(ctx context.Context, dir string, limit int) ([]FileInfo, error) {
	var out []FileInfo
	err := c.each(ctx, PathArtifactsProxy+"?path="+dir, func(token string) (string, int, error) {
		q := url.Values{"path": {dir}}
		if token != "" {
			q.Set("page_token", token)
		}
		var r listArtifactsResponse
		if err := c.getJSON(ctx, PathArtifactsProxy, q, &r); err != nil {
			return "", 0, err
		}
		if err := checkListing(dir, r.Files); err != nil {
			return "", 0, err
		}
		if len(out)+len(r.Files) > limit {
			return "", 0, fmt.Errorf("listing %s: %w: more than %d entries", dir, ErrLimit, limit)
		}
		out = append(out, r.Files...)
		return r.NextPageToken, len(r.Files), nil
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
	resp, err := c.getRateLimited(ctx, u.String())
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
		return n, fmt.Errorf("download %s: %w: larger than the %d-byte budget", path, ErrLimit, limit)
	}
	return n, nil
}

// maxRateLimitedTries bounds the attempts of a download the server keeps
// answering 429: a model of thousands of files, fetched by parallel
// workers, meets a gateway's per-client rate limit (mlflow-guard serve
// allows 200 requests a second with a burst of 400).
const maxRateLimitedTries = 12

// getRateLimited GETs url and, while the answer is 429 (nothing of the body
// read yet), waits and tries again: the jittered backoff, doubled each
// time up to 5 s.
func (c *Client) getRateLimited(ctx context.Context, url string) (*http.Response, error) {
	delay := c.backoff
	for attempt := 1; ; attempt++ {
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
		if err != nil {
			return nil, err
		}
		c.authorize(req)
		resp, err := c.http.Do(req)
		if err != nil || resp.StatusCode != http.StatusTooManyRequests || attempt >= maxRateLimitedTries {
			return resp, err
		}
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 4096))
		resp.Body.Close()
		d := delay/2 + rand.N(delay/2+1)
		c.log.Debug("rate limited; retrying download", "url", url, "attempt", attempt, "delay", d)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(d):
		}
		delay = min(2*delay, 5*time.Second)
	}
}
