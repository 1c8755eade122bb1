package python

import (
	"fmt"
	"net/url"
	"path"
	"sort"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/finding"
	"github.com/mlflow-guard/mlflow-guard/internal/secrets"
)

// redactedMarkers are values that say "this was removed".
func isPlaceholder(s string) bool {
	t := strings.ToLower(strings.TrimSpace(s))
	switch {
	case t == "", t == "none", t == "null":
		return true
	case strings.Contains(t, "redacted"), strings.Trim(t, "*x.-_#") == "":
		return true
	case strings.HasPrefix(t, "<") && strings.HasSuffix(t, ">"), strings.HasPrefix(t, "${"), strings.HasPrefix(t, "{{"):
		return true
	}
	// the shared stand-in test: "YOUR_API_KEY", "your-key-here",
	// "sk-xxx", "mock_key_secret", "bench-key-not-a-credential". AWS's
	// documentation pair written into code is still a literal key passed
	// as one (the code was written to run with it), as it was before.
	return secrets.IsPlaceholder(s) && !secrets.AWSDocExample(s)
}

// mayHoldSecret: a value that could carry a credential (not a number, bool,
// None or a redaction marker).
func mayHoldSecret(v *val) bool {
	if v == nil || v.hasNum || v.hasBool || v.none || v.isList || v.dict != nil {
		return false
	}
	if v.known() && isPlaceholder(v.tmpl) {
		return false
	}
	return true
}

// checkKV covers one key/value pair logged as a param or tag.
func (s *scope) checkKV(c *call, k, v *val) {
	if v == nil {
		return
	}
	sec := s.f.sec
	switch {
	case k.known() && sec.SensitiveKey(k.tmpl) && mayHoldSecret(v) && k.tmpl != "run_name":
		s.f.report(c.n, "MLG201", fmt.Sprintf("logs a secret under key %q; tracking data is visible to everyone with access to the experiment: drop or redact it", k.tmpl))
		return
	case v.envKey != "" && sec.SensitiveKey(v.envKey):
		s.f.report(c.n, "MLG201", fmt.Sprintf("logs the value of environment variable %s, a secret; drop or redact it", v.envKey))
		return
	case v.hasStr:
		if kind, ok := sec.SecretValue(v.literalText()); ok {
			s.f.report(c.n, "MLG201", "logs a value in the "+kind+" format; drop or redact it")
			return
		}
	}
	if v.envMap || v.objDump {
		s.f.report(c.n, "MLG202", "logs the whole environment or an object's attributes at once; log an explicit list of safe keys")
		return
	}
	if (v.t|k.t)&(tUser|tFree) != 0 && !v.bounded {
		src := srcOf(v, "")
		if src == "" {
			src = srcOf(k, "untrusted input")
		}
		s.f.report(c.n, "MLG203", fmt.Sprintf("logs %s as a param/tag without validation or a length bound; validate it and cap it (str(x)[:250])", src))
	}
}

// checkDict covers log_params / set_tags / log_dict arguments.
func (s *scope) checkDict(c *call, d *val, what string) {
	if d == nil {
		return
	}
	if d.envMap || d.objDump {
		s.f.report(c.n, "MLG202", fmt.Sprintf("logs the whole environment or an object's attributes as %s; secrets in it end up in the tracking store: log an explicit list of safe keys", what))
		return
	}
	if d.dict == nil {
		if d.t&(tUser|tFree) != 0 && !d.bounded {
			s.f.report(c.n, "MLG203", fmt.Sprintf("logs %s as %s without validation or a length bound", srcOf(d, "untrusted input"), what))
		}
		return
	}
	var secret []string
	var envSecret string
	var kind string
	untrustedKey := ""
	for _, k := range d.dict.keys {
		v := d.dict.vals[k]
		switch {
		case s.f.sec.SensitiveKey(k) && mayHoldSecret(v):
			secret = append(secret, k)
		case v != nil && v.envKey != "" && s.f.sec.SensitiveKey(v.envKey):
			envSecret = v.envKey
		case v != nil && v.hasStr:
			if kd, ok := s.f.sec.SecretValue(v.literalText()); ok {
				kind = kd
			}
		}
		if v != nil && v.t&(tUser|tFree) != 0 && !v.bounded && untrustedKey == "" {
			untrustedKey = k
		}
	}
	switch {
	case len(secret) > 0:
		sort.Strings(secret)
		s.f.report(c.n, "MLG201", fmt.Sprintf("logs secrets under %s key(s) %s; drop or redact them before logging", what, strings.Join(secret, ", ")))
	case envSecret != "":
		s.f.report(c.n, "MLG201", fmt.Sprintf("logs the value of environment variable %s, a secret; drop or redact it", envSecret))
	case kind != "":
		s.f.report(c.n, "MLG201", fmt.Sprintf("logs a value in the %s format in %s; drop or redact it", kind, what))
	case untrustedKey != "":
		s.f.report(c.n, "MLG203", fmt.Sprintf("logs %s under %s key %q without validation or a length bound; validate and cap it (str(x)[:250])", srcOf(d.dict.vals[untrustedKey], "untrusted input"), what, untrustedKey))
	case d.dict.unknown&tUser != 0:
		s.f.report(c.n, "MLG203", fmt.Sprintf("logs request input in %s without validation or a length bound", what))
	}
}

