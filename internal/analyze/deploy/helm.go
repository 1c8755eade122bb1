package deploy

import (
	"context"
	"fmt"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"helm.sh/helm/v4/pkg/chart/common"
	"helm.sh/helm/v4/pkg/chart/common/util"
	chartv2 "helm.sh/helm/v4/pkg/chart/v2"
	"helm.sh/helm/v4/pkg/chart/v2/loader"
	"helm.sh/helm/v4/pkg/engine"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// A Helm chart is judged as it would be installed: rendered with Helm's own
// chart loader and template engine (offline: no cluster, `lookup` finds
// nothing), once with its default values and once with each values file
// next to Chart.yaml (values-*.yaml, *.values.yaml), merged over the
// defaults as `helm template -f` does. The rendered manifests are judged by
// a fresh analyzer of their own (one chart is one deployment: its Ingress
// fronts its Service, nothing else does), and each finding is placed where
// the chart says it: at the values.yaml key that, flipped, removes it (an
// auth switch for MLG401), else at the template line that renders the
// judged text.

// chartRef is one Chart.yaml seen in the scan.
type chartRef struct {
	rel, abs string // the chart directory, relative to the scan root and on disk
}

// renderTimeout bounds one chart's rendering (templates can loop).
const renderTimeout = 20 * time.Second

// maxValuesFiles bounds the extra values files rendered per chart.
const maxValuesFiles = 8

// valuesFileRe: values files that sit next to a chart for installing it.
var valuesFileRe = regexp.MustCompile(`^(values[-_.].+|.+[-_.]values)\.ya?ml$`)

// authKeyRe: a values key that switches authentication on.
var authKeyRe = regexp.MustCompile(`(?i)auth`)

// noteChart records a chart directory from its Chart.yaml.
func (a *Analyzer) noteChart(rel, abs string) {
	if path.Base(rel) != "Chart.yaml" || abs == "" {
		return
	}
	// helm-unittest and test charts are not deployments
	if strings.Contains("/"+rel, "/tests/") || strings.Contains("/"+rel, "/testdata/") {
		return
	}
	a.mu.Lock()
	a.charts = append(a.charts, chartRef{rel: path.Dir(rel), abs: filepath.Dir(abs)})
	a.mu.Unlock()
}

// renderCharts judges every chart of the scan as rendered.
func (a *Analyzer) renderCharts(ctx context.Context) ([]finding.Finding, []finding.Error) {
	a.mu.Lock()
	charts := a.charts
	a.charts = nil
	a.mu.Unlock()
	sort.Slice(charts, func(i, k int) bool { return charts[i].rel < charts[k].rel })
	var fs []finding.Finding
	var errs []finding.Error
	for _, c := range charts {
		if ctx.Err() != nil {
			errs = append(errs, finding.Error{Path: path.Join(c.rel, "Chart.yaml"), Kind: "unchecked", Message: fmt.Sprintf("helm: rendering cancelled: %v", ctx.Err())})
			break
		}
		f, e := a.renderChart(ctx, c)
		fs = append(fs, f...)
		errs = append(errs, e...)
	}
	return fs, errs
}

// renderChart renders one chart with its default values and each values
// file beside it, and judges the result.
func (a *Analyzer) renderChart(ctx context.Context, c chartRef) (out []finding.Finding, errs []finding.Error) {
	chartFile := path.Join(c.rel, "Chart.yaml")
	ch, err := loader.LoadDir(c.abs)
	if err != nil {
		return nil, []finding.Error{{Path: chartFile, Kind: "unchecked", Message: fmt.Sprintf("helm: loading chart %s: %v; its templates were not judged as rendered", c.rel, err)}}
	}
	tmpl := map[string][]string{} // template path in the chart -> its lines
	for _, t := range ch.Templates {
		tmpl[t.Name] = strings.Split(string(t.Data), "\n")
	}
	vlines := map[string][]string{"values.yaml": nil}
	for _, r := range ch.Raw {
		if r.Name == "values.yaml" {
			vlines["values.yaml"] = strings.Split(string(r.Data), "\n")
		}
	}
	sets := []struct {
		name string
		vals map[string]any
	}{{"values.yaml", map[string]any{}}}
	entries, _ := os.ReadDir(c.abs)
	for _, e := range entries {
		if e.IsDir() || e.Name() == "values.yaml" || !valuesFileRe.MatchString(e.Name()) || len(sets) > maxValuesFiles {
			continue
		}
		b, err := os.ReadFile(filepath.Join(c.abs, e.Name()))
		if err != nil {
			errs = append(errs, finding.Error{Path: path.Join(c.rel, e.Name()), Kind: "read", Message: fmt.Sprintf("helm: reading values file: %v", err)})
			continue
		}
		v, err := common.ReadValues(b)
		if err != nil {
			errs = append(errs, finding.Error{Path: path.Join(c.rel, e.Name()), Kind: "parse", Message: fmt.Sprintf("helm: values file: %v", err)})
			continue
		}
		sets = append(sets, struct {
			name string
			vals map[string]any
		}{e.Name(), v})
	}
	for _, s := range sets {
		fs, rendered, err := a.judgeRendered(ctx, ch, c.rel, s.vals)
		if err != nil && len(missingDeps(ch)) > 0 {
			// rendering needs `helm dependency build` (network): not an input error
			a.log.Info("helm chart not rendered: dependencies are not vendored", "chart", c.rel, "missing", missingDeps(ch), "err", err)
			return out, errs
		}
		if err != nil {
			errs = append(errs, finding.Error{Path: path.Join(c.rel, s.name), Kind: "unchecked", Message: fmt.Sprintf("helm: rendering chart %s with %s: %v; it was not judged as rendered", c.rel, s.name, err)})
			continue
		}
		for _, f := range fs {
			f = a.placeRendered(ctx, ch, c.rel, s.vals, f, tmpl, vlines, rendered[f.Path])
			if s.name != "values.yaml" {
				f.Message += fmt.Sprintf(" (chart rendered with %s)", s.name)
			}
			out = append(out, f)
		}
	}
	return out, errs
}

// judgeRendered renders the chart with vals over its defaults and runs a
// fresh analyzer over the manifests; findings carry the rendered file's
// path (the template's path in the scan) and its rendered line.
func (a *Analyzer) judgeRendered(ctx context.Context, ch *chartv2.Chart, rel string, vals map[string]any) ([]finding.Finding, map[string][]string, error) {
	ctx, cancel := context.WithTimeout(ctx, renderTimeout)
	defer cancel()
	rv, err := util.ToRenderValues(ch, vals, common.ReleaseOptions{Name: "release", Namespace: "default", IsInstall: true}, nil)
	if err != nil {
		return nil, nil, err
	}
	// LintMode: a `required`/`fail` value the operator must supply renders
	// empty instead of stopping, so the rest of the chart is still judged
	files, err := engine.Engine{LintMode: true}.RenderWithContext(ctx, ch, rv)
	if err != nil {
		return nil, nil, err
	}
	rendered := map[string][]string{}
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	sub := &Analyzer{opts: a.opts, log: a.log, det: a.det}
	for _, n := range names {
		if !strings.HasSuffix(n, ".yaml") && !strings.HasSuffix(n, ".yml") || strings.TrimSpace(files[n]) == "" {
			continue
		}
		// engine names are "<chart>/templates/x.yaml"; subcharts nest under charts/
		inChart := n[strings.Index(n, "/")+1:]
		p := path.Join(rel, inChart)
		rendered[p] = strings.Split(files[n], "\n")
		fs := sub.analyzeCtx(ctx, p, kYAML, []byte(files[n]))
		sub.facts = append(sub.facts, fs)
	}
	res := sub.Finish(ctx)
	if !exposed(files) {
		// inside a pod binding 0.0.0.0 is how a Service reaches it; what
		// matters is whether the chart publishes the port (MLG401 still
		// judges who can reach it inside the cluster)
		kept := res.Findings[:0]
		for _, f := range res.Findings {
			if f.RuleID != "MLG402" {
				kept = append(kept, f)
			}
		}
		res.Findings = kept
	}
	return res.Findings, rendered, nil
}

// placeRendered moves a finding from a rendered line to the chart source:
// the auth switch in values.yaml whose flip removes an MLG401, else the
// template line with the same text.
func (a *Analyzer) placeRendered(ctx context.Context, ch *chartv2.Chart, rel string, vals map[string]any, f finding.Finding, tmpl, vlines map[string][]string, rendered []string) finding.Finding {
	inChart := strings.TrimPrefix(f.Path, rel+"/")
	if f.RuleID == "MLG401" {
		if key, line := a.authSwitch(ctx, ch, rel, vals, f, vlines["values.yaml"]); key != "" {
			f.Path, f.Line, f.Column = path.Join(rel, "values.yaml"), line, 1
			f.EndLine, f.EndColumn = 0, 0
			f.Message += fmt.Sprintf(" (rendered from %s; the chart default %s: false leaves authentication off)", inChart, key)
			return f
		}
	}
	lines := tmpl[ch.Name()+"/"+inChart]
	if lines == nil {
		lines = tmpl[inChart]
	}
	want := ""
	if f.Line >= 1 && f.Line <= len(rendered) {
		want = strings.TrimSpace(rendered[f.Line-1])
	}
	line := 0
	for i, l := range lines {
		if want != "" && strings.TrimSpace(l) == want {
			line = i + 1
			break
		}
	}
	if line == 0 {
		// a line built by the template: the first line naming its first word
		if fw := firstWord(want); fw != "" {
			for i, l := range lines {
				if strings.Contains(l, fw) {
					line = i + 1
					break
				}
			}
		}
	}
	if line == 0 {
		line = 1
	}
	f.Message += fmt.Sprintf(" (rendered line %d: %s)", f.Line, want)
	f.Line, f.Column, f.EndLine, f.EndColumn = line, 1, 0, 0
	f.Snippet = ""
	if line-1 < len(lines) {
		f.Snippet = strings.TrimSpace(lines[line-1])
	}
	return f
}

func firstWord(s string) string {
	s = strings.TrimLeft(s, "- ")
	if i := strings.IndexAny(s, ": ="); i > 0 {
		return s[:i]
	}
	return s
}

// authSwitch finds a boolean values key naming auth, false by default, whose
// flip to true makes the MLG401 at f's file go away. It returns the key
// and its line in values.yaml.
func (a *Analyzer) authSwitch(ctx context.Context, ch *chartv2.Chart, rel string, vals map[string]any, f finding.Finding, lines []string) (string, int) {
	for _, k := range falseKeys(ch.Values, "") {
		if !authKeyRe.MatchString(k) {
			continue
		}
		flipped := deepCopy(vals)
		setKey(flipped, k, true)
		fs, _, err := a.judgeRendered(ctx, ch, rel, flipped)
		if err != nil {
			continue
		}
		still := false
		for _, g := range fs {
			if g.RuleID == "MLG401" && g.Path == f.Path {
				still = true
			}
		}
		if !still {
			return k, valuesLine(lines, k)
		}
	}
	return "", 0
}

// falseKeys lists the dotted keys of boolean false defaults, sorted.
func falseKeys(m map[string]any, prefix string) []string {
	var out []string
	for k, v := range m {
		switch x := v.(type) {
		case bool:
			if !x {
				out = append(out, prefix+k)
			}
		case map[string]any:
			out = append(out, falseKeys(x, prefix+k+".")...)
		}
	}
	sort.Strings(out)
	return out
}

func deepCopy(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		if x, ok := v.(map[string]any); ok {
			out[k] = deepCopy(x)
		} else {
			out[k] = v
		}
	}
	return out
}

