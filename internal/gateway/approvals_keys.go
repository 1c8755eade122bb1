package gateway

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
)

// Key files in --data-dir. The private key is created on first start;
// the ring holds the public keys of earlier signing keys, kept so that
// verifiers still accept records signed before a rotation.
const (
	SigningKeyFile = "approval-key.pem"
	KeyRingFile    = "approval-keyring.pem"
)

// SigningKeys is the gateway's approval signing key and the older public
// keys it still publishes.
type SigningKeys struct {
	Private ed25519.PrivateKey
	Ring    []ed25519.PublicKey
}

// Public is the current public key.
func (k *SigningKeys) Public() ed25519.PublicKey { return k.Private.Public().(ed25519.PublicKey) }

// Trusted is the current key followed by the ring, as verifiers get it.
func (k *SigningKeys) Trusted() []ed25519.PublicKey {
	return append([]ed25519.PublicKey{k.Public()}, k.Ring...)
}

// PublicPEM is Trusted as PEM blocks, current key first.
func (k *SigningKeys) PublicPEM() ([]byte, error) {
	var b bytes.Buffer
	for _, p := range k.Trusted() {
		pb, err := approval.MarshalPublicKey(p)
		if err != nil {
			return nil, err
		}
		b.Write(pb)
	}
	return b.Bytes(), nil
}

// LoadSigningKeys reads the signing key from keyFile, or from dataDir
// where it is generated (mode 0600) when absent. ringFile (or the ring in
// dataDir, when present) adds retired public keys. Several replicas on one
// database must share one key, so with no dataDir a keyFile is required.
func LoadSigningKeys(keyFile, ringFile, dataDir string, log *slog.Logger) (*SigningKeys, error) {
	k := &SigningKeys{}
	switch {
	case keyFile != "":
		data, err := os.ReadFile(keyFile)
		if err != nil {
			return nil, fmt.Errorf("--signing-key: %w", err)
		}
		if k.Private, err = approval.ParsePrivateKey(data); err != nil {
			return nil, fmt.Errorf("--signing-key %s: %w", keyFile, err)
		}
		if fi, err := os.Stat(keyFile); err == nil && fi.Mode().Perm()&0o077 != 0 && log != nil {
			log.Warn("approval signing key file is readable by others; chmod 600 it", "file", keyFile)
		}
	case dataDir != "":
		p := filepath.Join(dataDir, SigningKeyFile)
		data, err := os.ReadFile(p)
		switch {
		case err == nil:
			if k.Private, err = approval.ParsePrivateKey(data); err != nil {
				return nil, fmt.Errorf("signing key %s: %w", p, err)
			}
		case errors.Is(err, fs.ErrNotExist):
			if k.Private, err = createSigningKey(p); err != nil {
				return nil, err
			}
			if log != nil {
				log.Info("generated the approval signing key", "file", p, "fingerprint", approval.Fingerprint(k.Public()))
			}
		default:
			return nil, fmt.Errorf("signing key %s: %w", p, err)
		}
		if ringFile == "" {
			if _, err := os.Stat(filepath.Join(dataDir, KeyRingFile)); err == nil {
				ringFile = filepath.Join(dataDir, KeyRingFile)
			}
		}
	default:
		return nil, errors.New("give --signing-key FILE: replicas sharing --database-url must sign with one key")
	}
	if ringFile != "" {
		data, err := os.ReadFile(ringFile)
		if err != nil {
			return nil, fmt.Errorf("key ring: %w", err)
		}
		if k.Ring, err = approval.ParsePublicKeys(data); err != nil {
			return nil, fmt.Errorf("key ring %s: %w", ringFile, err)
		}
	}
	if log != nil {
		log.Info("approval signing key", "fingerprint", approval.Fingerprint(k.Public()), "retired_keys", len(k.Ring))
	}
	return k, nil
}

// createSigningKey writes a new key with O_EXCL, so two processes starting
// on one data dir never overwrite each other's key.
func createSigningKey(p string) (ed25519.PrivateKey, error) {
	priv, err := approval.GenerateKey(nil)
	if err != nil {
		return nil, err
	}
	pemBytes, err := approval.MarshalPrivateKey(priv)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", p, err)
	}
	f, err := os.OpenFile(p, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, fmt.Errorf("signing key %s: %w", p, err)
	}
	if _, err := f.Write(pemBytes); err != nil {
		f.Close()
		os.Remove(p)
		return nil, fmt.Errorf("signing key %s: %w", p, err)
	}
	if err := f.Close(); err != nil {
		return nil, fmt.Errorf("signing key %s: %w", p, err)
	}
	return priv, nil
}

// RotateSigningKey moves the current key's public half into the ring in
// dataDir, deletes the old private key and generates a new one. Restart
// serve to use it.
func RotateSigningKey(dataDir string) (old, cur string, err error) {
	p := filepath.Join(dataDir, SigningKeyFile)
	data, err := os.ReadFile(p)
	if err != nil {
		return "", "", fmt.Errorf("signing key %s: %w", p, err)
	}
	priv, err := approval.ParsePrivateKey(data)
	if err != nil {
		return "", "", fmt.Errorf("signing key %s: %w", p, err)
	}
	pub := priv.Public().(ed25519.PublicKey)
	pb, err := approval.MarshalPublicKey(pub)
	if err != nil {
		return "", "", err
	}
	rp := filepath.Join(dataDir, KeyRingFile)
	f, err := os.OpenFile(rp, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o644)
	if err != nil {
		return "", "", fmt.Errorf("key ring %s: %w", rp, err)
	}
	if _, err := f.Write(pb); err != nil {
		f.Close()
		return "", "", fmt.Errorf("key ring %s: %w", rp, err)
	}
	if err := f.Close(); err != nil {
		return "", "", fmt.Errorf("key ring %s: %w", rp, err)
	}
	// The retired private key is deleted: only its public half is still
	// needed, and a key that no longer signs should not be lying around.
	if err := os.Remove(p); err != nil {
		return "", "", fmt.Errorf("signing key %s: %w", p, err)
	}
	npriv, err := createSigningKey(p)
	if err != nil {
		return "", "", err
	}
	return approval.Fingerprint(pub), approval.Fingerprint(npriv.Public().(ed25519.PublicKey)), nil
}