func (s *scope) checkText(c *call, v *val) {
	if v == nil {
		return
	}
	if v.envMap || v.objDump {
		s.f.report(c.n, "MLG202", "logs the whole environment or an object's attributes as text; log an explicit list of safe keys")
		return
	}
	if v.hasStr {
		if kind, ok := s.f.sec.SecretValue(v.literalText()); ok {
			s.f.report(c.n, "MLG201", "logs text containing a credential ("+kind+"); drop or redact it")
		}
	}
}

// sensitiveName matches secrets-bearing files and directories.
func sensitivePath(p string) (string, bool) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "", false
	}
	clean := path.Clean(strings.ReplaceAll(p, "\\", "/"))
	base := path.Base(clean)
	lb := strings.ToLower(base)
	switch {
	case clean == "/":
		return "the root directory", true
	case clean == "~" || clean == "/root" || clean == "/home" || strings.HasPrefix(clean, "/home/") && strings.Count(clean, "/") == 2 ||
		strings.HasPrefix(clean, "/Users/") && strings.Count(clean, "/") == 2:
		return "a home directory", true
	case clean == "/etc" || strings.HasPrefix(clean, "/etc/"):
		return "system configuration", true
	case lb == ".env" || strings.HasPrefix(lb, ".env."):
		return "an .env file", true
	case strings.HasPrefix(lb, "id_rsa") || strings.HasPrefix(lb, "id_dsa") || strings.HasPrefix(lb, "id_ecdsa") || strings.HasPrefix(lb, "id_ed25519"):
		return "an SSH private key", true
	case strings.HasSuffix(lb, ".pem") || strings.HasSuffix(lb, ".key") || strings.HasSuffix(lb, ".p12") || strings.HasSuffix(lb, ".pfx"):
		return "a private key or certificate bundle", true
	case lb == ".netrc" || lb == ".pgpass" || lb == ".git-credentials" || lb == "kubeconfig" || lb == ".htpasswd" || lb == "credentials.json":
		return "a credentials file", true
	}
	for _, part := range strings.Split(clean, "/") {
		switch strings.ToLower(part) {
		case ".aws", ".ssh", ".kube", ".gnupg", ".docker", ".azure", ".config/gcloud":
			return "the " + part + " directory", true
		}
	}
	return "", false
}

