package audit

import (
	"context"
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

// Experiments implements Source.
func (s *RESTSource) Experiments(ctx context.Context) ([]mlflowapi.Experiment, error) {
	var out []mlflowapi.Experiment
	err := s.C.SearchExperiments(ctx, func(es []mlflowapi.Experiment) error {
		out = append(out, es...)
		return nil
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

// ModelVersions implements Source.
func (s *RESTSource) ModelVersions(ctx context.Context, fn func(mlflowapi.ModelVersion), fail func(string, error)) {
	var models []mlflowapi.RegisteredModel
	if err := s.C.SearchRegisteredModels(ctx, func(ms []mlflowapi.RegisteredModel) error {
		models = append(models, ms...)
		return nil
	}); err != nil {
		fail("registered-models", err)
	}
	parallel(ctx, len(models), s.workers(), func(i int) {
		m := models[i]
		aliases := map[string][]string{}
		for _, a := range m.Aliases {
			aliases[a.Version] = append(aliases[a.Version], a.Alias)
		}
		err := s.C.SearchModelVersions(ctx, m.Name, func(vs []mlflowapi.ModelVersion) error {
			for _, v := range vs {
				if len(v.Aliases) == 0 {
					v.Aliases = aliases[v.Version]
				}
				fn(v)
			}
			return nil
		})
		if err != nil {
			fail("registered-models/"+m.Name+"/versions", err)
		}
	})
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
