package policy

import (
	"context"
	"fmt"
	"strings"

	"cel.dev/cel-go/cel"
)

const defaultCostLimit = 10_000

// celRule is one compiled custom rule.
type celRule struct {
	CustomRule
	prg cel.Program
}

func celEnv() (*cel.Env, error) {
	return cel.NewEnv(
		cel.Variable("principal", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("request", cel.MapType(cel.StringType, cel.DynType)),
		cel.Variable("resource", cel.MapType(cel.StringType, cel.DynType)),
	)
}

func compileOne(env *cel.Env, r CustomRule) (*celRule, error) {
	ast, iss := env.Compile(r.DenyWhen)
	if iss.Err() != nil {
		return nil, iss.Err()
	}
	if ast.OutputType() != cel.BoolType && ast.OutputType() != cel.DynType {
		return nil, fmt.Errorf("deny_when yields %s, not bool", ast.OutputType())
	}
	prg, err := env.Program(ast, cel.CostLimit(r.CostLimit), cel.EvalOptions(cel.OptTrackCost))
	if err != nil {
		return nil, err
	}
	return &celRule{CustomRule: r, prg: prg}, nil
}

func checkCEL(r CustomRule) error {
	env, err := celEnv()
	if err != nil {
		return err
	}
	if r.CostLimit == 0 {
		r.CostLimit = defaultCostLimit
	}
	_, err = compileOne(env, r)
	return err
}

func compileCEL(rs []CustomRule) ([]*celRule, error) {
	if len(rs) == 0 {
		return nil, nil
	}
	env, err := celEnv()
	if err != nil {
		return nil, err
	}
	out := make([]*celRule, 0, len(rs))
	for _, r := range rs {
		c, err := compileOne(env, r)
		if err != nil {
			return nil, fmt.Errorf("custom rule %q: %w", r.Name, err)
		}
		out = append(out, c)
	}
	return out, nil
}

// routeName is the MLflow route without its API prefix:
// "/api/2.0/mlflow/experiments/delete" -> "experiments/delete".
func routeName(path string) string {
	for _, p := range []string{"/api/2.0/mlflow/", "/api/3.0/mlflow/", "/ajax-api/2.0/mlflow/", "/ajax-api/3.0/mlflow/", "/api/2.0/", "/ajax-api/2.0/"} {
		if s, ok := strings.CutPrefix(path, p); ok {
			return s
		}
	}
	return strings.TrimPrefix(path, "/")
}

// resourceFor fills what the gateway left empty from the body, read the
// way MLflow reads it (the model name on registry routes, the experiment
// id on experiment routes).
func resourceFor(r *Request) (Resource, error) {
	res := r.Resource
	rn := routeName(r.Path)
	isModel := strings.HasPrefix(rn, "registered-models/") || strings.HasPrefix(rn, "model-versions/")
	isExp := strings.HasPrefix(rn, "experiments/")
	if (!isModel || res.ModelName != "") && (!isExp || res.ExperimentID != "") {
		return res, nil
	}
	m, err := readMessage(r.Method, r.RawQuery, r.ContentType, r.Body, r.Parsed)
	if err != nil {
		return res, err
	}
	get := func(f string) (string, error) {
		if m.fromQuery {
			return m.query.Get(f), nil
		}
		s, _, _, err := str(m.body, f)
		return s, err
	}
	if isModel && res.ModelName == "" {
		if res.ModelName, err = get("name"); err != nil {
			return res, err
		}
	}
	if isExp && res.ExperimentID == "" {
		if res.ExperimentID, err = get("experiment_id"); err != nil {
			return res, err
		}
	}
	return res, nil
}

// evalCEL runs the custom rules; an evaluation error (cost limit, missing
// field) denies: a rule that could not be evaluated did not pass.
func (e *Engine) evalCEL(ctx context.Context, r *Request) (Decision, bool) {
	res, err := resourceFor(r)
	if err != nil {
		return deny(RuleMalformed, "custom policy: %v", err), true
	}
	groups := make([]any, 0, len(r.Principal.Groups))
	for _, g := range r.Principal.Groups {
		groups = append(groups, g)
	}
	vars := map[string]any{
		"principal": map[string]any{"name": r.Principal.Name, "groups": groups, "admin": r.Principal.Admin},
		"request":   map[string]any{"method": r.Method, "route": routeName(r.Path), "path": r.Path},
		"resource": map[string]any{"kind": res.Kind, "id": res.ID, "name": res.Name,
			"experiment_id": res.ExperimentID, "model_name": res.ModelName},
	}
	for _, c := range e.cel {
		out, _, err := c.prg.ContextEval(ctx, vars)
		if err != nil {
			e.log.Warn("custom policy failed", "rule", c.Name, "err", err)
			return deny(c.Rule, "custom policy %q could not be evaluated", c.Name), true
		}
		b, ok := out.Value().(bool)
		if !ok {
			return deny(c.Rule, "custom policy %q did not yield a bool", c.Name), true
		}
		if b {
			reason := c.Reason
			if reason == "" {
				reason = "denied by custom policy " + c.Name
			}
			d := deny(c.Rule, "%s", reason)
			d.Findings = []Finding{{Rule: c.Rule, Detector: "custom:" + c.Name, Mode: ModeDeny}}
			return d, true
		}
	}
	return Decision{}, false
}