// checkUpload is MLG204.
func (s *scope) checkUpload(c *call, what string, v *val, dir bool) {
	if v == nil {
		return
	}
	if v.home && (v.tmpl == "~" || v.tmpl == "~/" || !v.hasStr) {
		s.f.report(c.n, "MLG204", fmt.Sprintf("%s uploads the home directory; upload only the files you mean to share, from a dedicated output directory", what))
		return
	}
	if v.hasStr {
		t := v.tmpl
		if !v.known() {
			t = v.prefix()
			if i := strings.LastIndexByte(t, '/'); i >= 0 {
				t = t[:i+1]
			} else {
				t = ""
			}
			// a known directory prefix followed by a computed name
			if t != "" && !strings.HasSuffix(t, "/") {
				t = ""
			}
		}
		if v.known() && path.Clean(strings.ReplaceAll(t, "\\", "/")) == "." {
			// log_artifact of a directory uploads it too (MLflow checks isdir).
			s.f.report(c.n, "MLG204", fmt.Sprintf("%s uploads the whole working directory (.env files, credentials and all); log a dedicated output directory instead", what))
			return
		}
		if t != "" {
			if why, ok := sensitivePath(t); ok {
				s.f.report(c.n, "MLG204", fmt.Sprintf("%s uploads %s; secrets in it become readable to everyone with artifact access", what, why))
				return
			}
			if dir && v.known() && strings.HasPrefix(t, "/") {
				s.f.report(c.n, "MLG204", fmt.Sprintf("%s uploads an absolute directory outside the project (%s) that may hold anything; log a dedicated, validated output directory", what, t))
				return
			}
		}
	}
	if v.t&tUser != 0 {
		s.f.report(c.n, "MLG204", fmt.Sprintf("%s uploads a path taken from %s; an attacker can pick any file: restrict it to a fixed output directory", what, srcOf(v, "untrusted input")))
	}
}

// checkLocation is MLG205.
func (s *scope) checkLocation(c *call, v *val) {
	if v == nil || v.none {
		return
	}
	if v.t&tUser != 0 {
		s.f.report(c.n, "MLG205", fmt.Sprintf("artifact_location comes from %s; check it against an allowlist of storage prefixes", srcOf(v, "untrusted input")))
		return
	}
	if !v.hasStr {
		return
	}
	t := v.prefix()
	if why := unsafeLocation(t); why != "" {
		s.f.report(c.n, "MLG205", "artifact_location "+why+"; use a private bucket under the configured artifact root")
		return
	}
	if v.known() && !s.f.policy.ArtifactLocationAllowed(t) {
		s.f.report(c.n, "MLG205", "artifact_location is outside the allowed artifact locations of the policy")
	}
}

// unsafeLocation explains why a (known prefix of an) artifact location is unsafe.
func unsafeLocation(loc string) string {
	d := loc
	for i := 0; i < 4; i++ {
		u, err := url.PathUnescape(d)
		if err != nil || u == d {
			break
		}
		d = u
	}
	low := strings.ToLower(d)
	switch {
	case strings.HasPrefix(low, "file:"):
		return "uses the file: scheme (the server's own disk)"
	case strings.HasPrefix(low, "http:"):
		return "uses plain http:"
	case strings.ContainsAny(d, "#;"):
		return "contains '#' or ';' (after URL-decoding)"
	case strings.Contains(d, ".."):
		return "contains '..' (after URL-decoding)"
	}
	if i := strings.Index(low, "://"); i > 0 {
		host := low[i+3:]
		if j := strings.IndexByte(host, '/'); j >= 0 {
			host = host[:j]
		}
		if strings.Contains(host, "public") {
			return "is on a bucket named as public"
		}
	}
	return ""
}

// checkExpiry is MLG305.
func (s *scope) checkExpiry(c *call, v *val, arg string) {
	if v == nil || !v.hasNum {
		return
	}
	if v.num > 3600 {
		s.f.report(c.n, "MLG305", fmt.Sprintf("signed URL lives %s (%s); keep artifact URLs to one hour or less", humanSecs(v.num), arg))
	}
}

func humanSecs(f float64) string {
	switch {
	case f >= 86400:
		return fmt.Sprintf("%.4g days", f/86400)
	case f >= 3600:
		return fmt.Sprintf("%.4g hours", f/3600)
	}
	return fmt.Sprintf("%.0f seconds", f)
}

// isHardcoded: a literal credential, not a placeholder.
func isHardcoded(v *val) bool {
	return v != nil && v.known() && !isPlaceholder(v.tmpl) && v.t == 0
}

// hardcodedSecret is isHardcoded for a value in a credential's place; in a
// test suite's file a literal is a fixture ("test-key-12345") unless it is
// a credential in a known format or random key material.
func (f *fileCtx) hardcodedSecret(v *val) bool {
	return isHardcoded(v) && (!f.test || f.sec.RealLooking(v.tmpl))
}

