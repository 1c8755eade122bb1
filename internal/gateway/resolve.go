package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// resolver maps runs and logged models to their experiment with bounded,
// short-lived lookups against the upstream. A failed lookup is an error
// and the caller denies.
type resolver struct {
	upstream *url.URL
	client   *http.Client
	ttl      time.Duration
	max      int
	now      func() time.Time

	mu    sync.Mutex
	cache map[string]cacheEntry
}

type cacheEntry struct {
	exp   string
	until time.Time
}

func (r *resolver) cached(key string) (string, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	e, ok := r.cache[key]
	if !ok || r.now().After(e.until) {
		return "", false
	}
	return e.exp, true
}

func (r *resolver) store(key, exp string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.cache) >= r.max {
		r.cache = map[string]cacheEntry{}
	}
	r.cache[key] = cacheEntry{exp, r.now().Add(r.ttl)}
}

// experimentOfRun asks runs/get for the run's experiment. A run never
// moves between experiments, so a short cache is safe.
func (r *resolver) experimentOfRun(ctx context.Context, runID string) (string, error) {
	if runID == "" {
		return "", fmt.Errorf("empty run id")
	}
	if e, ok := r.cached("run:" + runID); ok {
		return e, nil
	}
	var resp struct {
		Run struct {
			Info struct {
				ExperimentID string `json:"experiment_id"`
			} `json:"info"`
		} `json:"run"`
	}
	if err := r.get(ctx, "/api/2.0/mlflow/runs/get?"+url.Values{"run_id": {runID}}.Encode(), &resp); err != nil {
		return "", fmt.Errorf("run %q: %w", runID, err)
	}
	e := resp.Run.Info.ExperimentID
	if e == "" {
		return "", fmt.Errorf("run %q: upstream named no experiment", runID)
	}
	r.store("run:"+runID, e)
	return e, nil
}

func (r *resolver) experimentOfLoggedModel(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("empty model id")
	}
	if e, ok := r.cached("lm:" + id); ok {
		return e, nil
	}
	var resp struct {
		Model struct {
			Info struct {
				ExperimentID string `json:"experiment_id"`
			} `json:"info"`
		} `json:"model"`
	}
	if err := r.get(ctx, "/api/2.0/mlflow/logged-models/"+url.PathEscape(id), &resp); err != nil {
		return "", fmt.Errorf("logged model %q: %w", id, err)
	}
	e := resp.Model.Info.ExperimentID
	if e == "" {
		return "", fmt.Errorf("logged model %q: upstream named no experiment", id)
	}
	r.store("lm:"+id, e)
	return e, nil
}

func (r *resolver) get(ctx context.Context, path string, out any) error {
	ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, r.upstream.String()+path, nil)
	if err != nil {
		return err
	}
	resp, err := r.client.Do(req)
	if err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("lookup: upstream answered %d", resp.StatusCode)
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("lookup: %w", err)
	}
	return json.Unmarshal(b, out)
}

func (r *resolver) experimentOfTrace(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("empty trace id")
	}
	if e, ok := r.cached("tr:" + id); ok {
		return e, nil
	}
	var resp struct {
		Trace struct {
			TraceInfo struct {
				TraceLocation struct {
					MlflowExperiment struct {
						ExperimentID string `json:"experiment_id"`
					} `json:"mlflow_experiment"`
				} `json:"trace_location"`
			} `json:"trace_info"`
		} `json:"trace"`
	}
	if err := r.get(ctx, "/api/3.0/mlflow/traces/"+url.PathEscape(id), &resp); err != nil {
		return "", fmt.Errorf("trace %q: %w", id, err)
	}
	e := resp.Trace.TraceInfo.TraceLocation.MlflowExperiment.ExperimentID
	if e == "" {
		return "", fmt.Errorf("trace %q: upstream named no experiment", id)
	}
	r.store("tr:"+id, e)
	return e, nil
}
