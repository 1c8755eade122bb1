package policy

import (
	"context"
	"fmt"
	"net/url"
	"strings"
)

// maxDecode bounds repeated percent-decoding (MLflow's _decode stops at 10).
const maxDecode = 10

// unquote decodes %XX like Python's urllib.parse.unquote: a malformed
// escape is kept as is. plus also turns '+' into ' ' (unquote_plus).
func unquote(s string, plus bool) string {
	if !strings.ContainsAny(s, "%+") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '%' && i+2 < len(s) && ishex(s[i+1]) && ishex(s[i+2]) {
			b.WriteByte(unhex(s[i+1])<<4 | unhex(s[i+2]))
			i += 2
			continue
		}
		if c == '+' && plus {
			b.WriteByte(' ')
			continue
		}
		b.WriteByte(c)
	}
	return b.String()
}

func ishex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// forms returns s and every stage of its repeated decoding, with and
// without '+' as space, so a check sees each way a store may read it. ok
// is false when decoding has not settled after maxDecode rounds.
func forms(s string) (out []string, ok bool) {
	out = []string{s}
	for _, plus := range []bool{false, true} {
		cur := s
		settled := false
		for range maxDecode {
			next := unquote(cur, plus)
			if next == cur {
				settled = true
				break
			}
			out = append(out, next)
			cur = next
		}
		if !settled {
			return out, false
		}
	}
	return out, true
}

