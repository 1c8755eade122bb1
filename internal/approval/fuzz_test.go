package approval

import (
	"crypto/ed25519"
	"testing"
	"time"
)

// FuzzDecode: no input panics, and nothing but a real signature verifies.
func FuzzDecode(f *testing.F) {
	key, _ := GenerateKey(nil)
	good, _ := Encode(testRecord(time.Now()), key)
	for _, s := range []string{good, "", ".", "a.b", good + "x", "eyJ2IjoxfQ.AAAA"} {
		f.Add(s)
	}
	pub := key.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, v string) {
		r, err := Decode(v, []ed25519.PublicKey{pub})
		if err == nil && v != good && r.V == 0 && r.Model == "" {
			// A verifying value must carry a real payload signed by key.
			t.Fatalf("empty record verified: %q", v)
		}
	})
}
