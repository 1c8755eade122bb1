package gateway

import (
	"fmt"
	"net/url"
	"strings"
)

// versionSourceChecks authorize what model-versions/create registers, not
// only where: the caller needs READ on the logged model named by model_id
// and on whatever the source points at. Without them a user with EDIT on
// one registered model registered another experiment's logged model
// ("models:/m-<id>" with the matching model_id, which MLflow accepts) and
// then read its files through the registry.
func versionSourceChecks() []Check {
	return []Check{
		{Fields: []string{"model_id"}, Via: LoggedModelToExp, Kind: KindExperiment, Perm: R, Optional: true},
		{Fields: []string{"source"}, Via: RunToExperiment, Kind: KindExperiment, Perm: R, Optional: true, Extract: sourcePart("runs")},
		{Fields: []string{"source"}, Via: LoggedModelToExp, Kind: KindExperiment, Perm: R, Optional: true, Extract: sourcePart("logged-model")},
		{Fields: []string{"source"}, Kind: KindRegisteredModel, Perm: R, Optional: true, Extract: sourcePart("registered-model")},
		{Fields: []string{"source"}, Kind: KindExperiment, Perm: R, Optional: true, Extract: sourcePart("mlflow-artifacts")},
	}
}

// sourcePart returns an Extract that reads one kind of resource from a
// version source: the run of runs:/<run>/..., the logged model of
// models:/<id>, the registered model of models:/<name>/<n> or
// models:/<name>@<alias>, or the experiment (first path segment) of
// mlflow-artifacts:/<exp>/.... Other schemes name none of these; the
// policies and the registration gate judge them.
func sourcePart(kind string) func(*Message) ([]string, error) {
	return func(m *Message) ([]string, error) {
		src, ok, err := m.Value([]string{"source"})
		if err != nil || !ok || src == "" {
			return nil, err
		}
		scheme, rest, found := strings.Cut(src, ":")
		if !found {
			return nil, nil
		}
		scheme = strings.ToLower(scheme)
		if scheme != "runs" && scheme != "models" && scheme != "mlflow-artifacts" {
			return nil, nil
		}
		u, err := url.Parse(src)
		if err != nil {
			return nil, fmt.Errorf("%w: source %q: %v", ErrAmbiguous, truncate(src, 200), err)
		}
		if strings.Contains(rest, "%") || u.Opaque != "" {
			return nil, fmt.Errorf("%w: source %q has an escape or no path", ErrAmbiguous, truncate(src, 200))
		}
		p := strings.TrimPrefix(u.Path, "/")
		first, _, _ := strings.Cut(p, "/")
		switch {
		case kind == "runs" && scheme == "runs":
			if first == "" {
				return nil, fmt.Errorf("%w: source %q names no run", ErrAmbiguous, truncate(src, 200))
			}
			return []string{first}, nil
		case scheme == "models" && (kind == "logged-model" || kind == "registered-model"):
			name, _, isAlias := strings.Cut(p, "@")
			if !isAlias {
				name = first
			}
			if name == "" {
				return nil, fmt.Errorf("%w: source %q names no model", ErrAmbiguous, truncate(src, 200))
			}
			logged := !isAlias && !strings.Contains(p, "/")
			if logged == (kind == "logged-model") {
				return []string{name}, nil
			}
		case kind == "mlflow-artifacts" && scheme == "mlflow-artifacts":
			exp, err := experimentOfArtifactPath(p)
			if err != nil {
				return nil, fmt.Errorf("%w: source %q: %v", ErrAmbiguous, truncate(src, 200), err)
			}
			return []string{exp}, nil
		}
		return nil, nil
	}
}

// otlpRun: OTLP export links the traces it completes to the run named in
// X-Mlflow-Run-Id, which is a write on that run as traces/link-to-run is.
// Unchecked, a user with EDIT on one experiment linked traces into a run
// of an experiment he could not touch.
var otlpRun = Check{Fields: []string{"X-Mlflow-Run-Id"}, Source: FromHeader, Via: RunToExperiment, Kind: KindExperiment, Perm: E, Optional: true}

// A run's model inputs and outputs, and a logged model's source run, name
// resources of other experiments: linking them needs READ on those, or a
// user with EDIT on one experiment attached another experiment's logged
// models to his runs.
var (
	linkedModels = Check{Fields: []string{"models"}, Repeated: true, Via: LoggedModelToExp, Kind: KindExperiment, Perm: R, Extract: modelIDs}
	sourceRun    = Check{Fields: []string{"source_run_id"}, Via: RunToExperiment, Kind: KindExperiment, Perm: R, Optional: true}
)

// modelIDs reads models[].model_id of LogInputs and LogOutputs.
func modelIDs(m *Message) ([]string, error) {
	if m.FromQuery {
		return nil, fmt.Errorf("%w: a JSON body is expected", ErrAmbiguous)
	}
	raw, err := m.field(m.Body, "models")
	if err != nil || raw == nil {
		return nil, err
	}
	list, ok := raw.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: models is not a list", ErrAmbiguous)
	}
	var out []string
	for _, e := range list {
		obj, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("%w: a model entry is not an object", ErrAmbiguous)
		}
		v, err := (&Message{Body: obj}).Nested("model_id")
		if err != nil {
			return nil, err
		}
		if v == nil || *v == "" {
			return nil, fmt.Errorf("%w: a model entry names no model_id", ErrAmbiguous)
		}
		out = append(out, *v)
	}
	return out, nil
}
