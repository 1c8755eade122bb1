package deploy

import (
	"context"
	"fmt"
	"path"
	"sort"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	"github.com/mlflow-guard/mlflow-guard/internal/finding"
)

// Finish implements analyze.Finisher: it joins servers with the env files,
// ConfigMaps, proxies and ingresses of the whole scan, judges them, and
// returns every finding of the scan, deduplicated and in a stable order.
func (a *Analyzer) Finish(ctx context.Context) analyze.Result {
	a.mu.Lock()
	all := a.facts
	a.facts = nil
	a.mu.Unlock()
	sort.Slice(all, func(i, k int) bool { return firstPath(all[i]) < firstPath(all[k]) })

	out := &facts{}
	envFiles, configMaps := map[string]env{}, map[string]env{}
	var servers []*server
	var proxies []*proxyBlock
	var ingresses []*ingress
	var sse []string
	var svcs []*k8sService
	var images []*imageDef
	var links []buildLink
	var calls []scriptCall
	mounts, scripts := map[string][]string{}, map[string]string{}
	svcPorts, svcHostNet := map[string][]portMap{}, map[string]bool{}
	for _, f := range all {
		svcs = append(svcs, f.services...)
		images = append(images, f.images...)
		links = append(links, f.links...)
		calls = append(calls, f.calls...)
		for k, v := range f.mounts {
			mounts[k] = append(mounts[k], v...)
		}
		for k, v := range f.scripts {
			scripts[k] = v
		}
		for k, v := range f.svcPorts {
			svcPorts[k] = append(svcPorts[k], v...)
		}
		for k, v := range f.svcHostNet {
			svcHostNet[k] = svcHostNet[k] || v
		}
		out.findings = append(out.findings, f.findings...)
		for k, v := range f.envFiles {
			envFiles[k] = v
		}
		for k, v := range f.configMaps {
			configMaps[k] = v
		}
		servers = append(servers, f.servers...)
		proxies = append(proxies, f.proxies...)
		ingresses = append(ingresses, f.ingresses...)
		sse = append(sse, f.sse...)
	}
	// what one file could not say: the Dockerfile a compose service builds,
	// the scripts containers run, the Services that select a pod
	lj := &judge{det: a.det, f: &facts{}, b: newBudget(ctx)}
	servers = link(ctx, lj, servers, images, links, calls, scripts)
	judgeRootImages(lj, images, links)
	out.findings = append(out.findings, lj.f.findings...)
	out.errs = append(out.errs, lj.f.errs...)
	proxies = append(proxies, lj.f.proxies...)
	sort.SliceStable(servers, func(i, k int) bool { return servers[i].path < servers[k].path })
	linkServices(servers, svcs, ingresses)
	mergeOverrides(servers, svcPorts, svcHostNet)
	j := &judge{det: a.det, f: out, b: newBudget(ctx)}
	var s3 []val
	for _, s := range servers {
		if err := ctx.Err(); err != nil {
			// the servers left are not judged: say so
			out.errs = append(out.errs, finding.Error{Path: s.path, Line: s.line, Kind: "unchecked", Message: fmt.Sprintf("deploy: cross-file checks cancelled: %v", err)})
			break
		}
		// each server is judged against every proxy and ingress of the scan
		j.path = s.path
		if !j.spend(len(proxies)+len(ingresses)+len(s.env)+1, s.line) {
			break
		}
		mergeEnv(s, envFiles, configMaps)
		j.path = s.path
		j.ctx = fileContext(s.path, s.origin)
		roots := j.serverLocal(s)
		if _, ok := s.env["MLFLOW_S3_UPLOAD_EXTRA_ARGS"]; !ok {
			// with the variable set, envVar has judged its value
			s3 = append(s3, roots...)
		}
		j.serverAuth(s, proxies, ingresses, mounts)
	}
	// store URIs in env files and ConfigMaps that no server in the scan
	// consumed are still judged (duplicates are dropped below)
	j.ctx = ""
	for _, group := range []map[string]env{envFiles, configMaps} {
		for _, e := range group {
			for canon, name := range envFor {
				if v, ok := e[name]; ok && strings.HasSuffix(canon, "uri") || ok && strings.Contains(canon, "artifact") {
					j.path = v.path
					if j.uri(canon, v) {
						if _, set := e["MLFLOW_S3_UPLOAD_EXTRA_ARGS"]; !set {
							s3 = append(s3, v)
						}
					}
				}
			}
		}
	}
	for _, v := range s3 {
		if !nearSSE(v.path, sse) {
			j.addAt("MLG303", v, "S3 artifact store with no MLFLOW_S3_UPLOAD_EXTRA_ARGS ServerSideEncryption for this deployment; set MLFLOW_S3_UPLOAD_EXTRA_ARGS='{\"ServerSideEncryption\": \"aws:kms\"}' (or enforce bucket encryption and say so)")
		}
	}
	for _, p := range proxies {
		j.path = p.path
		if !j.spend(len(servers)+1, p.line) {
			break
		}
		if p.frontsMLflow(servers) {
			j.path = p.path
			j.proxyFindings(p)
		}
	}
	for _, in := range ingresses {
		j.path = in.path
		if !j.spend(len(servers)+1, in.line) {
			break
		}
		if in.frontsMLflow(servers) && !in.tls {
			j.add("MLG407", in.path, in.line, in.col, "Ingress %s routes to MLflow without spec.tls: the UI, API and credentials travel in plain HTTP", in.name)
		}
	}
	hf, he := a.renderCharts(ctx)
	out.findings = append(out.findings, hf...)
	out.errs = append(out.errs, he...)
	kf, ke := a.renderKustomizations(ctx, out.findings)
	out.findings = append(out.findings, kf...)
	out.errs = append(out.errs, ke...)
	return analyze.Result{Findings: dedupe(out.findings), Errors: out.errs}
}

