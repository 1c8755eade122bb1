package policy

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"
)

// MaxSignedTTL is the longest a signed artifact link lives (MLG305).
const MaxSignedTTL = time.Hour

// Query parameters of a signed link.
const (
	ParamExpires   = "mlg_exp"
	ParamSignature = "mlg_sig"
)

// ErrBadSignature covers every failed verification; callers need not
// (and must not tell the client) which part failed.
var ErrBadSignature = errors.New("signed URL invalid or expired")

// Signer makes and checks HMAC-SHA256 artifact download links bound to a
// user, a path and an expiry.
type Signer struct {
	key []byte
	ttl time.Duration
	now func() time.Time
}

// NewSigner takes a key of at least 32 random bytes.
func NewSigner(key []byte, ttl time.Duration, now func() time.Time) (*Signer, error) {
	if len(key) < 32 {
		return nil, fmt.Errorf("signed URL key: %d bytes, need at least 32", len(key))
	}
	if ttl <= 0 || ttl > MaxSignedTTL {
		return nil, fmt.Errorf("signed URL ttl %s: must be in (0, %s]", ttl, MaxSignedTTL)
	}
	if now == nil {
		now = time.Now
	}
	return &Signer{key: append([]byte(nil), key...), ttl: ttl, now: now}, nil
}

// mac binds the fields length-prefixed, so no two (user, path) pairs
// share an encoding ("a"+"b/c" vs "a/b"+"c").
func (s *Signer) mac(user, path string, exp int64) []byte {
	h := hmac.New(sha256.New, s.key)
	var n [8]byte
	h.Write([]byte("mlflow-guard signed artifact v1"))
	for _, f := range []string{user, path} {
		binary.BigEndian.PutUint64(n[:], uint64(len(f)))
		h.Write(n[:])
		h.Write([]byte(f))
	}
	binary.BigEndian.PutUint64(n[:], uint64(exp))
	h.Write(n[:])
	return h.Sum(nil)
}

// Sign returns the query parameters that let user download path until
// now+ttl (the signer's TTL).
func (s *Signer) Sign(user, path string) url.Values {
	exp := s.now().Add(s.ttl).Unix()
	return url.Values{
		ParamExpires:   {strconv.FormatInt(exp, 10)},
		ParamSignature: {base64.RawURLEncoding.EncodeToString(s.mac(user, path, exp))},
	}
}

// Verify checks a link for user and path. It refuses an expired link and
// one whose expiry lies further ahead than MaxSignedTTL (a link signed by
// a misconfigured or older signer does not outlive the rule).
func (s *Signer) Verify(user, path string, q url.Values) error {
	if len(q[ParamExpires]) != 1 || len(q[ParamSignature]) != 1 {
		return ErrBadSignature
	}
	exp, err := strconv.ParseInt(q.Get(ParamExpires), 10, 64)
	if err != nil {
		return ErrBadSignature
	}
	sig, err := base64.RawURLEncoding.DecodeString(q.Get(ParamSignature))
	if err != nil {
		return ErrBadSignature
	}
	// Compare first, in constant time, so timing says nothing about
	// which check failed.
	ok := hmac.Equal(sig, s.mac(user, path, exp))
	now := s.now().Unix()
	if !ok || exp <= now || exp-now > int64(MaxSignedTTL/time.Second) {
		return ErrBadSignature
	}
	return nil
}
