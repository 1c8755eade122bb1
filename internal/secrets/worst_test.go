package secrets

import (
	"strings"
	"testing"
	"time"
)

// Adversarial inputs must stay roughly linear: the gateway runs RedactAll on
// request and response bodies of arbitrary size.
func TestWorstCaseLinear(t *testing.T) {
	d := New()
	const n = 1 << 18 // 256 KiB
	inputs := map[string]string{
		"colons":      strings.Repeat("key:", n/4),
		"equals":      strings.Repeat("password=", n/9),
		"key-colon-a": "token:" + strings.Repeat("a:", n/2),
		"aws":         strings.Repeat("aws_secret_key ", n/15),
		"pem":         "-----BEGIN PRIVATE KEY-----" + strings.Repeat("QUJD", n/4),
		"pem-many":    strings.Repeat("-----BEGIN RSA PRIVATE KEY-----\n", n/32),
		"url":         strings.Repeat("http://u:p@", n/11),
		"url-long":    "http://u:" + strings.Repeat("p", n) + "@h",
		"jwt":         strings.Repeat("eyJhbGciOiJIUzI1NiJ9.", n/22),
		"bearer":      strings.Repeat("bearer ", n/7),
		"sk":          strings.Repeat("sk-", n/3),
		"value-run":   "secret=" + strings.Repeat("Ab1", n/3),
	}
	for name, s := range inputs {
		start := time.Now()
		d.RedactAll(s)
		if el := time.Since(start); el > 3*time.Second {
			t.Errorf("%s: RedactAll on %d bytes took %v", name, len(s), el)
		} else {
			t.Logf("%s: %v", name, el)
		}
	}
}
