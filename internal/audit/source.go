package audit

import (
	"context"

	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// Field is the kind of run value a Source reports.
type Field int

const (
	FieldParam Field = iota
	FieldTag
	FieldRunName
	FieldDataset
)

// RunSink receives run facts. Sources may call it from several goroutines.
type RunSink interface {
	// RunSeen counts one run.
	RunSeen()
	// Value is one param, tag, run name or dataset source of a run. For
	// datasets, key is the dataset name and value its source.
	Value(experimentID, runID string, field Field, key, value string)
}

// deletedSink is an optional RunSink extension: RunDeleted says a run is
// deleted (MLflow keeps its values until "mlflow gc"), before any of its
// values are handed to Value.
type deletedSink interface {
	RunDeleted(runID string)
}

// quietSink is an optional RunSink extension for sources that can leave
// provably clean values unread (the SQLite source does, in its query).
type quietSink interface {
	// QuietKey reports that Value(_, _, field, key, v) reports nothing for
	// every v shorter than secrets.QuietBelow bytes.
	QuietKey(field Field, key string) bool
	// Skipped counts n values left unread because they are clean.
	Skipped(n int64)
}

// Source supplies the facts the data checks judge: the REST API or
// MLflow's SQL backend. Implementations keep going after an error where
// they can and report every failure through fail (path, error).
type Source interface {
	// Name is "rest", "sqlite" or "postgres".
	Name() string
	Experiments(ctx context.Context) ([]mlflowapi.Experiment, error)
	// Runs streams every run of the experiments into sink.
	Runs(ctx context.Context, exps []mlflowapi.Experiment, sink RunSink, fail func(path string, err error))
	// ModelVersions streams every registered model version, with its tags
	// and aliases filled in. fn may be called from several goroutines.
	ModelVersions(ctx context.Context, fn func(mlflowapi.ModelVersion), fail func(path string, err error))
	Close() error
}