// pathProblem names why one decoded form of a path could leave its root.
// It is shared by relative artifact paths, sources and locations.
func pathProblem(f string, relative bool) string {
	for _, r := range f {
		if r < 0x20 || r == 0x7f {
			return "control character or NUL"
		}
	}
	switch {
	case strings.Contains(f, `\`):
		return "backslash"
	case strings.Contains(f, "#"):
		return "'#' (fragment)"
	case strings.Contains(f, ";"):
		return "';' (URL parameters)"
	}
	for _, seg := range strings.Split(f, "/") {
		if seg == ".." {
			return "'..' segment"
		}
	}
	if relative {
		lf := strings.ToLower(f)
		switch {
		case strings.HasPrefix(f, "/"):
			return "absolute path"
		case len(f) >= 2 && f[1] == ':' && isLetter(f[0]):
			return "drive letter"
		case strings.HasPrefix(lf, "file:"):
			return "file: URI"
		}
	}
	return ""
}

func isLetter(c byte) bool { return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' }

// checkRelPath judges an artifact path that MLflow joins to a root
// (validate_path_is_safe and stricter: it looks at every decoding stage).
func checkRelPath(p string, field Field) Decision {
	fs, ok := forms(p)
	if !ok {
		return tagged(deny(RuleTraversal, "%s: still percent-encoded after %d decodings", field, maxDecode), field, "decode-loop")
	}
	for _, f := range fs {
		if why := pathProblem(f, true); why != "" {
			return tagged(deny(RuleTraversal, "%s %q: %s", field, clipShow(p, 120), why), field, why)
		}
	}
	return Decision{}
}

func tagged(d Decision, field Field, det string) Decision {
	d.Findings = append(d.Findings, Finding{Rule: d.Rule, Field: string(field), Detector: det, Mode: ModeDeny})
	return d
}

// checkURLPath judges the artifact proxy routes, whose path is part of the
// URL (<path:artifact_path>, decoded once by the server, then by stores).
func (e *Engine) checkURLPath(r *Request) (Decision, bool) {
	var rest string
	found := false
	for _, pre := range []string{"/api/2.0/mlflow-artifacts/", "/ajax-api/2.0/mlflow-artifacts/"} {
		if s, ok := strings.CutPrefix(r.Path, pre); ok {
			rest, found = s, true
			break
		}
	}
	if !found {
		return Decision{}, false
	}
	var p string
	switch {
	case rest == "artifacts":
		// a directory listing: ?path=
		q, err := url.ParseQuery(r.RawQuery)
		if err != nil {
			return deny(RuleMalformed, "artifact listing: query string: %v", err), true
		}
		return checkRelPath(q.Get("path"), FieldPath), true
	case strings.HasPrefix(rest, "artifacts/"):
		p = strings.TrimPrefix(rest, "artifacts/")
	case strings.HasPrefix(rest, "presigned/"):
		p = strings.TrimPrefix(rest, "presigned/")
	case strings.HasPrefix(rest, "mpu/"):
		parts := strings.SplitN(rest, "/", 3)
		if len(parts) < 3 {
			return Decision{}, true
		}
		p = parts[2]
		if d := checkRelPath(p, FieldPath); d.Action == Deny {
			return d, true
		}
		// the JSON body names the path again
		m, err := readMessage(r.Method, "", r.ContentType, r.Body, r.Parsed)
		if err != nil {
			return deny(RuleMalformed, "multipart upload: %v", err), true
		}
		bp, _, _, err := str(m.body, "path")
		if err != nil {
			return deny(RuleMalformed, "multipart upload: %v", err), true
		}
		return checkRelPath(bp, FieldPath), true
	default:
		return Decision{}, true
	}
	return checkRelPath(p, FieldPath), true
}

// checkGatewayPath: the gateway-proxy route appends gateway_path to the
// configured gateway URI; anything but a plain relative path could point
// the server elsewhere (CVE-2025-52967).
func checkGatewayPath(p string) Decision {
	fs, ok := forms(p)
	if !ok {
		return deny(RuleSSRF, "gateway_path: still percent-encoded after %d decodings", maxDecode)
	}
	for _, f := range fs {
		t := strings.TrimLeft(f, "/")
		if strings.HasPrefix(f, "//") || strings.ContainsAny(f, ":@?#\\") || pathProblem(t, true) != "" {
			return deny(RuleSSRF, "gateway_path %q is not a plain relative path", clipShow(p, 120))
		}
	}
	return Decision{}
}

// root is one allowed artifact root, normalised.
type root struct {
	scheme, host, path string
}

func parseRoots(rs []string) ([]root, error) {
	out := make([]root, 0, len(rs))
	for _, r := range rs {
		u, err := parseLocation(r)
		if err != nil {
			return nil, fmt.Errorf("locations.allowed_roots %q: %w", r, err)
		}
		out = append(out, u)
	}
	return out, nil
}

// parseLocation splits a location the way the stores read it: scheme and
// host case-insensitive, a bare path is a local file path.
func parseLocation(s string) (root, error) {
	if strings.HasPrefix(s, "/") && !strings.HasPrefix(s, "//") {
		return root{scheme: "file", path: s}, nil
	}
	u, err := url.Parse(s)
	if err != nil {
		return root{}, err
	}
	if u.Scheme == "" {
		return root{}, fmt.Errorf("no scheme and not an absolute path")
	}
	if u.Opaque != "" {
		// "scheme:relative" has no root to compare
		return root{}, fmt.Errorf("not a hierarchical URI")
	}
	return root{scheme: strings.ToLower(u.Scheme), host: strings.ToLower(u.Host), path: u.Path}, nil
}

// under reports whether loc lies inside r (segment boundary, so
// s3://bucket does not admit s3://bucket-evil).
func (r root) under(loc root) bool {
	if r.scheme != loc.scheme || r.host != loc.host {
		return false
	}
	rp := strings.TrimSuffix(r.path, "/")
	lp := loc.path
	return lp == rp || strings.HasPrefix(lp, rp+"/") || (rp == "" && (lp == "" || strings.HasPrefix(lp, "/")))
}

// underRoots decides s against the allowlist after every decoding stage
// has passed the traversal checks.
func (e *Engine) underRoots(s string) (root, bool) {
	loc, err := parseLocation(unquoteAll(s))
	if err != nil {
		return root{}, false
	}
	for _, r := range e.roots {
		if r.under(loc) {
			return loc, true
		}
	}
	return loc, false
}

func unquoteAll(s string) string {
	for range maxDecode {
		n := unquote(s, false)
		if n == s {
			break
		}
		s = n
	}
	return s
}

// checkLocation judges an experiment or workspace artifact location.
func (e *Engine) checkLocation(ctx context.Context, loc string) Decision {
	fs, ok := forms(loc)
	if !ok {
		return tagged(deny(RuleLocation, "artifact location: still percent-encoded after %d decodings", maxDecode), FieldLocation, "decode-loop")
	}
	for _, f := range fs {
		if why := pathProblem(f, false); why != "" {
			return tagged(deny(RuleLocation, "artifact location %q: %s", clipShow(loc, 120), why), FieldLocation, why)
		}
		if strings.Contains(f, "?") {
			return tagged(deny(RuleLocation, "artifact location %q: query string", clipShow(loc, 120)), FieldLocation, "query")
		}
	}
	if strings.HasPrefix(strings.ToLower(loc), "runs:") {
		return tagged(deny(RuleLocation, "artifact location cannot be a runs: URI"), FieldLocation, "runs-uri")
	}
	l, ok := e.underRoots(loc)
	if l.scheme == "http" && !ok {
		return tagged(deny(RulePublic, "artifact location %q uses plain http", clipShow(loc, 120)), FieldLocation, "plain-http")
	}
	if !ok {
		return tagged(deny(RuleLocation, "artifact location %q is outside the allowed roots", clipShow(loc, 120)), FieldLocation, "outside-roots")
	}
	if l.scheme == "http" || l.scheme == "https" {
		return e.checkOutboundURL(ctx, unquoteAll(loc), FieldLocation)
	}
	return Decision{}
}

// promptSourcePlaceholders are mlflow.prompt.constants'
// _PROMPT_SOURCE_PLACEHOLDERS (client and store forms).
var promptSourcePlaceholders = map[string]bool{"dummy-source": true, "prompt-template": true}

// checkSource judges a model-version source. runs:/ and models:/ URIs are
// resolved by MLflow inside their run or model (a clean relative path is
// all they need); anything else must lie under an allowed root. Prompt
// versions never take a local source (CVE-2026-2614).
func (e *Engine) checkSource(ctx context.Context, src string, prompt bool) Decision {
	// MLflow's own senders give every prompt version one of two placeholder
	// sources, and its server refuses any other prompt source
	// (_validate_prompt_source): the exact raw string is safe.
	if prompt && promptSourcePlaceholders[src] {
		return Decision{}
	}
	fs, ok := forms(src)
	if !ok {
		return tagged(deny(RuleTraversal, "source: still percent-encoded after %d decodings", maxDecode), FieldSource, "decode-loop")
	}
	for _, f := range fs {
		if why := pathProblem(f, false); why != "" {
			return tagged(deny(RuleTraversal, "source %q: %s", clipShow(src, 120), why), FieldSource, why)
		}
		for _, seg := range strings.Split(f, "/") {
			if seg == "." {
				return tagged(deny(RuleTraversal, "source %q: '.' segment", clipShow(src, 120)), FieldSource, "dot-segment")
			}
		}
	}
	dec := unquoteAll(src)
	low := strings.ToLower(dec)
	local := strings.HasPrefix(low, "file:") || strings.HasPrefix(dec, "/") || !strings.Contains(dec, ":")
	if prompt && local {
		return tagged(deny(RuleTraversal, "prompt version with a local source %q", clipShow(src, 120)), FieldSource, "prompt-local-source")
	}
	for _, s := range []string{"runs:/", "models:/"} {
		if strings.HasPrefix(low, s) {
			if strings.HasPrefix(dec[len(s):], "/") && s == "runs:/" && strings.HasPrefix(dec[len(s):], "//") {
				return tagged(deny(RuleTraversal, "source %q: runs URI with a host", clipShow(src, 120)), FieldSource, "runs-host")
			}
			return Decision{}
		}
	}
	l, ok := e.underRoots(src)
	if !ok {
		return tagged(deny(RuleTraversal, "source %q is outside the allowed artifact roots", clipShow(src, 120)), FieldSource, "outside-roots")
	}
	if strings.Trim(l.path, "/") == "" {
		// MLflow refuses it too (the path resolves to "." after rstrip)
		return tagged(deny(RuleTraversal, "source %q names a whole store", clipShow(src, 120)), FieldSource, "store-root")
	}
	if l.scheme == "http" || l.scheme == "https" {
		return e.checkOutboundURL(ctx, dec, FieldSource)
	}
	return Decision{}
}
