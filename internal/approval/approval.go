// Package approval is the signed four-eyes approval record that the gateway
// writes as a model-version tag and that `audit` and `pull` verify. A record
// is only as good as its signature: tags alone can be written by anyone with
// EDIT on a model, or straight into MLflow's database, so every reader must
// call Verify with the gateway's public key before trusting a field.
package approval

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
)

// Tag keys in the reserved namespace. Only the gateway writes them; a
// client's attempt to set or delete any key with Namespace as prefix
// (compared case-insensitively) is denied.
const (
	Namespace = "mlflow-guard."
	// TagManifest holds the version's manifest in the `digest` format
	// (model.WriteManifest: "<sha256>  <path>" lines).
	TagManifest = "mlflow-guard.manifest"
	// TagDigest holds ManifestDigest of TagManifest: "sha256:<hex>".
	TagDigest = "mlflow-guard.digest"
	// TagVerdict is the registration gate's verdict: one of the Verdict values.
	TagVerdict = "mlflow-guard.verdict"
	// TagFindings is a short, redacted summary of the gate's findings.
	TagFindings = "mlflow-guard.findings"
	// TagApproval holds the signed record (Encode's output).
	TagApproval = "mlflow-guard.approval"
)

// Verdicts of the registration gate.
const (
	VerdictPass        = "pass"        // no strict finding
	VerdictQuarantined = "quarantined" // strict findings, kept by policy, never approvable
)

// IsReserved reports whether a tag key is in the gateway's namespace.
func IsReserved(key string) bool {
	return len(key) >= len(Namespace) && strings.EqualFold(key[:len(Namespace)], Namespace)
}

// Record is one approval. Times are UTC, second precision.
type Record struct {
	V           int       `json:"v"` // format version, 1
	Model       string    `json:"model"`
	Version     string    `json:"version"`
	Digest      string    `json:"digest"`  // "sha256:<hex>" of the manifest approved
	Verdict     string    `json:"verdict"` // registration-gate verdict at approval time
	Target      string    `json:"target"`  // "alias:champion" or "stage:Production"
	Requester   string    `json:"requester"`
	Approver    string    `json:"approver"`
	RequestedAt time.Time `json:"requested_at"`
	ApprovedAt  time.Time `json:"approved_at"`
	// ExpiresAt is the deadline for the promotion this record approves.
	ExpiresAt time.Time `json:"expires_at"`
	// PromotedAt is set (and the record signed again) when the promotion
	// consumed the approval; zero while it is pending.
	PromotedAt time.Time `json:"promoted_at,omitzero"`
	KeyID      string    `json:"key_id"` // Fingerprint of the signing key
}

// Check is what every consumer asks of a verified record: four eyes, a clean
// verdict, and either a promotion inside the window or a window still open.
func (r Record) Check(now time.Time) error {
	switch {
	case r.V != 1:
		return fmt.Errorf("approval record version %d is not supported", r.V)
	case r.Requester == "" || r.Approver == "":
		return errors.New("approval record lacks requester or approver")
	case strings.EqualFold(r.Requester, r.Approver):
		return fmt.Errorf("approval record was approved by its own requester %q", r.Requester)
	case r.Verdict != VerdictPass:
		return fmt.Errorf("approval record is bound to registration verdict %q, not %q", r.Verdict, VerdictPass)
	case !strings.HasPrefix(r.Digest, "sha256:") || len(r.Digest) != len("sha256:")+64:
		return fmt.Errorf("approval record digest %q is not a sha256 digest", r.Digest)
	case !r.PromotedAt.IsZero() && r.PromotedAt.After(r.ExpiresAt):
		return fmt.Errorf("approval record was consumed at %s, after it expired at %s", r.PromotedAt.Format(time.RFC3339), r.ExpiresAt.Format(time.RFC3339))
	case r.PromotedAt.IsZero() && !now.Before(r.ExpiresAt):
		return fmt.Errorf("approval expired at %s", r.ExpiresAt.Format(time.RFC3339))
	}
	return nil
}

// encoding is base64url without padding, as in JWS compact form.
var encoding = base64.RawURLEncoding

