package deploy

import (
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/rules"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// legacyAdminPassword is the admin password MLflow's basic_auth.ini shipped
// through 3.16.0 (GHSA-gq3w-7jj3-x7gr); minAdminPassword is the length MLflow
// 3.16.1+ requires at bootstrap.
const (
	legacyAdminPassword = "password1234"
	minAdminPassword    = 12
)

var latestModelRe = regexp.MustCompile(`(?i)models:/[^/\s"']+/latest\b`)

// facts is what one file contributes to the cross-file judgement.
type facts struct {
	findings   []finding.Finding
	errs       []finding.Error
	servers    []*server
	proxies    []*proxyBlock
	ingresses  []*ingress
	envFiles   map[string]env // .env files by path
	configMaps map[string]env // ConfigMap data by name
	sse        []string       // where MLFLOW_S3_UPLOAD_EXTRA_ARGS sets ServerSideEncryption
	// cross-file links (fronts.go, link.go)
	services []*k8sService
	mounts   map[string][]string // compose file -> files and folders its services mount
	images   []*imageDef
	links    []buildLink
	calls    []scriptCall
	scripts  map[string]string // shell files by path, for entrypoint scripts that are followed
	// compose "folder|service" -> its ports: entries and network_mode host
	svcPorts   map[string][]portMap
	svcHostNet map[string]bool
}

// judge emits findings into a facts list; it is per file and not shared.
type judge struct {
	path  string
	det   *secrets.Detector
	f     *facts
	lines []string // the file's lines, for YAML block scalars
	b     *budget
	// ctx is the kind of file being judged (rules.Ctx*), stamped on its
	// findings so the fix fits the file: a compose file not named like one
	// gets compose advice, a CI workflow no Kubernetes advice.
	ctx string
}

func (j *judge) add(rule string, path string, line, col int, format string, args ...any) {
	if path == "" {
		path = j.path
	}
	// values quoted in a message are cut and never show a secret
	for i, a := range args {
		if s, ok := a.(string); ok {
			args[i] = j.shown(s)
		}
	}
	f := finding.Finding{RuleID: rule, Path: path, Line: line, Column: col, Message: fmt.Sprintf(format, args...)}
	if path == j.path {
		f.Context = j.ctx
	}
	j.f.findings = append(j.f.findings, f)
}

// fileContext is the advice context of a file of the deploy analyzer:
// Dockerfiles by name, YAML by what started the server (origin "compose",
// "k8s") or, for YAML of neither kind, Helm values files as Kubernetes and
// anything else (CI workflows, loose YAML) as rules.CtxOther.
func fileContext(path, origin string) string {
	base := strings.ToLower(path[strings.LastIndexAny(path, `/\`)+1:])
	pc := rules.PathContext(path)
	switch {
	case pc == rules.CtxDockerfile:
		return pc
	case pc == "":
		return rules.CtxOther
	case origin == "compose":
		return rules.CtxCompose
	case origin == "k8s" || strings.HasPrefix(base, "values"):
		return rules.CtxKubernetes
	}
	return rules.CtxOther
}

func (j *judge) addAt(rule string, v val, format string, args ...any) {
	j.add(rule, v.path, v.line, v.col, format, args...)
}

// addAtLevel is addAt at a level other than the rule's.
func (j *judge) addAtLevel(l finding.Level, rule string, v val, format string, args ...any) {
	j.addAt(rule, v, format, args...)
	j.f.findings[len(j.f.findings)-1].Level = l
}

// plainHTTPHost: s is an http:// URL to a host beyond loopback. local says
// the host is a single DNS label (mlflow, minio): a name only a container
// network, a cluster or a search domain resolves, so the traffic most
// likely stays on that network. The Python analyzer applies the same rule.
func plainHTTPHost(s string) (host string, local, ok bool) {
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || !strings.EqualFold(u.Scheme, "http") || u.Hostname() == "" || isLoopback(u.Hostname()) || isWildcard(u.Hostname()) {
		return "", false, false
	}
	h := strings.ToLower(u.Hostname())
	return h, singleLabel(h), true
}

// singleLabel: a host name of one DNS label (letters, digits, hyphens),
// not an IP address.
func singleLabel(h string) bool {
	if h == "" || strings.Trim(h, "0123456789") == "" {
		return false
	}
	for _, c := range h {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// addIn is add for a rule whose fix depends on what was found
// (rules.Rule.FixFor): ctx is one of the rules.Ctx* constants.
func (j *judge) addIn(ctx, rule, path string, line, col int, format string, args ...any) {
	j.add(rule, path, line, col, format, args...)
	j.f.findings[len(j.f.findings)-1].Context = ctx
}

// addAtIn is addAt for a rule whose fix depends on what was found
// (rules.Rule.FixFor): ctx is one of the rules.Ctx* constants.
func (j *judge) addAtIn(ctx, rule string, v val, format string, args ...any) {
	j.addAt(rule, v, format, args...)
	j.f.findings[len(j.f.findings)-1].Context = ctx
}

// words checks command words for unpinned model references.
func (j *judge) words(argv []val) {
	for _, w := range argv {
		if w.known && w.literal && latestModelRe.MatchString(w.s) {
			j.addAt("MLG104", w, "%s loads whatever version was registered last; pin a version (models:/name/3) or an approved alias (models:/name@champion)", latestModelRe.FindString(w.s))
		}
	}
}

// envVar judges one environment assignment, wherever it was written (shell,
// Dockerfile ENV, compose, Kubernetes env, systemd, .env, ConfigMap).
func (j *judge) envVar(name string, v val) {
	if !v.known {
		return
	}
	s := strings.TrimSpace(v.s)
	switch name {
	case "MLFLOW_S3_UPLOAD_EXTRA_ARGS":
		if strings.Contains(s, "ServerSideEncryption") {
			j.f.sse = append(j.f.sse, v.path)
		} else {
			j.addAt("MLG303", v, "MLFLOW_S3_UPLOAD_EXTRA_ARGS sets no ServerSideEncryption: artifacts are uploaded unencrypted unless the bucket enforces it; add \"ServerSideEncryption\": \"aws:kms\"")
		}
	case "MLFLOW_S3_IGNORE_TLS":
		if truthy(s) {
			j.addAt("MLG304", v, "MLFLOW_S3_IGNORE_TLS=true turns off certificate checks to the artifact store; remove it and trust the store's CA instead")
		}
	case "MLFLOW_TRACKING_INSECURE_TLS":
		if truthy(s) {
			j.addAt("MLG407", v, "MLFLOW_TRACKING_INSECURE_TLS=true turns off certificate checks to the tracking server; use MLFLOW_TRACKING_SERVER_CERT_PATH for a private CA")
		}
	case "MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH":
		if s != "" && !truthy(s) {
			j.addAt("MLG408", v, "MLFLOW_SERVER_ENABLE_GRAPHQL_AUTH is off: GraphQL queries bypass the auth app's permission checks")
		}
	case "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI":
		// Judged as the Python analyzer judges the same variable.
		if host, local, ok := plainHTTPHost(s); ok && local {
			j.addAtLevel(finding.Advisory, "MLG407", v, "%s uses plain http:// to %s, a name only a local network resolves (a compose service or cluster-internal name); acceptable only while that network stays on trusted hosts: use https:// when it crosses them", name, host)
		} else if ok {
			j.addAt("MLG407", v, "%s uses plain http:// to %s: credentials and data cross the network unencrypted; use https://", name, host)
		}
	case "MLFLOW_S3_ENDPOINT_URL":
		if host, local, ok := plainHTTPHost(s); ok && local {
			j.addAtLevel(finding.Advisory, "MLG304", v, "%s uses plain http:// to the artifact store %s, a name only a local network resolves (a compose service or cluster-internal name); use https:// when it crosses hosts", name, host)
		} else if ok {
			j.addAt("MLG304", v, "%s uses plain http:// to the artifact store %s: artifacts and credentials cross the network unencrypted; use https://", name, host)
		}
	case "MLFLOW_AUTH_ADMIN_PASSWORD":
		if v.literal && j.adminPassword(v, "MLFLOW_AUTH_ADMIN_PASSWORD") {
			return
		}
	}
	if latestModelRe.MatchString(s) && v.literal {
		j.addAt("MLG104", v, "%s=%s loads whatever version was registered last; pin a version or an approved alias", name, latestModelRe.FindString(s))
	}
	if v.literal && s != "" && !j.notASecret(name, s) {
		if leaves, ok := jsonLeaves(s); ok {
			// a JSON document under a secret-looking key (a ConfigMap's
			// "credentials" section) is judged leaf by leaf, by its own keys
			for _, kv := range leaves {
				if !j.notASecret(kv[0], kv[1]) {
					if reason, ok := j.det.Check(kv[0], kv[1]); ok {
						j.addAt("MLG403", v, "%s holds a literal credential in %s (%s); inject it from a secret store (Kubernetes secretKeyRef, Docker secrets, a vault)", name, kv[0], reason)
						return
					}
				}
			}
			return
		}
		if reason, ok := j.det.Check(name, s); ok {
			j.addAt("MLG403", v, "%s holds a literal credential (%s); inject it from a secret store (Kubernetes secretKeyRef, Docker secrets, a vault)", name, reason)
		}
	}
}

// adminPassword reports the historic default or a too-short admin password;
// it returns true when it reported (so the value is not reported twice).
func (j *judge) adminPassword(v val, where string) bool {
	pw := strings.Trim(strings.TrimSpace(v.s), `"'`)
	if pw == "" || secrets.IsPlaceholder(pw) {
		return false
	}
	if pw == legacyAdminPassword {
		j.addAtIn(rules.CtxAdminPassword, "MLG404", v, "%s is MLflow's historic default admin password (CVE-2026-2635 class); set a unique password of at least %d characters from a secret store", where, minAdminPassword)
		return true
	}
	if len(pw) < minAdminPassword {
		j.addAtIn(rules.CtxAdminPassword, "MLG404", v, "%s is shorter than %d characters; MLflow 3.16.1+ refuses it and it is guessable", where, minAdminPassword)
		return true
	}
	return false
}

// uri judges a store URI given to a server (canonical option name).
func (j *judge) uri(canon string, v val) (s3 bool) {
	if !v.known && v.raw != "" {
		j.templatedURI(canon, v)
		return false
	}
	if !v.known || v.s == "" {
		return false
	}
	s := strings.Trim(strings.TrimSpace(v.s), `"'`)
	u, err := url.Parse(s)
	if err != nil {
		return false
	}
	scheme := strings.ToLower(u.Scheme)
	if pw, ok := u.User.Password(); ok && v.literal && pw != "" && !secrets.IsPlaceholder(pw) && !strings.HasPrefix(pw, "$") && !j.notASecret(canon, s) {
		j.addAt("MLG403", v, "--%s embeds a password in the URI; pass it through a secret (e.g. a variable filled from a secret store) instead", canon)
	}
	switch {
	case strings.HasPrefix(scheme, "postgres") || strings.HasPrefix(scheme, "mysql") || strings.HasPrefix(scheme, "mssql"):
		if !dbTLS(scheme, u) {
			j.addAt("MLG406", v, "--%s connects to %s without TLS; add %s", canon, dbHost(u), dbTLSHint(scheme))
		}
	case scheme == "http":
		if !isLoopback(u.Hostname()) {
			j.addAt("MLG304", v, "--%s is plain http://%s: artifacts travel and are served unencrypted; use https:// or an object store", canon, u.Hostname())
		}
	case scheme == "s3" || scheme == "gs" || scheme == "wasbs" || scheme == "oss":
		if strings.Contains(strings.ToLower(u.Host), "public") {
			j.addAt("MLG304", v, "--%s points at bucket %q, which by its name is public; use a private bucket", canon, u.Host)
		}
		return scheme == "s3"
	}
	return false
}

func dbHost(u *url.URL) string {
	if h := u.Hostname(); h != "" {
		return h
	}
	return "the database"
}

// dbTLS reports whether a database URI asks for an encrypted connection, or
// needs none (loopback, a Unix socket).
func dbTLS(scheme string, u *url.URL) bool {
	h := u.Hostname()
	q := u.Query()
	if h == "" || isLoopback(h) || q.Get("host") != "" && strings.HasPrefix(q.Get("host"), "/") || q.Get("unix_socket") != "" {
		return true
	}
	if strings.Contains(u.Host, "$") || strings.Contains(u.Host, "{{") {
		return true // not resolved: not guessed
	}
	switch {
	case strings.HasPrefix(scheme, "postgres"):
		switch strings.ToLower(q.Get("sslmode")) {
		case "require", "verify-ca", "verify-full":
			return true
		}
		return false
	case strings.HasPrefix(scheme, "mysql"):
		for _, k := range []string{"ssl_ca", "ssl-ca", "ssl_cert", "ssl"} {
			if q.Get(k) != "" && q.Get(k) != "false" && q.Get(k) != "0" {
				return true
			}
		}
		m := strings.ToUpper(q.Get("ssl_mode") + q.Get("ssl-mode"))
		return m == "REQUIRED" || m == "VERIFY_CA" || m == "VERIFY_IDENTITY"
	case strings.HasPrefix(scheme, "mssql"):
		e := strings.ToLower(q.Get("Encrypt") + q.Get("encrypt"))
		return e == "yes" || e == "true" || e == "strict"
	}
	return true
}

func dbTLSHint(scheme string) string {
	switch {
	case strings.HasPrefix(scheme, "postgres"):
		return "?sslmode=verify-full (or require)"
	case strings.HasPrefix(scheme, "mysql"):
		return "?ssl_ca=... or ssl_mode=VERIFY_IDENTITY"
	}
	return "Encrypt=yes"
}

// serverLocal judges the parts of a server model that need no other file.
// It returns whether the server stores artifacts on S3 and where.
func (j *judge) serverLocal(s *server) (s3 []val) {
	at := val{path: s.path, line: s.line, col: s.col}
	// inside a container or pod, binding every interface is how a published
	// port or a Service reaches the server: what publishes it decides
	if exp, _ := exposure(s); exp {
		if v, ok := s.opt("host"); ok && v.known && isWildcard(v.s) {
			j.addAt("MLG402", v, "MLflow server binds %s (every interface); bind 127.0.0.1 and publish it through an authenticating TLS proxy", v.s)
		}
	}
	for _, canon := range []string{"backend-store-uri", "registry-store-uri", "read-replica-backend-store-uri", "workspace-store-uri", "default-artifact-root", "artifacts-destination"} {
		if v, ok := s.opt(canon); ok {
			if j.uri(canon, v) {
				s3 = append(s3, v)
			}
		}
	}
	// SQLite behind several workers or beyond loopback.
	h, hknown, _ := s.host()
	exposed := hknown && !isLoopback(h)
	workers := 0
	if v, ok := s.opt("workers"); ok && v.known {
		workers, _ = strconv.Atoi(strings.TrimSpace(v.s))
	}
	for _, o := range []string{"gunicorn-opts", "uvicorn-opts"} {
		if v, ok := s.opt(o); ok && v.known {
			if n, err := strconv.Atoi(workersFromOpts(v.s)); err == nil {
				workers = n
			}
		}
	}
	if v, ok := s.opt("backend-store-uri"); ok {
		if v.known && strings.HasPrefix(strings.ToLower(strings.TrimSpace(v.s)), "sqlite:") && (exposed || workers > 1) {
			j.addAt("MLG405", v, "SQLite backend store for a server %s; use PostgreSQL or MySQL (with TLS) for a shared server", servedHow(exposed, h, workers))
		}
	} else if s.kind == "server" && (exposed || workers > 1) {
		j.addAt("MLG405", at, "no --backend-store-uri: MLflow defaults to SQLite (sqlite:///mlflow.db) for a server %s; use PostgreSQL or MySQL (with TLS)", servedHow(exposed, h, workers))
	}
	// Security middleware.
	if v, ok := s.opt("disable-security-middleware"); ok && v.known && truthy(v.s) {
		j.addAt("MLG408", v, "the security middleware is disabled: no host-header, CORS or clickjacking protection")
	}
	if v, ok := s.opt("allowed-hosts"); ok && v.known && hasStar(v.s) {
		j.addAt("MLG408", v, "--allowed-hosts '*' accepts every Host header (DNS rebinding); list the server's names")
	}
	if v, ok := s.opt("cors-allowed-origins"); ok && v.known && hasStar(v.s) {
		j.addAt("MLG408", v, "--cors-allowed-origins '*' lets any website call the API with the user's credentials; list trusted origins")
	}
	if v, ok := s.opt("x-frame-options"); ok && v.known && strings.EqualFold(strings.Trim(v.s, `"'`), "NONE") {
		j.addAt("MLG408", v, "--x-frame-options NONE allows the UI to be framed by any site (clickjacking); keep SAMEORIGIN or DENY")
	}
	return s3
}

func servedHow(exposed bool, h string, workers int) string {
	switch {
	case exposed && workers > 1:
		return fmt.Sprintf("bound to %s with %d workers", h, workers)
	case exposed:
		return fmt.Sprintf("bound to %s", h)
	}
	return fmt.Sprintf("with %d workers", workers)
}

func hasStar(s string) bool {
	for _, p := range strings.Split(strings.Trim(s, `"'`), ",") {
		if strings.TrimSpace(p) == "*" {
			return true
		}
	}
	return false
}

// templateRe: an unresolved part of a value (${VAR}, $VAR, $(VAR), a Helm
// or Actions template).
// shellDefaultRe: the default of ${NAME:-default} (or ${NAME-default}).
var shellDefaultRe = regexp.MustCompile(`\$\{[A-Za-z_][A-Za-z0-9_]*:?[-=]([^}]*)\}`)

var templateRe = regexp.MustCompile(`\$\{[^}]*\}|\$\([^)]*\)|\$[A-Za-z_][A-Za-z0-9_]*|\{\{[^}]*\}\}`)

// templatedURI judges a database URI whose credentials, database name or
// host are variables on what is visible: the scheme, the host and the query
// (a missing sslmode). A variable in the scheme or query leaves it
// unjudged: what it resolves to is not guessed (the query may carry the
// TLS options). A variable host is judged as a remote one: TLS is asked for
// in the query, and only a loopback host or a socket needs none, which a
// variable cannot be shown to be (fail closed; a socket shows in the query).
func (j *judge) templatedURI(canon string, v val) {
	s := strings.Trim(strings.TrimSpace(v.raw), `"'`)
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || templateRe.MatchString(scheme) {
		return
	}
	ls := strings.ToLower(scheme)
	if !strings.HasPrefix(ls, "postgres") && !strings.HasPrefix(ls, "mysql") && !strings.HasPrefix(ls, "mssql") {
		return
	}
	auth, tail := rest, ""
	if i := strings.IndexAny(rest, "/?"); i >= 0 {
		auth, tail = rest[:i], rest[i:]
	}
	user, hostport := "", auth
	if i := strings.LastIndex(auth, "@"); i >= 0 {
		user, hostport = auth[:i+1], auth[i+1:]
	}
	p, q, _ := strings.Cut(tail, "?")
	if templateRe.MatchString(q) || strings.Contains(q, "$") {
		return
	}
	shown := ""
	if templateRe.MatchString(hostport) || strings.Contains(hostport, "$") {
		host := hostport
		if i := strings.LastIndexByte(host, ':'); i >= 0 {
			// drop the port: digits or one variable (${HOST}:${PORT})
			if port := host[i+1:]; port != "" && (strings.Trim(port, "0123456789") == "" || templateRe.FindString(port) == port) {
				host = host[:i]
			}
		}
		if m := shellDefaultRe.FindStringSubmatch(host); m != nil && (isLoopback(m[1]) || strings.HasPrefix(m[1], "/")) {
			return // ${DB_HOST:-localhost}: loopback unless set
		}
		shown = host
		hostport = "variable-host.invalid"
	}
	clean := scheme + "://" + templateRe.ReplaceAllString(user, "x") + hostport + templateRe.ReplaceAllString(p, "x")
	if q != "" {
		clean += "?" + q
	}
	u, err := url.Parse(clean)
	if err != nil || u.Hostname() == "" {
		return
	}
	if dbTLS(ls, u) {
		return
	}
	if shown != "" {
		j.addAt("MLG406", v, "--%s connects to %s without TLS (a variable host: unless it is loopback, the connection is unencrypted); add %s", canon, shown, dbTLSHint(ls))
		return
	}
	j.addAt("MLG406", v, "--%s connects to %s without TLS; add %s", canon, dbHost(u), dbTLSHint(ls))
}
