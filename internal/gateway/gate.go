package gateway

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path"
	"strconv"
	"strings"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/analyze"
	modelscan "github.com/mlflow-guard/mlflow-guard/internal/analyze/model"
	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/policy"
	"github.com/mlflow-guard/mlflow-guard/internal/store"
)

// The registration gate (MLG106-MLG111). Before model-versions/create is
// forwarded, the gateway resolves the version's source the way MLflow
// will, reads every file of it from the upstream's artifact proxy, hashes
// and scans it, and either refuses the request or lets it through; after
// the upstream has created the version, the gateway tags it with the
// manifest, the digest, the verdict and the findings, through its own
// upstream client. A version the gateway could not tag is deleted again.

// maxFindingsTag keeps the findings tag short enough to read in the UI.
const maxFindingsTag = 4000

// gateResult travels from the request to the response hook.
type gateResult struct {
	verdict  string // approval.VerdictPass or approval.VerdictQuarantined
	rule     string // the blocking rule of a quarantined version
	manifest string
	// manifestTags record manifest (approval.SplitManifest), head first
	manifestTags [][2]string
	digest       string
	findings     string
	source       string
	files        int
	bytes        int64
	took         time.Duration
}

// promptSources are MLflow's prompt placeholders (_PROMPT_SOURCE_PLACEHOLDERS):
// a prompt version with one of them has no artifacts, and MLflow refuses
// any other source for a prompt.
var promptSources = map[string]bool{"dummy-source": true, "prompt-template": true}

const promptTag = "mlflow.prompt.is_prompt"

func isCreateVersion(rt *compiled) bool {
	return rt != nil && rt.Method == http.MethodPost && strings.HasSuffix(rt.Pattern, "/mlflow/model-versions/create")
}

func gateDenial(rule, reason, msg string) *Denial {
	return &Denial{Status: http.StatusForbidden, Code: "PERMISSION_DENIED", Rule: rule, Reason: reason, Msg: rule + ": " + msg}
}

// upstreamClient is the gateway's own client for the upstream: the proxy's
// transport, no client-wide timeout (a large model takes minutes); every
// call runs under a context with a deadline.
func (g *Gateway) upstreamClient() *http.Client {
	return &http.Client{Transport: g.proxy.Transport, CheckRedirect: func(*http.Request, []*http.Request) error {
		return errors.New("the upstream redirected; not followed")
	}}
}

