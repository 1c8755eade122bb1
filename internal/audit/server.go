package audit

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/mlflowapi"
)

// Historic default admin credentials of MLflow's basic-auth app (the
// basic_auth.ini that older releases shipped; CVE-2026-2635 class).
const (
	defaultAdminUser     = "admin"
	defaultAdminPassword = "password1234"
)

// probeOrigin and probeHost are names that can never be legitimate.
const (
	probeOrigin = "https://mlflow-guard-probe.invalid"
	probeHost   = "mlflow-guard-probe.invalid"
)

// probe is the cheapest authenticated read every MLflow server has.
var probeQuery = url.Values{"max_results": {"1"}}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

// get sends one probe request and reads a bounded body.
func (a *Auditor) probe(ctx context.Context, method, path string, q url.Values, h http.Header, body []byte, auth bool) (answer, error) {
	resp, err := a.opts.Client.Raw(ctx, method, path, q, h, body, auth)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	return answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// serverChecks looks at the server from the outside: MLG401, MLG404,
// MLG407, MLG408, MLG409. Every probe is a single read-only request.
func (a *Auditor) serverChecks(ctx context.Context) {
	c := a.opts.Client
	base := c.BaseURL()
	creds := c.Credentials()
	server := func(rule, sub, msg string) {
		a.add(finding.Finding{RuleID: rule, Path: "server/" + sub, Message: msg})
	}
	if base.Scheme == "http" && !isLoopback(base.Hostname()) {
		server("MLG407", "transport", fmt.Sprintf("the tracking server %s is reached over plain HTTP: credentials, params and models cross the network unencrypted", base.Host))
	}
	if creds.InsecureTLS {
		server("MLG407", "transport", "MLFLOW_TRACKING_INSECURE_TLS is set: the server's TLS certificate is not verified")
	}
	anon, err := a.probe(ctx, http.MethodGet, mlflowapi.PathSearchExperiments, probeQuery, nil, nil, false)
	if err != nil {
		a.unreachable.Store(true)
		a.readFailed("server", fmt.Errorf("server unreachable: %w", err))
		return
	}
	authRequired := anon.status == 401 || anon.status == 403
	switch {
	case anon.status == 200 && isLoopback(base.Hostname()):
		// The rule is about servers reachable beyond loopback; this audit
		// only saw the loopback address, so it says so, as advice.
		a.add(finding.Finding{RuleID: "MLG401", Path: "server/auth", Level: finding.Advisory,
			Message: "the MLflow API answers without credentials on loopback (anyone on this host, and any process it runs); check that it is not also reachable on another address"})
	case anon.status == 200:
		server("MLG401", "auth", "the MLflow API answers without credentials beyond loopback: anyone who can reach it can read and change experiments, models and artifacts")
	case authRequired:
	default:
		a.readFailed("server", fmt.Errorf("unexpected HTTP %d to an anonymous %s", anon.status, mlflowapi.PathSearchExperiments))
	}
	if base.Scheme == "https" && anon.header.Get("Strict-Transport-Security") == "" {
		server("MLG407", "headers/Strict-Transport-Security", "HTTPS responses carry no Strict-Transport-Security header: a downgrade to HTTP is not prevented")
	}

	// The response every later check compares against: authenticated when
	// credentials are configured.
	ref := anon
	if creds.HasAuth() {
		if r, err := a.probe(ctx, http.MethodGet, mlflowapi.PathSearchExperiments, probeQuery, nil, nil, true); err == nil {
			ref = r
			if authRequired && r.status != 200 {
				a.readFailed("server/auth", fmt.Errorf("the configured credentials were refused (HTTP %d)", r.status))
			}
		}
	} else if authRequired {
		a.readFailed("server/auth", fmt.Errorf("the server requires authentication (HTTP %d) and no MLFLOW_TRACKING_USERNAME/PASSWORD or MLFLOW_TRACKING_TOKEN is set", anon.status))
	}

	if authRequired {
		// One attempt with the historic default, never a guessing loop.
		h := http.Header{"Authorization": {"Basic " + base64.StdEncoding.EncodeToString([]byte(defaultAdminUser+":"+defaultAdminPassword))}}
		if r, err := a.probe(ctx, http.MethodGet, mlflowapi.PathSearchExperiments, probeQuery, h, nil, false); err == nil && r.status == 200 {
			server("MLG404", "auth", fmt.Sprintf("the server accepts MLflow's historic default credentials %s/%s: change that password now", defaultAdminUser, "<redacted>"))
		}
		// GraphQL must sit behind the same authorization as the REST API.
		gq, err := a.probe(ctx, http.MethodPost, mlflowapi.PathGraphQL, nil,
			http.Header{"Content-Type": {"application/json"}}, []byte(`{"query":"{ __typename }"}`), false)
		if err == nil && gq.status == 200 && strings.Contains(string(gq.body), `"data"`) && strings.Contains(string(gq.body), "__typename") {
			server("MLG408", "graphql", "the GraphQL endpoint /graphql answers without credentials while the REST API requires them")
		}
	}

	a.checkHeaders(ref, server)

	if r, err := a.probe(ctx, http.MethodGet, mlflowapi.PathSearchExperiments, probeQuery, http.Header{"Origin": {probeOrigin}}, nil, true); err == nil {
		acao := r.header.Get("Access-Control-Allow-Origin")
		if acao == "*" || acao == probeOrigin {
			server("MLG408", "cors", fmt.Sprintf("CORS allows any origin (Access-Control-Allow-Origin: %s for %s): any web page a user visits can call the API", acao, probeOrigin))
		}
	}
	if r, err := a.probe(ctx, http.MethodGet, mlflowapi.PathSearchExperiments, probeQuery, http.Header{"Host": {probeHost}}, nil, true); err == nil {
		// Only a success shows the foreign Host was accepted: a 401 or
		// 403 may come from authentication before any Host check runs.
		if r.status >= 200 && r.status < 300 {
			server("MLG408", "host", fmt.Sprintf("a request with Host: %s was accepted (HTTP %d): no allowed-hosts check, DNS rebinding is possible", probeHost, r.status))
		}
	}
}

// checkHeaders reports missing security headers (MLG409).
func (a *Auditor) checkHeaders(r answer, server func(rule, sub, msg string)) {
	if !strings.EqualFold(strings.TrimSpace(r.header.Get("X-Content-Type-Options")), "nosniff") {
		server("MLG409", "headers/X-Content-Type-Options", "responses lack X-Content-Type-Options: nosniff")
	}
	xfo := strings.TrimSpace(r.header.Get("X-Frame-Options"))
	csp := r.header.Get("Content-Security-Policy")
	if (xfo == "" || strings.EqualFold(xfo, "NONE")) && !strings.Contains(csp, "frame-ancestors") {
		server("MLG409", "headers/X-Frame-Options", "responses lack X-Frame-Options (and a CSP frame-ancestors directive): the UI can be framed (clickjacking)")
	}
}
