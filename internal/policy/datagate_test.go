package policy

import (
	"strings"
	"testing"
	"time"
)

func TestDataGateConfig(t *testing.T) {
	c, err := ParseConfig([]byte("registration:\n  mode: quarantine\n  timeout: 5m\nuploads:\n  mode: log-only\n  max_bytes: 1048576\n  allowed_types: [model, text]\n  multipart: allow-unscanned\n"), "p.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if c.Registration.Mode != GateQuarantine || c.Registration.Timeout != 5*time.Minute || c.Registration.MaxFiles != 10_000 ||
		c.Uploads.Mode != GateLogOnly || c.Uploads.MaxBytes != 1<<20 || c.Uploads.UploadTypeAllowed("image") || !c.Uploads.UploadTypeAllowed("text") ||
		c.Uploads.Multipart != "allow-unscanned" || c.Uploads.HoldBack != 1<<20 {
		t.Errorf("parsed: %+v %+v", c.Registration, c.Uploads)
	}
	// The defaults: deny everywhere, everything but executables.
	d, err := ParseConfig(nil, "empty.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if d.Registration.Mode != GateDeny || d.Uploads.Mode != GateDeny || d.Uploads.Multipart != GateDeny ||
		d.Uploads.UploadTypeAllowed("executable") || !d.Uploads.UploadTypeAllowed("other") {
		t.Errorf("defaults: %+v %+v", d.Registration, d.Uploads)
	}
	_, err = ParseConfig([]byte("registration:\n  mode: maybe\n  max_files: 100001\n  spool_dir: /no/such/dir\nuploads:\n  mode: redact\n  allowed_types: [movie]\n  multipart: sometimes\n  hold_back: -1\n"), "bad.yaml")
	for _, want := range []string{"bad.yaml", "registration.mode", "registration.max_files", "registration.spool_dir", "uploads.mode", "allowed_types[0]", "uploads.multipart", "uploads.hold_back"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("want %q in %v", want, err)
		}
	}
}
