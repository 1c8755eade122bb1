package pull

import (
	"fmt"
	"strings"
)

// Ref is a parsed models:/ URI: exactly one of Version, Alias, Stage or
// Latest is set.
type Ref struct {
	Name    string
	Version string // models:/name/7
	Alias   string // models:/name@champion
	Stage   string // models:/name/Production (deprecated registry stages)
	Latest  bool   // models:/name/latest
}

// Pinned reports whether the reference names one version by a decision
// someone made (a version number, or an alias an approver moved) rather
// than whatever was registered or staged last.
func (r Ref) Pinned() bool { return r.Version != "" || r.Alias != "" }

// String is the URI in MLflow's own form.
func (r Ref) String() string {
	switch {
	case r.Alias != "":
		return "models:/" + r.Name + "@" + r.Alias
	case r.Version != "":
		return "models:/" + r.Name + "/" + r.Version
	case r.Stage != "":
		return "models:/" + r.Name + "/" + r.Stage
	default:
		return "models:/" + r.Name + "/latest"
	}
}

// ParseURI reads a models:/ URI the way MLflow's _parse_model_uri does,
// narrowed to what pull can verify: a registered model version. Logged
// model ids (models:/m-...), sub-paths inside a version, Databricks
// profiles (models://profile/...) and query strings are refused, because
// an approval is recorded for a whole registered version only.
func ParseURI(s string) (Ref, error) {
	bad := func(why string) (Ref, error) {
		return Ref{}, fmt.Errorf("model URI %q: %s (want models:/NAME/VERSION or models:/NAME@ALIAS)", s, why)
	}
	rest, ok := strings.CutPrefix(s, "models:/")
	switch {
	case !ok:
		return bad("not a models:/ URI")
	case strings.HasPrefix(rest, "/"):
		return bad("models:// with a profile or host is not supported")
	case strings.ContainsAny(rest, "?#"):
		return bad("query strings and fragments are not supported")
	case strings.ContainsAny(rest, "\x00\r\n"):
		return bad("control characters")
	}
	parts := strings.Split(rest, "/")
	switch {
	case len(parts) > 2:
		return bad("a path inside a model version cannot be pulled on its own")
	case strings.TrimSpace(parts[0]) == "":
		return bad("empty model name")
	}
	if len(parts) == 2 {
		name, suffix := parts[0], parts[1]
		switch {
		case strings.TrimSpace(suffix) == "":
			return bad("empty version")
		case strings.Contains(name, "@"):
			return bad("give either a version or an alias, not both")
		case isDigits(suffix):
			return Ref{Name: name, Version: strings.TrimLeft(suffix, "0") + zeroIfAllZeros(suffix)}, nil
		case strings.EqualFold(suffix, "latest"):
			return Ref{Name: name, Latest: true}, nil
		default:
			return Ref{Name: name, Stage: suffix}, nil
		}
	}
	name, alias, ok := cutLast(parts[0], "@")
	if !ok {
		return bad("a logged model id or a bare name names no registered version")
	}
	if strings.TrimSpace(name) == "" || strings.TrimSpace(alias) == "" {
		return bad("empty model name or alias")
	}
	return Ref{Name: name, Alias: alias}, nil
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// zeroIfAllZeros keeps "0" for "000" after leading zeros are trimmed
// (MLflow reads the version with int()).
func zeroIfAllZeros(s string) string {
	if strings.Trim(s, "0") == "" {
		return "0"
	}
	return ""
}

// cutLast splits at the last sep, as Python's rsplit(sep, 1).
func cutLast(s, sep string) (before, after string, ok bool) {
	i := strings.LastIndex(s, sep)
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+len(sep):], true
}