// gateRegistration judges a model-versions/create request. It returns a
// denial, or nil with st.gate set (or left nil when the gate does not
// apply: mode off, or a prompt version).
func (g *Gateway) gateRegistration(ctx context.Context, st *reqState, msg *Message) *Denial {
	cfg := g.policy.Registration()
	if cfg.Mode == policy.GateOff {
		return nil
	}
	start := g.now()
	source, _, err := msg.Value([]string{"source"})
	if err != nil {
		return denyForbidden("ambiguous-request", "model-versions/create: "+err.Error())
	}
	isPrompt, d := createTags(msg)
	if d != nil {
		return d
	}
	if isPrompt && promptSources[source] {
		return nil // a prompt: no artifacts; MLflow refuses any other source for it
	}
	if source == "" {
		return gateDenial("MLG111", "source-unreadable", "model-versions/create without a source; the gateway cannot scan it")
	}
	ctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	c := g.upstreamClient()
	loc, err := g.resolveSource(ctx, c, source)
	if err != nil {
		st.findings = "source: " + truncate(g.dg.det.RedactAll(err.Error()), 300)
		return gateDenial("MLG111", "source-unreadable", "the gateway cannot read the version's source, so it cannot scan it: "+truncate(g.dg.det.RedactAll(err.Error()), 300))
	}
	dir, err := os.MkdirTemp(cfg.SpoolDir, "mlflow-guard-gate-")
	if err != nil {
		g.log.Error("registration gate: spool", "request_id", st.id, "err", err)
		return denyUnavailable("gate-unavailable", "the gateway could not spool the model to scan it; refused")
	}
	defer os.RemoveAll(dir)
	f := &fetcher{g: g, c: c, dir: dir, maxBytes: cfg.MaxBytes, maxFiles: cfg.MaxFiles, sums: map[string]string{}}
	if err := f.fetch(ctx, loc); err != nil {
		st.findings = "source: " + truncate(g.dg.det.RedactAll(err.Error()), 300)
		return gateDenial("MLG111", "source-unreadable", "the gateway could not read the version's files, so it cannot scan them: "+truncate(g.dg.det.RedactAll(err.Error()), 300))
	}
	an := newModelAnalyzer(g.log)
	var v modelVerdict
	for _, rel := range f.order {
		res, _, err := judgeFile(ctx, an, dir, rel)
		if err != nil {
			return gateDenial("MLG111", "source-unreadable", "could not read a spooled file: "+err.Error())
		}
		v.Findings = append(v.Findings, res.Findings...)
		v.Errors = append(v.Errors, res.Errors...)
	}
	fin := analyze.Finish(ctx, an)
	v.Findings = append(v.Findings, fin.Findings...)
	v.Errors = append(v.Errors, fin.Errors...)
	if ctx.Err() != nil {
		return gateDenial("MLG111", "gate-timeout", fmt.Sprintf("the scan did not finish within %s; refused", cfg.Timeout))
	}
	summary := g.dg.Summary(v, maxFindingsTag)
	var mb strings.Builder
	_ = modelscan.WriteManifest(&mb, f.sums)
	res := &gateResult{verdict: approval.VerdictPass, manifest: mb.String(), digest: modelscan.ManifestDigest(f.sums),
		findings: summary, source: source, files: len(f.order), bytes: f.total}
	st.findings = "registration-gate " + res.digest + " files=" + strconv.Itoa(res.files) + " findings: " + summary
	if rule := g.dg.Blocking(v); rule != "" {
		if cfg.Mode != policy.GateQuarantine {
			return gateDenial(rule, "model-gate", "the model version's files failed the registration gate: "+truncate(summary, 600))
		}
		res.verdict, res.rule = approval.VerdictQuarantined, rule
	}
	if res.files > approval.MaxManifestFiles {
		return gateDenial("MLG111", "too-many-files", fmt.Sprintf("the version has %d files, over the gateway's limit of %d files per registered version; refused", res.files, approval.MaxManifestFiles))
	}
	if res.manifestTags, err = approval.SplitManifest(res.manifest); err != nil {
		return gateDenial("MLG111", "manifest-too-large", fmt.Sprintf("the manifest of %d files cannot be recorded: %v; refused", res.files, err))
	}
	res.took = g.now().Sub(start)
	st.gate = res
	return nil
}

// createTags reads the request's tags as MLflow's _is_prompt_request does
// (last value per key wins) and refuses reserved keys: only the gateway
// writes the mlflow-guard namespace.
func createTags(msg *Message) (isPrompt bool, d *Denial) {
	if msg.Body == nil {
		return false, nil
	}
	raw, ok := msg.Body["tags"]
	if !ok || raw == nil {
		return false, nil
	}
	list, ok := raw.([]any)
	if !ok {
		return false, denyForbidden("ambiguous-request", "model-versions/create: tags is not a list")
	}
	last := map[string]string{}
	for _, t := range list {
		m, ok := t.(map[string]any)
		if !ok {
			return false, denyForbidden("ambiguous-request", "model-versions/create: a tag is not an object")
		}
		k, _ := m["key"].(string)
		v, _ := m["value"].(string)
		if approval.IsReserved(k) {
			return false, denyForbidden("reserved-tag", fmt.Sprintf("tag %q is in the gateway's reserved namespace", truncate(k, 80)))
		}
		last[k] = v
	}
	return strings.EqualFold(last[promptTag], "true"), nil
}

