package secrets

import "testing"

// TestURLTokensAndDocExamples: webhook URLs are secrets under any key; AWS's
// documentation example keys come back by no path (value rule, key rule or
// high entropy).
func TestURLTokensAndDocExamples(t *testing.T) {
	d := New()
	hook := "https://hooks.slack.com/services/" + "T0ABCDEF1/B0ABCDEF2/Zq3Vb8Xn1Lw5Kd7Mf2Hs9Jt4"
	for _, key := range []string{"", "notify_url", "SLACK_WEBHOOK_URL"} {
		if _, ok := d.Check(key, hook); !ok {
			t.Errorf("Check(%q, slack webhook) = false, want true", key)
		}
	}
	if red := d.RedactAll("post to " + hook); red == "post to "+hook {
		t.Errorf("RedactAll left the webhook token: %q", red)
	}
	examples := map[string]string{
		"aws_access_key_id":     "AKIAIOSFODNN7EXAMPLE",
		"AWS_SECRET_ACCESS_KEY": "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"secret":                "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
		"token":                 "AKIAIOSFODNN7EXAMPLE",
	}
	for k, v := range examples {
		if reason, ok := d.Check(k, v); ok {
			t.Errorf("Check(%q, AWS documentation example) = %q, want no secret", k, reason)
		}
		if m := d.FindInValue(k + "=" + v); len(m) != 0 {
			t.Errorf("FindInValue(%q=AWS documentation example) = %v, want none", k, m)
		}
	}
	// a near-miss of the example is not the example
	if _, ok := d.Check("aws_secret_access_key", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY"); !ok {
		t.Error("a key that only ends like the documentation example is no longer reported")
	}
	// a real-looking key under the same names is still reported
	if _, ok := d.Check("aws_access_key_id", "AKIA"+"UJZDEGXDNCF32EPF"); !ok {
		t.Error("a non-example access key ID is no longer reported")
	}
}