// setKey sets a dotted key, creating the maps on the way.
func setKey(m map[string]any, key string, v any) {
	parts := strings.Split(key, ".")
	for _, p := range parts[:len(parts)-1] {
		next, ok := m[p].(map[string]any)
		if !ok {
			next = map[string]any{}
			m[p] = next
		}
		m = next
	}
	m[parts[len(parts)-1]] = v
}

// valuesLine finds the line of a dotted key in values.yaml by walking its
// indentation: each part must appear as "part:" deeper than the last.
func valuesLine(lines []string, key string) int {
	parts := strings.Split(key, ".")
	indent, at := -1, 0
	for _, p := range parts {
		found := false
		child := -1 // the indentation of the block's direct keys
		for i := at; i < len(lines); i++ {
			l := lines[i]
			t := strings.TrimLeft(l, " ")
			ind := len(l) - len(t)
			if t == "" || strings.HasPrefix(t, "#") {
				continue
			}
			if ind <= indent {
				break // left the parent's block
			}
			if child < 0 {
				child = ind
			}
			if ind == child && strings.HasPrefix(t, p+":") {
				indent, at, found = ind, i+1, true
				break
			}
		}
		if !found {
			return 1
		}
	}
	return at
}

// missingDeps names the dependencies Chart.yaml declares that are not
// vendored under charts/.
func missingDeps(ch *chartv2.Chart) []string {
	have := map[string]bool{}
	for _, d := range ch.Dependencies() {
		have[d.Name()] = true
	}
	var out []string
	if ch.Metadata == nil {
		return nil
	}
	for _, d := range ch.Metadata.Dependencies {
		if d != nil && !have[d.Name] {
			out = append(out, d.Name)
		}
	}
	return out
}

// exposedRe: rendered objects that publish a port beyond the cluster.
var exposedRe = regexp.MustCompile(`(?m)^\s*(type:\s*["']?(LoadBalancer|NodePort)["']?|hostNetwork:\s*true|hostPort:\s*["']?\d+["']?|kind:\s*(Ingress|Route|Gateway|HTTPRoute))\s*$`)

// exposed: some rendered manifest publishes a port outside the cluster.
func exposed(files map[string]string) bool {
	for n, t := range files {
		if (strings.HasSuffix(n, ".yaml") || strings.HasSuffix(n, ".yml")) && exposedRe.MatchString(t) {
			return true
		}
	}
	return false
}