// Encode signs r and returns the tag value "<payload>.<signature>", both
// base64url. The signature covers the exact payload bytes.
func Encode(r Record, key ed25519.PrivateKey) (string, error) {
	r.KeyID = Fingerprint(key.Public().(ed25519.PublicKey))
	payload, err := json.Marshal(r)
	if err != nil {
		return "", fmt.Errorf("approval record: %w", err)
	}
	sig := ed25519.Sign(key, payload)
	return encoding.EncodeToString(payload) + "." + encoding.EncodeToString(sig), nil
}

// ErrBadSignature is returned when no trusted key signed the record.
var ErrBadSignature = errors.New("approval record signature does not verify with any trusted key")

// Decode verifies value against the trusted keys (several during a key
// rotation) and returns the record. It does not call Check.
func Decode(value string, trusted []ed25519.PublicKey) (Record, error) {
	var r Record
	p, s, ok := strings.Cut(strings.TrimSpace(value), ".")
	if !ok {
		return r, errors.New("approval record is not <payload>.<signature>")
	}
	payload, err := encoding.DecodeString(p)
	if err != nil {
		return r, fmt.Errorf("approval record payload: %w", err)
	}
	sig, err := encoding.DecodeString(s)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return r, errors.New("approval record signature is malformed")
	}
	verified := false
	for _, k := range trusted {
		if len(k) == ed25519.PublicKeySize && ed25519.Verify(k, payload, sig) {
			verified = true
			break
		}
	}
	if !verified {
		return r, ErrBadSignature
	}
	dec := json.NewDecoder(strings.NewReader(string(payload)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("approval record payload: %w", err)
	}
	return r, nil
}

// Fingerprint names a public key as "SHA256:<base64 of its SHA-256>", the
// form ssh-keygen prints, so operators can compare it by eye.
func Fingerprint(pub ed25519.PublicKey) string {
	sum := sha256.Sum256(pub)
	return "SHA256:" + base64.RawStdEncoding.EncodeToString(sum[:])
}

// GenerateKey returns a new signing key from rnd (crypto/rand when nil).
func GenerateKey(rnd io.Reader) (ed25519.PrivateKey, error) {
	if rnd == nil {
		rnd = rand.Reader
	}
	_, priv, err := ed25519.GenerateKey(rnd)
	return priv, err
}

// MarshalPrivateKey is PEM "PRIVATE KEY" (PKCS #8), as openssl writes it.
func MarshalPrivateKey(k ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), nil
}

// MarshalPublicKey is PEM "PUBLIC KEY" (PKIX), as openssl writes it.
func MarshalPublicKey(k ed25519.PublicKey) ([]byte, error) {
	der, err := x509.MarshalPKIXPublicKey(k)
	if err != nil {
		return nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), nil
}

// ParsePrivateKey reads MarshalPrivateKey's output (or openssl genpkey -algorithm ed25519).
func ParsePrivateKey(data []byte) (ed25519.PrivateKey, error) {
	b, _ := pem.Decode(data)
	if b == nil || b.Type != "PRIVATE KEY" {
		return nil, errors.New("not a PEM \"PRIVATE KEY\" block")
	}
	k, err := x509.ParsePKCS8PrivateKey(b.Bytes)
	if err != nil {
		return nil, err
	}
	ek, ok := k.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("key is %T, want Ed25519", k)
	}
	return ek, nil
}

// ParsePublicKeys reads one or more PEM "PUBLIC KEY" blocks (a key ring
// during rotation).
func ParsePublicKeys(data []byte) ([]ed25519.PublicKey, error) {
	var out []ed25519.PublicKey
	for {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			break
		}
		if b.Type != "PUBLIC KEY" {
			continue
		}
		k, err := x509.ParsePKIXPublicKey(b.Bytes)
		if err != nil {
			return nil, err
		}
		ek, ok := k.(ed25519.PublicKey)
		if !ok {
			return nil, fmt.Errorf("key is %T, want Ed25519", k)
		}
		out = append(out, ek)
	}
	if len(out) == 0 {
		return nil, errors.New("no PEM \"PUBLIC KEY\" block")
	}
	return out, nil
}