// uriPassword reports whether a URI template embeds a literal password.
func uriPassword(t string) bool {
	i := strings.Index(t, "://")
	if i < 0 {
		return false
	}
	rest := t[i+3:]
	at := strings.IndexByte(rest, '@')
	if at < 0 {
		return false
	}
	auth := rest[:at]
	if strings.ContainsAny(auth, "/") {
		return false
	}
	c := strings.IndexByte(auth, ':')
	if c < 0 {
		return false
	}
	pw := auth[c+1:]
	return pw != "" && !strings.Contains(pw, hole) && !isPlaceholder(pw) && !strings.HasPrefix(pw, "$")
}

// plainHTTPHost returns the host of an http:// URI when it is known and
// not loopback.
func plainHTTPHost(v *val) (string, bool) {
	if v == nil || !v.hasStr {
		return "", false
	}
	p := v.prefix()
	if !strings.HasPrefix(strings.ToLower(p), "http://") {
		return "", false
	}
	rest := p[len("http://"):]
	end := strings.IndexAny(rest, "/?#")
	if end < 0 {
		if !v.known() {
			return "", false // host not fully known
		}
		end = len(rest)
	}
	host := rest[:end]
	if at := strings.LastIndexByte(host, '@'); at >= 0 {
		host = host[at+1:]
	}
	h := host
	if strings.HasPrefix(h, "[") {
		if j := strings.IndexByte(h, ']'); j > 0 {
			h = h[1:j]
		}
	} else if j := strings.LastIndexByte(h, ':'); j >= 0 {
		h = h[:j]
	}
	h = strings.ToLower(h)
	if h == "" || h == "localhost" || strings.HasPrefix(h, "127.") || h == "::1" || h == "0.0.0.0" || strings.HasSuffix(h, ".localhost") {
		return "", false
	}
	return h, true
}

