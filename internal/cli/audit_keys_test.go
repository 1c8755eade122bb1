package cli

import (
	"crypto/ed25519"
	"os"
	"path/filepath"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
	"github.com/mlflow-guard/mlflow-guard/internal/config"
)

// The config's approval.public_key is read relative to the config file;
// --public-key wins over it; a file without a key is an error.
func TestAuditKeys(t *testing.T) {
	dir := t.TempDir()
	k, _ := approval.GenerateKey(nil)
	pem, _ := approval.MarshalPublicKey(k.Public().(ed25519.PublicKey))
	if err := os.MkdirAll(filepath.Join(dir, "keys"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "keys", "gw.pem"), pem, 0o644); err != nil {
		t.Fatal(err)
	}
	cfgPath := filepath.Join(dir, ".mlflow-guard.yaml")
	if err := os.WriteFile(cfgPath, []byte("approval:\n  public_key: keys/gw.pem\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := auditKeys("", cfg)
	if err != nil || len(keys) != 1 || !keys[0].Equal(k.Public()) {
		t.Fatalf("from the config: %v, %v", keys, err)
	}
	bad := filepath.Join(dir, "bad.pem")
	_ = os.WriteFile(bad, []byte("no key here"), 0o644)
	if _, err := auditKeys(bad, cfg); err == nil {
		t.Error("--public-key without a key block was accepted")
	}
	if keys, err := auditKeys("", config.Default()); err != nil || keys != nil {
		t.Errorf("no key configured: %v, %v", keys, err)
	}
	if _, err := config.Parse("c.yaml", []byte("approval:\n  public_key: \"\"\n")); err == nil {
		t.Error("an empty approval.public_key was accepted")
	}
}