func firstPath(f *facts) string {
	switch {
	case len(f.findings) > 0:
		return f.findings[0].Path
	case len(f.servers) > 0:
		return f.servers[0].path
	case len(f.proxies) > 0:
		return f.proxies[0].path
	}
	for k := range f.envFiles {
		return k
	}
	return ""
}

// mergeEnv adds env_file and envFrom values below the explicit environment,
// as compose and Kubernetes do.
func mergeEnv(s *server, envFiles, configMaps map[string]env) {
	add := func(e env) {
		for k, v := range e {
			if _, ok := s.env[k]; !ok {
				s.env[k] = v
			}
		}
	}
	for _, p := range s.envFiles {
		add(envFiles[p])
	}
	for _, n := range s.configMaps {
		add(configMaps[n])
	}
	if v, ok := s.opts["app-name"]; ok && !s.auth {
		s.auth = !v.known || strings.Contains(strings.ToLower(v.s), "auth")
	}
}

// serverAuth is MLG401: a server reachable beyond loopback that neither
// authenticates itself nor sits behind an authenticating front that
// demonstrably reaches it (fronts.go), with nothing publishing it around
// that front.
func (j *judge) serverAuth(s *server, proxies []*proxyBlock, ingresses []*ingress, mounts map[string][]string) {
	h, known, hv := s.host()
	if !known || isLoopback(h) || s.auth {
		return
	}
	// Only the nearest fronts count (longest shared directory): a tree with
	// a hardened and an insecure deployment side by side must not let one's
	// proxy vouch for the other's server.
	type front struct {
		where string
		auth  bool
		depth int
	}
	var fronts []front
	for _, p := range proxies {
		for _, t := range p.targets {
			if reaches(p.path, t, s, mounts) {
				fronts = append(fronts, front{fmt.Sprintf("%s:%d", p.path, t.line), t.auth, sharedDepth(p.path, s.path)})
			}
		}
	}
	for _, in := range ingresses {
		// an Ingress routes to cluster Services only
		if s.origin == "k8s" && related(in.path, s, mounts) && in.routesTo(s) {
			fronts = append(fronts, front{fmt.Sprintf("%s:%d", in.path, in.line), in.auth, sharedDepth(in.path, s.path)})
		}
	}
	best := -1
	for _, f := range fronts {
		best = max(best, f.depth)
	}
	var open []string
	authAt := ""
	for _, f := range fronts {
		if f.depth != best {
			continue
		}
		if f.auth {
			authAt = f.where
			continue
		}
		open = append(open, f.where)
	}
	exposed, bypass := exposure(s)
	extra := ""
	switch {
	case authAt != "" && bypass == "":
		return
	case authAt != "":
		extra = fmt.Sprintf(" (%s publishes it around the authenticating front at %s)", bypass, authAt)
	case len(open) == 1:
		extra = fmt.Sprintf(" (the proxy at %s forwards without authentication)", open[0])
	case len(open) > 1:
		extra = fmt.Sprintf(" (the proxies at %s forward without authentication)", strings.Join(open, ", "))
	case !exposed && s.origin == "compose":
		// unpublished: only the project's own containers reach it, and
		// none of them forwards to it
		return
	}
	at := hv
	if at.line == 0 {
		at = val{path: s.path, line: s.line, col: s.col}
	}
	// The options to fix it are the rule's fix, printed under the finding.
	j.addAt("MLG401", at, "MLflow server reachable on %s:%s with no authentication%s", h, s.port(), extra)
}

// dedupe drops repeated findings (a value judged both as a server option
// and as a loose env-file entry) and sorts for stable output.
func dedupe(fs []finding.Finding) []finding.Finding {
	type key struct {
		rule, path string
		line, col  int
	}
	seen := map[key]bool{}
	out := fs[:0]
	for _, f := range fs {
		k := key{f.RuleID, f.Path, f.Line, f.Column}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, f)
	}
	sort.SliceStable(out, func(i, k int) bool {
		if out[i].Path != out[k].Path {
			return out[i].Path < out[k].Path
		}
		if out[i].Line != out[k].Line {
			return out[i].Line < out[k].Line
		}
		return out[i].RuleID < out[k].RuleID
	})
	return out
}

// sharedDepth counts the leading directories two slash paths share.
func sharedDepth(a, b string) int {
	da, db := strings.Split(path.Dir(a), "/"), strings.Split(path.Dir(b), "/")
	n := 0
	for n < len(da) && n < len(db) && da[n] == db[n] && da[n] != "." {
		n++
	}
	return n
}

// nearSSE: an encryption setting counts for a store URI when both files are
// in the same deployment (a shared directory, or one at the scan root).
func nearSSE(p string, sse []string) bool {
	for _, q := range sse {
		if sharedDepth(p, q) >= 1 || path.Dir(p) == "." || path.Dir(q) == "." {
			return true
		}
	}
	return false
}