// resolveSource maps a version source to a path under the upstream's
// artifact proxy, the way MLflow resolves it: runs:/ through the run's
// artifact URI, models:/<id> through the logged model, models:/<name>/<n>
// and models:/<name>@<alias> through the registry, mlflow-artifacts:/ as
// is. Anything else (s3://, file:, a stage or "latest", a foreign host)
// is an error: the gateway cannot read it, so it cannot pass it.
func (g *Gateway) resolveSource(ctx context.Context, c *http.Client, source string) (string, error) {
	const v2 = "/api/2.0/mlflow/"
	u, err := url.Parse(source)
	if err != nil {
		return "", fmt.Errorf("source %q: %w", truncate(source, 200), err)
	}
	scheme := strings.ToLower(u.Scheme)
	switch scheme {
	case "runs":
		if u.Host != "" || u.Opaque != "" {
			return "", fmt.Errorf("source %q: runs:/ with a host", truncate(source, 200))
		}
		runID, sub, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
		if runID == "" {
			return "", fmt.Errorf("source %q: no run id", truncate(source, 200))
		}
		var r struct {
			Run struct {
				Info struct {
					ArtifactURI string `json:"artifact_uri"`
				} `json:"info"`
			} `json:"run"`
		}
		if err := g.upstreamDo(ctx, c, http.MethodGet, v2+"runs/get", url.Values{"run_id": {runID}}, nil, &r); err != nil {
			return "", fmt.Errorf("run %s: %w", runID, err)
		}
		return proxyPath(joinURI(r.Run.Info.ArtifactURI, sub))
	case "models":
		if u.Host != "" || u.Opaque != "" {
			return "", fmt.Errorf("source %q: models:/ with a host", truncate(source, 200))
		}
		p := strings.TrimPrefix(u.Path, "/")
		parts := strings.Split(p, "/")
		switch {
		case p == "" || len(parts) > 2:
			return "", fmt.Errorf("source %q: not a models:/ URI MLflow accepts", truncate(source, 200))
		case len(parts) == 1 && !strings.Contains(p, "@"):
			var m struct {
				Model struct {
					Info struct {
						ArtifactURI string `json:"artifact_uri"`
					} `json:"info"`
				} `json:"model"`
			}
			if err := g.upstreamDo(ctx, c, http.MethodGet, v2+"logged-models/"+url.PathEscape(p), nil, nil, &m); err != nil {
				return "", fmt.Errorf("logged model %s: %w", p, err)
			}
			return proxyPath(m.Model.Info.ArtifactURI)
		}
		name, version := "", ""
		if len(parts) == 2 {
			name, version = parts[0], parts[1]
			if _, err := strconv.ParseUint(version, 10, 63); err != nil {
				return "", fmt.Errorf("source %q: a stage or \"latest\" names no fixed version; register from models:/<name>/<version>", truncate(source, 200))
			}
		} else {
			var alias string
			name, alias, _ = strings.Cut(p, "@")
			var a struct {
				MV struct {
					Version string `json:"version"`
				} `json:"model_version"`
			}
			if err := g.upstreamDo(ctx, c, http.MethodGet, v2+"registered-models/alias", url.Values{"name": {name}, "alias": {alias}}, nil, &a); err != nil {
				return "", fmt.Errorf("alias %s@%s: %w", name, alias, err)
			}
			version = a.MV.Version
		}
		var du struct {
			URI string `json:"artifact_uri"`
		}
		if err := g.upstreamDo(ctx, c, http.MethodGet, v2+"model-versions/get-download-uri", url.Values{"name": {name}, "version": {version}}, nil, &du); err != nil {
			return "", fmt.Errorf("model %s version %s: %w", name, version, err)
		}
		return proxyPath(du.URI)
	}
	return proxyPath(source)
}

func joinURI(base, sub string) string {
	if sub == "" {
		return base
	}
	return strings.TrimSuffix(base, "/") + "/" + sub
}

// proxyPath turns an mlflow-artifacts:/ URI into the artifact proxy's
// path. Escapes, dot segments and empty segments are refused rather than
// guessed at: the path read must be the path MLflow reads.
func proxyPath(uri string) (string, error) {
	u, err := url.Parse(uri)
	if err != nil || uri == "" {
		return "", fmt.Errorf("artifact location %q is not a URI", truncate(uri, 200))
	}
	if !strings.EqualFold(u.Scheme, "mlflow-artifacts") {
		return "", fmt.Errorf("artifact location %q is not on the server's artifact proxy (mlflow-artifacts:/); the gateway reads only through it", truncate(uri, 200))
	}
	if u.Host != "" || u.User != nil || u.Opaque != "" || u.RawQuery != "" || u.Fragment != "" || strings.Contains(uri, "%") {
		return "", fmt.Errorf("artifact location %q has a host, query, fragment or escape; refused", truncate(uri, 200))
	}
	p := strings.Trim(u.Path, "/")
	if p == "" {
		return "", fmt.Errorf("artifact location %q is the artifact root", truncate(uri, 200))
	}
	for _, s := range strings.Split(p, "/") {
		if s == "" || s == "." || s == ".." || strings.ContainsAny(s, "\\\x00") {
			return "", fmt.Errorf("artifact location %q has an unsafe segment", truncate(uri, 200))
		}
	}
	return p, nil
}

