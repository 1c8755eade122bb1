package pull

import (
	"encoding/hex"
	"fmt"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
)

// maxManifest bounds the manifest tag read: one line per file.
const maxManifest = approval.MaxManifestBytes

// ParseManifest reads the mlflow-guard.manifest tag: model.WriteManifest's
// text ("<sha256>  <path>" lines under a "#" header), relative to the
// version's artifact root. It is stricter than model.ReadManifest, because
// these paths become files under DIR: every path passes ValidateRel, and a
// path listed twice is an error. The result is authenticated by the caller
// (model.ManifestDigest of it must equal the signed digest), so nothing
// here has to be trusted.
func ParseManifest(text string) (map[string]string, error) {
	if len(text) > maxManifest {
		return nil, fmt.Errorf("manifest of %d bytes is larger than %d", len(text), maxManifest)
	}
	out := map[string]string{}
	for i, line := range strings.Split(text, "\n") {
		ln := i + 1
		line = strings.TrimSuffix(line, "\r")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		sum, name, ok := strings.Cut(line, "  ")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("manifest line %d: want \"<sha256>  <path>\"", ln)
		}
		if _, err := hex.DecodeString(sum); err != nil {
			return nil, fmt.Errorf("manifest line %d: digest is not hex", ln)
		}
		name = strings.TrimPrefix(name, "*")
		if err := ValidateRel(name); err != nil {
			return nil, fmt.Errorf("manifest line %d: %w", ln, err)
		}
		if _, dup := out[name]; dup {
			return nil, fmt.Errorf("manifest line %d: %q is listed twice", ln, name)
		}
		out[name] = strings.ToLower(sum)
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("manifest lists no file")
	}
	// A file and a directory of the same name cannot both exist.
	for p := range out {
		for d := p; ; {
			i := strings.LastIndexByte(d, '/')
			if i < 0 {
				break
			}
			d = d[:i]
			if _, clash := out[d]; clash {
				return nil, fmt.Errorf("manifest lists %q both as a file and as the directory of %q", d, p)
			}
		}
	}
	return out, nil
}
