package policy

import (
	"os"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
)

// Gate modes. The registration gate refuses (deny) or keeps and tags
// (quarantine) a version with a blocking finding; uploads deny or only log.
const (
	GateDeny       = "deny"
	GateQuarantine = "quarantine"
	GateLogOnly    = "log-only"
	GateOff        = "off"
)

// RegistrationConfig is the registration gate (MLG106-MLG111) on
// model-versions/create.
type RegistrationConfig struct {
	// Mode: deny (default), quarantine (created, tagged
	// mlflow-guard.verdict=quarantined), or off (no gate, no tags).
	Mode string `yaml:"mode"`
	// MaxBytes bounds the bytes read from the upstream per version
	// (default 20 GiB); more is refused, as unverifiable.
	MaxBytes int64 `yaml:"max_bytes"`
	// MaxFiles bounds the files listed per version (default 10,000; at
	// most approval.MaxManifestFiles, the most a manifest records).
	MaxFiles int `yaml:"max_files"`
	// Timeout bounds the whole gate for one version (default 30m).
	Timeout time.Duration `yaml:"timeout"`
	// SpoolDir holds the version's files while they are scanned (default:
	// the system temp directory). Files are removed when the gate ends.
	SpoolDir string `yaml:"spool_dir"`
}

// UploadsConfig is upload scanning (MLG106-MLG111 for model files, MLG204
// for secrets in text, MLG306 for type and size) on artifact uploads.
type UploadsConfig struct {
	// Mode: deny (default), log-only, or off (forwarded unscanned).
	Mode string `yaml:"mode"`
	// MaxBytes is the largest artifact accepted (MLG306; default 20 GiB).
	MaxBytes int64 `yaml:"max_bytes"`
	// AllowedTypes lists the sniffed types accepted (MLG306): model, text,
	// image, data, archive, other, executable. Default: all but executable.
	AllowedTypes []string `yaml:"allowed_types"`
	// Multipart: deny (default) or allow-unscanned. Parts of a multipart
	// upload go from the client straight to the object store, so the
	// gateway never sees the bytes it would have to judge.
	Multipart string `yaml:"multipart"`
	// SpoolDir holds an upload while it is judged (default: system temp).
	SpoolDir string `yaml:"spool_dir"`
	// HoldBack is how many trailing bytes stay with the gateway until the
	// verdict (default 1 MiB); see docs/serve.md.
	HoldBack int `yaml:"hold_back"`
}

// UploadTypes are the sniffed type names AllowedTypes may list.
var UploadTypes = []string{"model", "text", "image", "data", "archive", "other", "executable"}

const defaultGateBytes = 20 << 30

func (c *Config) datagateDefaults() {
	r := &c.Registration
	if r.Mode == "" {
		r.Mode = GateDeny
	}
	if r.MaxBytes == 0 {
		r.MaxBytes = defaultGateBytes
	}
	if r.MaxFiles == 0 {
		r.MaxFiles = 10_000
	}
	if r.Timeout == 0 {
		r.Timeout = 30 * time.Minute
	}
	u := &c.Uploads
	if u.Mode == "" {
		u.Mode = GateDeny
	}
	if u.MaxBytes == 0 {
		u.MaxBytes = defaultGateBytes
	}
	if u.AllowedTypes == nil {
		u.AllowedTypes = []string{"model", "text", "image", "data", "archive", "other"}
	}
	if u.Multipart == "" {
		u.Multipart = GateDeny
	}
	if u.HoldBack == 0 {
		u.HoldBack = 1 << 20
	}
}

func (c *Config) datagateValidate(bad func(string, ...any)) {
	r := c.Registration
	switch r.Mode {
	case GateDeny, GateQuarantine, GateOff:
	default:
		bad("registration.mode: %q is not deny, quarantine or off", r.Mode)
	}
	if r.MaxBytes < 0 || r.MaxFiles < 0 || r.Timeout < 0 {
		bad("registration: max_bytes, max_files and timeout must be positive")
	}
	if r.MaxFiles > approval.MaxManifestFiles {
		bad("registration.max_files: %d is over the limit of %d files a version's manifest records", r.MaxFiles, approval.MaxManifestFiles)
	}
	checkDir := func(key, d string) {
		if d == "" {
			return
		}
		if st, err := os.Stat(d); err != nil || !st.IsDir() {
			bad("%s: %q is not a directory", key, d)
		}
	}
	checkDir("registration.spool_dir", r.SpoolDir)
	u := c.Uploads
	switch u.Mode {
	case GateDeny, GateLogOnly, GateOff:
	default:
		bad("uploads.mode: %q is not deny, log-only or off", u.Mode)
	}
	if u.MaxBytes < 0 {
		bad("uploads.max_bytes: negative")
	}
	for i, t := range u.AllowedTypes {
		ok := false
		for _, k := range UploadTypes {
			ok = ok || k == t
		}
		if !ok {
			bad("uploads.allowed_types[%d]: %q is not one of %v", i, t, UploadTypes)
		}
	}
	switch u.Multipart {
	case GateDeny, "allow-unscanned":
	default:
		bad("uploads.multipart: %q is not deny or allow-unscanned", u.Multipart)
	}
	if u.HoldBack < 0 || u.HoldBack > 64<<20 {
		bad("uploads.hold_back: %d is outside [1, 64 MiB]", u.HoldBack)
	}
	checkDir("uploads.spool_dir", u.SpoolDir)
}

// Registration is the registration gate's configuration (defaults filled).
func (e *Engine) Registration() RegistrationConfig { return e.cfg.Registration }

// Uploads is the upload scanning configuration (defaults filled).
func (e *Engine) Uploads() UploadsConfig { return e.cfg.Uploads }

// UploadTypeAllowed reports whether a sniffed type may be uploaded.
func (u UploadsConfig) UploadTypeAllowed(t string) bool {
	for _, a := range u.AllowedTypes {
		if a == t {
			return true
		}
	}
	return false
}
