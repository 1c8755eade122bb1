package audit

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"sync"

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// RESTSource reads through the MLflow REST API, paged, one experiment or
// model per worker.
type RESTSource struct {
	C           *mlflowapi.Client
	Concurrency int
}

// Name implements Source.
func (s *RESTSource) Name() string { return "rest" }

// Close implements Source.
func (s *RESTSource) Close() error { return nil }

func (s *RESTSource) workers() int {
	if s.Concurrency <= 0 {
		return 4
	}
	return s.Concurrency
}

// maxListed caps the experiments and registered models held in memory at
// once; more ends the listing with ErrLimit (the audit is then partial).
const maxListed = 1_000_000

// collect appends a page to *out within maxListed.
func collect[T any](out *[]T, page []T, what string) error {
	if len(*out)+len(page) > maxListed {
		return fmt.Errorf("%s: %w: more than %d listed", what, mlflowapi.ErrLimit, maxListed)
	}
	*out = append(*out, page...)
	return nil
}

// Experiments implements Source.
func (s *RESTSource) Experiments(ctx context.Context) ([]mlflowapi.Experiment, error) {
	var out []mlflowapi.Experiment
	err := s.C.SearchExperiments(ctx, func(es []mlflowapi.Experiment) error {
		return collect(&out, es, "experiments")
	})
	return out, err
}

// Runs implements Source.
func (s *RESTSource) Runs(ctx context.Context, exps []mlflowapi.Experiment, sink RunSink, fail func(string, error)) {
	parallel(ctx, len(exps), s.workers(), func(i int) {
		e := exps[i]
		err := s.C.SearchRuns(ctx, []string{e.ExperimentID}, func(runs []mlflowapi.Run) error {
			for i := range runs {
				emitRun(&runs[i], e.ExperimentID, sink)
			}
			return nil
		})
		if err != nil {
			fail("experiments/"+e.ExperimentID+"/runs", err)
		}
	})
}

// emitRun hands one REST run to the sink.
func emitRun(r *mlflowapi.Run, expID string, sink RunSink) {
	sink.RunSeen()
	id := r.Info.RunID
	if d, ok := sink.(deletedSink); ok && r.Info.LifecycleStage == "deleted" {
		d.RunDeleted(id)
	}
	if r.Info.ExperimentID != "" {
		expID = r.Info.ExperimentID
	}
	if r.Info.RunName != "" {
		sink.Value(expID, id, FieldRunName, "run_name", r.Info.RunName)
	}
	for _, p := range r.Data.Params {
		sink.Value(expID, id, FieldParam, p.Key, p.Value)
	}
	for _, t := range r.Data.Tags {
		// The run name is also stored as this tag; judge it once.
		if t.Key == "mlflow.runName" && t.Value == r.Info.RunName {
			continue
		}
		sink.Value(expID, id, FieldTag, t.Key, t.Value)
	}
	for _, in := range r.Inputs.DatasetInputs {
		sink.Value(expID, id, FieldDataset, in.Dataset.Name, in.Dataset.Source)
	}
}

// ModelVersions implements Source. Each model's versions are found with a
// name filter; a model whose name no filter literal can express, or whose
// filtered search came back empty although the registry lists versions for
// it, is looked up in one unfiltered search instead. A model found by
// neither is reported, never silently left out.
func (s *RESTSource) ModelVersions(ctx context.Context, fn func(mlflowapi.ModelVersion), fail func(string, error)) {
	var models []mlflowapi.RegisteredModel
	if err := s.C.SearchRegisteredModels(ctx, func(ms []mlflowapi.RegisteredModel) error {
		return collect(&models, ms, "registered models")
	}); err != nil {
		fail("registered-models", err)
	}
	var mu sync.Mutex
	retry := map[string]*mlflowapi.RegisteredModel{}
	parallel(ctx, len(models), s.workers(), func(i int) {
		m := &models[i]
		if _, ok := mlflowapi.QuoteFilterValue(m.Name); !ok {
			mu.Lock()
			retry[m.Name] = m
			mu.Unlock()
			return
		}
		n := 0
		err := s.C.SearchModelVersions(ctx, m.Name, func(vs []mlflowapi.ModelVersion) error {
			n += len(vs)
			emitVersions(m, vs, fn)
			return nil
		})
		var ae *mlflowapi.APIError
		if errors.As(err, &ae) && ae.Status == http.StatusBadRequest && n == 0 {
			// The server's grammar refused the literal (another MLflow
			// version): the unfiltered search still finds the model.
			mu.Lock()
			retry[m.Name] = m
			mu.Unlock()
			return
		}
		if err != nil {
			fail("registered-models/"+m.Name+"/versions", err)
			return
		}
		if n == 0 && len(m.LatestVersions) > 0 {
			mu.Lock()
			retry[m.Name] = m
			mu.Unlock()
		}
	})
	if len(retry) == 0 || ctx.Err() != nil {
		return
	}
	found := map[string]int{}
	err := s.C.SearchAllModelVersions(ctx, func(vs []mlflowapi.ModelVersion) error {
		for i := range vs {
			if m, ok := retry[vs[i].Name]; ok {
				found[m.Name]++
				emitVersions(m, vs[i:i+1], fn)
			}
		}
		return nil
	})
	names := make([]string, 0, len(retry))
	for name := range retry {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		switch {
		case err != nil:
			fail("registered-models/"+name+"/versions", fmt.Errorf("unfiltered version search (the name cannot be written in a search filter): %w", err))
		case found[name] == 0 && len(retry[name].LatestVersions) > 0:
			// The registry says versions exist; no search returned them.
			fail("registered-models/"+name+"/versions", fmt.Errorf("%w: the registry lists versions of model %q but no version search returned them", errNotAudited, name))
		}
	}
}

// emitVersions hands versions of m to fn with the model's aliases filled in.
func emitVersions(m *mlflowapi.RegisteredModel, vs []mlflowapi.ModelVersion, fn func(mlflowapi.ModelVersion)) {
	for _, v := range vs {
		if len(v.Aliases) == 0 {
			for _, a := range m.Aliases {
				if a.Version == v.Version {
					v.Aliases = append(v.Aliases, a.Alias)
				}
			}
		}
		fn(v)
	}
}

// parallel runs work(0..n-1) on at most k goroutines and waits.
func parallel(ctx context.Context, n, k int, work func(i int)) {
	if n == 0 {
		return
	}
	k = min(k, n)
	next := make(chan int)
	var wg sync.WaitGroup
	for range k {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				work(i)
			}
		}()
	}
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		next <- i
	}
	close(next)
	wg.Wait()
}