// fetcher downloads a source's files from the artifact proxy into dir,
// hashing each on the way.
type fetcher struct {
	g        *Gateway
	c        *http.Client
	dir      string
	maxBytes int64
	maxFiles int
	total    int64
	sums     map[string]string // relative path -> sha256 hex
	order    []string
}

const maxGateDepth = 32

func (f *fetcher) fetch(ctx context.Context, root string) error {
	n, err := f.walk(ctx, root, "", 0)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// An empty listing is a missing path, an empty directory or a single
	// file; only the last can be read.
	name := path.Base(root)
	if err := f.download(ctx, root, name); err != nil {
		return fmt.Errorf("%s: no files listed and not readable as a file: %w", root, err)
	}
	return nil
}

func (f *fetcher) walk(ctx context.Context, root, rel string, depth int) (int, error) {
	if depth > maxGateDepth {
		return 0, fmt.Errorf("%s: directories nested deeper than %d", rel, maxGateDepth)
	}
	full := root
	if rel != "" {
		full += "/" + rel
	}
	var ls struct {
		Files []struct {
			Path  string `json:"path"`
			IsDir bool   `json:"is_dir"`
		} `json:"files"`
	}
	if err := f.g.upstreamDo(ctx, f.c, http.MethodGet, "/api/2.0/mlflow-artifacts/artifacts", url.Values{"path": {full}}, nil, &ls); err != nil {
		return 0, err
	}
	n := 0
	for _, e := range ls.Files {
		name := path.Base(e.Path) // the proxy lists base names
		if name == "" || name == "." || name == ".." || strings.ContainsAny(name, "/\\\x00") || name != e.Path {
			return 0, fmt.Errorf("%s: the upstream listed an unsafe name %q", full, truncate(e.Path, 100))
		}
		child := name
		if rel != "" {
			child = rel + "/" + name
		}
		if e.IsDir {
			if err := os.Mkdir(f.local(child), 0o700); err != nil {
				return 0, err
			}
			m, err := f.walk(ctx, root, child, depth+1)
			if err != nil {
				return 0, err
			}
			n += m
			continue
		}
		if err := f.download(ctx, root+"/"+child, child); err != nil {
			return 0, err
		}
		n++
	}
	return n, nil
}

func (f *fetcher) local(rel string) string { return f.dir + string(os.PathSeparator) + rel }

func (f *fetcher) download(ctx context.Context, full, rel string) error {
	if len(f.order) >= f.maxFiles {
		return fmt.Errorf("more than %d files; refused (registration.max_files)", f.maxFiles)
	}
	u := f.g.cfg.Upstream.JoinPath("/api/2.0/mlflow-artifacts/artifacts")
	segs := strings.Split(full, "/")
	for i := range segs {
		segs[i] = url.PathEscape(segs[i])
	}
	u.RawPath = u.EscapedPath() + "/" + strings.Join(segs, "/")
	u.Path = u.Path + "/" + full
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return err
	}
	resp, err := f.c.Do(req)
	if err != nil {
		return fmt.Errorf("%s: %w", full, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s: upstream answered %d", full, resp.StatusCode)
	}
	if ce := resp.Header.Get("Content-Encoding"); ce != "" && ce != "identity" {
		return fmt.Errorf("%s: upstream sent %s-encoded bytes", full, ce)
	}
	out, err := os.OpenFile(f.local(rel), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	h := sha256.New()
	left := f.maxBytes - f.total
	n, err := io.Copy(io.MultiWriter(out, h), io.LimitReader(resp.Body, left+1))
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("%s: %w", full, err)
	}
	if n > left {
		return fmt.Errorf("the version is larger than %d bytes; refused (registration.max_bytes)", f.maxBytes)
	}
	if resp.ContentLength >= 0 && n != resp.ContentLength {
		return fmt.Errorf("%s: read %d of %d bytes", full, n, resp.ContentLength)
	}
	f.total += n
	f.sums[rel] = hex.EncodeToString(h.Sum(nil))
	f.order = append(f.order, rel)
	return nil
}