// reportPlainHTTP reports plain http to host. A host of one DNS label
// (mlflow, minio) is a name only a container network, a cluster or a
// search domain resolves: advisory, as the deploy analyzer judges the same
// URI in compose, .env and shell files.
func (s *scope) reportPlainHTTP(n *node, rule, host, msg string) {
	if !singleLabel(host) {
		s.f.report(n, rule, msg)
		return
	}
	before := len(s.f.findings)
	s.f.report(n, rule, msg+" when it crosses hosts ("+host+" is a name only a local network resolves, such as a compose service)")
	if len(s.f.findings) > before {
		s.f.findings[len(s.f.findings)-1].Level = finding.Advisory
	}
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

// checkURI covers tracking/registry/backend URIs (MLG403, MLG407).
func (s *scope) checkURI(c *call, v *val, what string) {
	if v == nil || !v.hasStr {
		return
	}
	if uriPassword(v.tmpl) {
		s.f.report(c.n, "MLG403", what+" embeds a hard-coded password; read credentials at run time (MLFLOW_TRACKING_USERNAME/PASSWORD from a secret store)")
		return
	}
	if host, ok := plainHTTPHost(v); ok {
		s.reportPlainHTTP(c.n, "MLG407", host, fmt.Sprintf("%s sends traffic (and credentials) in plain http to %s; use https", what, host))
	}
}

// checkEnvSet covers os.environ[...] = value in code.
func (s *scope) checkEnvSet(n *node, key, v *val) {
	if key == nil || !key.known() || v == nil {
		return
	}
	k := strings.ToUpper(key.tmpl)
	switch k {
	case "MLFLOW_TRACKING_INSECURE_TLS":
		if v.known() && strings.EqualFold(v.tmpl, "true") || v.isTrue() {
			s.f.report(n, "MLG407", "MLFLOW_TRACKING_INSECURE_TLS=true turns off TLS verification; trust the server's CA with MLFLOW_TRACKING_SERVER_CERT_PATH instead")
		}
		return
	case "MLFLOW_S3_IGNORE_TLS":
		if v.known() && strings.EqualFold(v.tmpl, "true") || v.isTrue() {
			s.f.report(n, "MLG304", "MLFLOW_S3_IGNORE_TLS=true sends artifacts without TLS verification; keep TLS on")
		}
		return
	case "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI":
		if v.hasStr && uriPassword(v.tmpl) {
			s.f.report(n, "MLG403", k+" embeds a hard-coded password; read credentials at run time from a secret store")
		} else if host, ok := plainHTTPHost(v); ok {
			s.reportPlainHTTP(n, "MLG407", host, fmt.Sprintf("%s points at %s over plain http; use https", k, host))
		}
		return
	case "MLFLOW_S3_ENDPOINT_URL", "MLFLOW_ARTIFACT_ROOT", "MLFLOW_DEFAULT_ARTIFACT_ROOT", "MLFLOW_ARTIFACTS_DESTINATION", "MLFLOW_ARTIFACT_URI":
		if v.hasStr && uriPassword(v.tmpl) {
			s.f.report(n, "MLG403", k+" embeds a hard-coded password; read credentials at run time from a secret store")
		} else if host, ok := plainHTTPHost(v); ok {
			s.reportPlainHTTP(n, "MLG304", host, k+" uses plain http for the artifact store; use https")
		} else if v.hasStr && strings.Contains(unsafeLocation(v.prefix()), "public") {
			s.f.report(n, "MLG304", k+" points at a bucket named as public; artifacts must live in a private bucket")
		}
		return
	}
	if !s.f.hardcodedSecret(v) {
		return
	}
	if s.f.sec.SensitiveKey(k) {
		s.f.report(n, "MLG403", fmt.Sprintf("environment variable %s is set to a hard-coded credential; load it from a secret store at run time", k))
	} else if kind, ok := s.f.sec.KnownFormat(v.literalText()); ok {
		// a private key or a token is one under any name (TLS_KEY, SERVICE_PEM)
		s.f.report(n, "MLG403", fmt.Sprintf("environment variable %s is set to a hard-coded credential (%s); load it from a secret store at run time", k, kind))
	}
}

// checkEnvFallback judges the default of os.environ.get/os.getenv for the
// URI variables as if it were assigned: the fallback is used wherever the
// variable is unset, so a plain-http default is as bad as a plain-http
// value (MLG407 for tracking and registry URIs, MLG304 for the store).
func (s *scope) checkEnvFallback(c *call, key, def *val) {
	if key == nil || !key.known() || def == nil {
		return
	}
	k := strings.ToUpper(key.tmpl)
	switch k {
	case "MLFLOW_TRACKING_URI", "MLFLOW_REGISTRY_URI":
		if host, ok := plainHTTPHost(def); ok {
			s.reportPlainHTTP(c.n, "MLG407", host, fmt.Sprintf("the fallback for an unset %s is %s over plain http; use https, or fail when the variable is unset", k, host))
		}
	case "MLFLOW_S3_ENDPOINT_URL":
		if host, ok := plainHTTPHost(def); ok {
			s.reportPlainHTTP(c.n, "MLG304", host, fmt.Sprintf("the fallback for an unset %s uses plain http for the artifact store; use https", k))
		}
	}
}

// checkPublicACL is MLG304 for uploads with a public canned ACL.
func (s *scope) checkPublicACL(c *call) {
	pub := func(v *val) bool {
		return v != nil && v.known() && strings.HasPrefix(strings.ToLower(v.tmpl), "public-read")
	}
	if pub(c.kw["ACL"]) {
		s.f.report(c.n, "MLG304", "uploads with a public-read ACL; artifacts must stay private")
		return
	}
	if e := c.kw["ExtraArgs"]; e != nil && e.dict != nil && pub(e.dict.vals["ACL"]) {
		s.f.report(c.n, "MLG304", "uploads with a public-read ACL; artifacts must stay private")
	}
}

// finishDumps reports pickle dumps that get logged (MLG101).
func (f *fileCtx) finishDumps() {
	for _, d := range f.dumps {
		hit := d.inRun
		for _, l := range f.logged {
			if hit {
				break
			}
			if l.fn == d.fn {
				hit = d.path == nil || l.path == nil || !d.path.known() || !l.path.known() || relatedPath(d.path.tmpl, l.path.tmpl)
			} else if d.path != nil && l.path != nil && d.path.known() && l.path.known() {
				hit = relatedPath(d.path.tmpl, l.path.tmpl)
			}
		}
		if hit {
			f.report(d.n, "MLG101", fmt.Sprintf("model serialized with %s and logged to MLflow; anyone loading it runs its code: %s and log it with the flavor's log_model", d.what, fixPickle))
		}
	}
}

func relatedPath(dump, logged string) bool {
	a, b := path.Clean(dump), path.Clean(logged)
	return a == b || strings.HasPrefix(a, b+"/") || b == "." || path.Base(a) == path.Base(b)
}
