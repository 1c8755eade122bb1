package approval

import (
	"crypto/ed25519"
	"errors"
	"strings"
	"testing"
	"time"
)

func testRecord(now time.Time) Record {
	return Record{V: 1, Model: "m", Version: "3", Digest: "sha256:" + strings.Repeat("ab", 32), Verdict: VerdictPass,
		Target: "alias:champion", Requester: "alice", Approver: "bob",
		RequestedAt: now.Add(-time.Hour), ApprovedAt: now, ExpiresAt: now.Add(24 * time.Hour)}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	key, err := GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	v, err := Encode(testRecord(now), key)
	if err != nil {
		t.Fatal(err)
	}
	pub := key.Public().(ed25519.PublicKey)
	r, err := Decode(v, []ed25519.PublicKey{pub})
	if err != nil {
		t.Fatal(err)
	}
	if r.KeyID != Fingerprint(pub) || r.Approver != "bob" || !r.ExpiresAt.Equal(now.Add(24*time.Hour)) {
		t.Fatalf("round trip lost fields: %+v", r)
	}
	if err := r.Check(now); err != nil {
		t.Fatalf("valid record refused: %v", err)
	}
	// Another key, a flipped payload byte, a swapped signature: all refused.
	other, _ := GenerateKey(nil)
	if _, err := Decode(v, []ed25519.PublicKey{other.Public().(ed25519.PublicKey)}); !errors.Is(err, ErrBadSignature) {
		t.Fatalf("foreign key accepted: %v", err)
	}
	p, s, _ := strings.Cut(v, ".")
	forged, _ := Encode(Record{V: 1, Model: "m", Version: "4"}, other)
	_, fs, _ := strings.Cut(forged, ".")
	for _, bad := range []string{p + "." + fs, p[:len(p)-2] + "AA." + s, p, "", "a.b.c"} {
		if _, err := Decode(bad, []ed25519.PublicKey{pub}); err == nil {
			t.Errorf("tampered value %q accepted", bad)
		}
	}
	// Key rotation: a ring with the old key still verifies.
	if _, err := Decode(v, []ed25519.PublicKey{other.Public().(ed25519.PublicKey), pub}); err != nil {
		t.Fatalf("key ring refused a record of its second key: %v", err)
	}
}

func TestCheck(t *testing.T) {
	now := time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)
	cases := map[string]func(*Record){
		"self-approved":       func(r *Record) { r.Approver = "ALICE" },
		"no approver":         func(r *Record) { r.Approver = "" },
		"quarantined verdict": func(r *Record) { r.Verdict = VerdictQuarantined },
		"expired":             func(r *Record) { r.ExpiresAt = now },
		"promoted too late":   func(r *Record) { r.PromotedAt = r.ExpiresAt.Add(time.Second) },
		"bad digest":          func(r *Record) { r.Digest = "md5:00" },
		"future version":      func(r *Record) { r.V = 2 },
	}
	for name, mutate := range cases {
		r := testRecord(now)
		mutate(&r)
		if err := r.Check(now); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
	r := testRecord(now)
	r.PromotedAt = now.Add(time.Hour)
	if err := r.Check(now.Add(90 * 24 * time.Hour)); err != nil {
		t.Errorf("a promotion inside its window must stay valid after the window: %v", err)
	}
}

func TestKeyPEMRoundTrip(t *testing.T) {
	key, _ := GenerateKey(nil)
	privPEM, err := MarshalPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	back, err := ParsePrivateKey(privPEM)
	if err != nil || !back.Equal(key) {
		t.Fatalf("private key round trip: %v", err)
	}
	pubPEM, _ := MarshalPublicKey(key.Public().(ed25519.PublicKey))
	other, _ := GenerateKey(nil)
	otherPEM, _ := MarshalPublicKey(other.Public().(ed25519.PublicKey))
	ring, err := ParsePublicKeys(append(pubPEM, otherPEM...))
	if err != nil || len(ring) != 2 {
		t.Fatalf("key ring: %d keys, %v", len(ring), err)
	}
	if _, err := ParsePublicKeys(privPEM); err == nil {
		t.Fatal("a private key block was read as a public key ring")
	}
}

func TestIsReserved(t *testing.T) {
	for key, want := range map[string]bool{"mlflow-guard.approval": true, "MLFLOW-GUARD.x": true, "mlflow-guard": false, "mlflow.user": false, "x.mlflow-guard.y": false} {
		if IsReserved(key) != want {
			t.Errorf("IsReserved(%q) = %v", key, !want)
		}
	}
}