// finishRegistration runs after the upstream created the version: it
// writes the four tags (the verdict last, so a half-tagged version never
// says pass), and deletes the version if any write fails.
func (g *Gateway) finishRegistration(resp *http.Response, st *reqState) error {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxHookBody+1))
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	var v struct {
		MV struct {
			Name    string `json:"name"`
			Version string `json:"version"`
		} `json:"model_version"`
	}
	if err == nil {
		err = json.Unmarshal(b, &v)
	}
	if err != nil || v.MV.Name == "" || v.MV.Version == "" {
		// The upstream said 200 but the gateway cannot name the version:
		// it cannot tag it either. Nothing to delete by name; refuse.
		g.log.Error("registration gate: unreadable create answer", "request_id", st.id, "err", err)
		g.auditGate(st, "", "", "deny", "MLG111", "create answer unreadable; version untagged")
		return &hookError{gateDenial("MLG111", "gate-tag-failed", "the gateway could not read the created version to tag it; it has no verdict")}
	}
	// The client may have gone; the tags (or the deletion) must still happen.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(resp.Request.Context()), time.Minute)
	defer cancel()
	c := g.upstreamClient()
	gr := st.gate
	// The manifest's parts go first and its head (TagManifest) last, so
	// a reader never finds a head whose parts are still being written.
	tags := append(append([][2]string{}, gr.manifestTags[1:]...), gr.manifestTags[0],
		[2]string{approval.TagDigest, gr.digest}, [2]string{approval.TagFindings, gr.findings}, [2]string{approval.TagVerdict, gr.verdict})
	for _, t := range tags {
		if err = g.upstreamPost(ctx, c, http.MethodPost, "/api/2.0/mlflow/model-versions/set-tag",
			map[string]string{"name": v.MV.Name, "version": v.MV.Version, "key": t[0], "value": t[1]}); err != nil {
			break
		}
	}
	if err != nil {
		g.log.Error("registration gate: tagging failed; deleting the version", "request_id", st.id, "model", v.MV.Name, "version", v.MV.Version, "err", err)
		derr := g.upstreamPost(ctx, c, http.MethodDelete, "/api/2.0/mlflow/model-versions/delete",
			map[string]string{"name": v.MV.Name, "version": v.MV.Version})
		detail := "tagging failed; version deleted"
		if derr != nil {
			g.log.Error("registration gate: could not delete the untagged version", "request_id", st.id, "err", derr)
			detail = "tagging failed; deleting failed too: the version has no verdict"
		}
		g.auditGate(st, v.MV.Name, v.MV.Version, "deny", "MLG111", detail)
		return &hookError{gateDenial("MLG111", "gate-tag-failed", "the gateway could not record its verdict on the new version, so it removed it; try again")}
	}
	g.auditGate(st, v.MV.Name, v.MV.Version, gr.verdict, gr.rule, fmt.Sprintf("%s files=%d bytes=%d took=%s source=%s findings: %s",
		gr.digest, gr.files, gr.bytes, gr.took.Round(time.Millisecond), truncate(gr.source, 200), truncate(gr.findings, 600)))
	resp.Header.Set("X-Mlflow-Guard-Verdict", gr.verdict)
	return nil
}

func (g *Gateway) auditGate(st *reqState, name, version, decision, rule, detail string) {
	actor := ""
	if st.identity != nil {
		actor = st.identity.User.Name
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := g.store.Audit(ctx, store.Event{Actor: actor, Action: "registration-gate", Route: "POST " + st.route.Pattern,
		Resource: string(KindRegisteredModel) + ":" + name + "/" + version, Decision: decision, Rule: rule, RequestID: st.id,
		Detail: truncate(detail, 1000)}); err != nil {
		g.log.Error("audit write failed for the registration gate", "request_id", st.id, "err", err)
	}
}

// upstreamPost sends a JSON body to the upstream and wants a 200.
func (g *Gateway) upstreamPost(ctx context.Context, c *http.Client, method, p string, body any) error {
	b, err := json.Marshal(body)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, g.cfg.Upstream.JoinPath(p).String(), bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, p, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s %s: upstream answered %d", method, p, resp.StatusCode)
	}
	return nil
}
