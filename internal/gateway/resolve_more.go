package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/url"
)

// endpointOfName asks the AI gateway's endpoints/get for the id of a named
// endpoint: grants are keyed by id, invocations name the endpoint. Names
// can be reused after a delete, so the cache is as short as the others.
func (r *resolver) endpointOfName(ctx context.Context, name string) (string, error) {
	if name == "" {
		return "", fmt.Errorf("empty endpoint name")
	}
	if e, ok := r.cached("ep:" + name); ok {
		return e, nil
	}
	var resp struct {
		Endpoint struct {
			EndpointID string `json:"endpoint_id"`
			Name       string `json:"name"`
		} `json:"endpoint"`
	}
	if err := r.get(ctx, "/api/3.0/mlflow/gateway/endpoints/get?"+url.Values{"name": {name}}.Encode(), &resp); err != nil {
		return "", fmt.Errorf("endpoint %q: %w", name, err)
	}
	if resp.Endpoint.EndpointID == "" || resp.Endpoint.Name != name {
		return "", fmt.Errorf("endpoint %q: upstream named no such endpoint", name)
	}
	r.store("ep:"+name, resp.Endpoint.EndpointID)
	return resp.Endpoint.EndpointID, nil
}

// experimentOfPromptJob reads a prompt optimization job's experiment.
func (r *resolver) experimentOfPromptJob(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", fmt.Errorf("empty job id")
	}
	if e, ok := r.cached("poj:" + id); ok {
		return e, nil
	}
	var resp struct {
		Job struct {
			ExperimentID string `json:"experiment_id"`
		} `json:"job"`
	}
	if err := r.get(ctx, "/api/3.0/mlflow/prompt-optimization/jobs/"+url.PathEscape(id), &resp); err != nil {
		return "", fmt.Errorf("prompt optimization job %q: %w", id, err)
	}
	if resp.Job.ExperimentID == "" {
		return "", fmt.Errorf("prompt optimization job %q: upstream named no experiment", id)
	}
	r.store("poj:"+id, resp.Job.ExperimentID)
	return resp.Job.ExperimentID, nil
}

// experimentsOfDataset lists the experiments an evaluation dataset is
// linked to. Links change (add/remove-experiments), so the answer is not
// cached.
// errNoExperiment: the resource exists for MLflow's answer but belongs to no
// experiment, so no grant can cover it and only an admin may reach it.
var errNoExperiment = errors.New("no experiment")

func (r *resolver) experimentsOfDataset(ctx context.Context, id string) ([]string, error) {
	if id == "" {
		return nil, fmt.Errorf("empty dataset id")
	}
	var resp struct {
		ExperimentIDs []string `json:"experiment_ids"`
	}
	if err := r.get(ctx, "/api/3.0/mlflow/datasets/"+url.PathEscape(id)+"/experiment-ids", &resp); err != nil {
		return nil, fmt.Errorf("dataset %q: %w", id, err)
	}
	if len(resp.ExperimentIDs) == 0 {
		return nil, fmt.Errorf("dataset %q is linked to no experiment; only an admin can reach it: %w", id, errNoExperiment)
	}
	return resp.ExperimentIDs, nil
}

// experimentLookups read the experiment of resources MLflow keeps inside
// one experiment for good: the upstream path that returns the resource,
// and the answer's field holding it.
var experimentLookups = map[string]struct {
	path func(id string) string
	obj  string
}{
	"issue": {func(id string) string { return "/api/3.0/mlflow/issues/" + url.PathEscape(id) }, "issue"},
	"label_schema": {func(id string) string {
		return "/api/3.0/mlflow/label-schemas/get?" + url.Values{"schema_id": {id}}.Encode()
	}, "label_schema"},
	"review_queue": {func(id string) string {
		return "/api/3.0/mlflow/review-queues/get?" + url.Values{"queue_id": {id}}.Encode()
	}, "review_queue"},
}

// experimentOfLookup resolves an issue, label schema or review queue id
// to its experiment.
func (r *resolver) experimentOfLookup(ctx context.Context, lookup, id string) (string, error) {
	l, ok := experimentLookups[lookup]
	if !ok {
		return "", fmt.Errorf("no lookup %q", lookup)
	}
	if id == "" {
		return "", fmt.Errorf("empty %s id", lookup)
	}
	key := lookup + ":" + id
	if e, ok := r.cached(key); ok {
		return e, nil
	}
	var resp map[string]struct {
		ExperimentID string `json:"experiment_id"`
	}
	if err := r.get(ctx, l.path(id), &resp); err != nil {
		return "", fmt.Errorf("%s %q: %w", lookup, id, err)
	}
	e := resp[l.obj].ExperimentID
	if e == "" {
		return "", fmt.Errorf("%s %q: upstream named no experiment", lookup, id)
	}
	r.store(key, e)
	return e, nil
}
