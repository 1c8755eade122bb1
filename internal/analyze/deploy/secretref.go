package deploy

import (
	"encoding/json"
	"path"
	"regexp"
	"sort"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Values that look like credentials by their key's name but are not secrets:
// the names of keys inside a Kubernetes Secret, CI permission scopes,
// file paths of credential files, and throwaway passwords of CI service
// containers. Hard-coded secret values are still judged everywhere.

// secretRefSuffixes end key names that name a key or object inside a Secret
// ("passwordKey: db-password"), after lower-casing and dropping "_", "-"
// and ".". "secretkey" alone is deliberately absent: MinIO's secretKey is the
// secret itself.
var secretRefSuffixes = []string{
	"passwordkey", "passwordkeyname", "passwordsecretkey", "passwordsecretname",
	"tokenkey", "tokenkeyname", "clientsecretkey", "cookiesecretkey",
	"secretkeyname", "secretkeyref", "secretref", "secretname", "keyname",
	"accesskeyidkey", "accesskeykey", "secretaccesskeykey",
}

// secretRefContains mark a whole family of reference names wherever they
// sit in the key: bitnami's existingSecretPasswordKey, community charts'
// keyOfSecretAccessKey and externalSecretForTrustedCACertificate.
var secretRefContains = []string{"existingsecret", "externalsecret", "secretkeyref"}

// secretRefValue is what a key name inside a Secret looks like: a short
// identifier, never a space or a URL.
var secretRefValue = regexp.MustCompile(`^[A-Za-z0-9._-]{1,253}$`)

func normKey(k string) string {
	return strings.NewReplacer("_", "", "-", "", ".", "").Replace(strings.ToLower(k))
}

// secretReference reports whether name: value names a secret stored
// elsewhere rather than holding one.
func secretReference(name, value string) bool {
	if !secretRefValue.MatchString(value) {
		return false
	}
	k := normKey(name)
	if strings.HasPrefix(k, "keyof") {
		return true
	}
	for _, c := range secretRefContains {
		if strings.Contains(k, c) {
			return true
		}
	}
	for _, s := range secretRefSuffixes {
		if strings.HasSuffix(k, s) {
			return true
		}
	}
	return false
}

// credFileVarSuffixes end variables whose value is the path of a credential
// file (GOOGLE_APPLICATION_CREDENTIALS=/config/sa.json), not the secret.
var credFileVarSuffixes = []string{"_CREDENTIALS", "_CREDENTIALS_FILE", "_KEY_FILE", "_FILE", "_PATH", "_DIR"}

// credentialFilePath reports a variable that points at a credential file.
func credentialFilePath(name, value string) bool {
	u := strings.ToUpper(name)
	hit := false
	for _, s := range credFileVarSuffixes {
		if strings.HasSuffix(u, s) {
			hit = true
			break
		}
	}
	if !hit || strings.ContainsAny(value, " \t\n") || strings.Contains(value, "://") {
		return false
	}
	return strings.HasPrefix(value, "/") || strings.HasPrefix(value, "./") || strings.HasPrefix(value, "~/") ||
		strings.HasPrefix(value, "../") || strings.HasPrefix(value, "$")
}

// ciFile reports CI definitions: their service containers and test stacks
// get throwaway passwords, so only real-looking secrets count there.
func ciFile(p string) bool {
	b := path.Base(p)
	if testStackRe.MatchString(b) {
		return true
	}
	return strings.HasPrefix(p, ".github/") || strings.Contains(p, "/.github/") ||
		b == ".gitlab-ci.yml" || b == "azure-pipelines.yml" || strings.HasPrefix(p, ".circleci/")
}

// testStackRe matches compose files of test stacks (docker-compose-test.yml,
// compose.e2e.yaml).
var testStackRe = regexp.MustCompile(`(?i)^(?:docker-)?compose.*[-._](?:test|tests|e2e|ci)(?:[-._].*)?\.ya?ml$`)

// notASecret gathers the exceptions above for one name: value pair.
func (j *judge) notASecret(name, s string) bool {
	if secretReference(name, s) || credentialFilePath(name, s) {
		return true
	}
	return (ciFile(j.path) || templateFile(j.path)) && !j.det.RealLooking(s)
}

// templateFile reports a file that is a template for the operator to copy
// and fill in (.env.example, .env.template, config.sample.yaml,
// settings.yml.dist; not a bare template.yaml, which CloudFormation and
// SAM deploy as it is): its values are stand-ins ("changeme", "minioadmin"),
// so only real-looking secrets count there, as in CI files.
func templateFile(p string) bool {
	b := strings.ToLower(path.Base(p))
	for _, w := range []string{"example", "sample", "template", "tmpl", "dist"} {
		if strings.HasSuffix(b, "."+w) || strings.Contains(b, "."+w+".") {
			return true
		}
	}
	return false
}

// helmUnittestSuite reports a helm-unittest suite document (top-level
// "suite" and a "tests" list): its values are test inputs for templates, not
// a deployment.
func helmUnittestSuite(root *yaml.Node) bool {
	t := get(root, "tests")
	return get(root, "suite") != nil && t != nil && t.Kind == yaml.SequenceNode
}

// jsonLeaves parses s as a JSON object and returns its string leaves as
// (key, value) pairs; ok is false when s is not a JSON object.
func jsonLeaves(s string) ([][2]string, bool) {
	t := strings.TrimSpace(s)
	if !strings.HasPrefix(t, "{") {
		return nil, false
	}
	var doc map[string]any
	if json.Unmarshal([]byte(t), &doc) != nil {
		return nil, false
	}
	var out [][2]string
	var walk func(k string, v any, depth int)
	walk = func(k string, v any, depth int) {
		if depth > 32 || len(out) > 1000 {
			return
		}
		switch x := v.(type) {
		case string:
			out = append(out, [2]string{k, x})
		case map[string]any:
			for kk, vv := range x {
				walk(kk, vv, depth+1)
			}
		case []any:
			for _, vv := range x {
				walk(k, vv, depth+1)
			}
		}
	}
	walk("", doc, 0)
	sort.Slice(out, func(i, k int) bool { return out[i][0] < out[k][0] })
	return out, true
}
