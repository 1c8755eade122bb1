package policy

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestSSRF(t *testing.T) {
	e := engine(t, Config{SSRF: SSRFConfig{AllowHosts: []string{"internal.corp"}, AllowCIDRs: []string{"10.9.0.0/16"}}})
	deny := []string{
		"http://169.254.169.254/latest/meta-data/", "http://[fd00:ec2::254]/", "http://metadata.google.internal/computeMetadata/v1/",
		"http://METADATA.GOOGLE.INTERNAL./", "http://127.0.0.1:5000/", "http://2130706433/", "http://0177.0.0.1/", "http://0x7f.1/",
		"http://127.1/", "http://0x7f000001/", "http://[::1]/", "http://[::ffff:127.0.0.1]/", "http://[::ffff:a9fe:a9fe]/",
		"http://[64:ff9b::a9fe:a9fe]/", "http://[2002:a9fe:a9fe::1]/", "http://10.0.0.1/", "http://192.168.1.1/", "http://172.16.0.1/",
		"http://100.64.0.1/", "http://0.0.0.0/", "http://[fe80::1%25eth0]/", "http://localhost/", "http://a.localhost/",
		"http://meta.example/", "http://v6meta.example/", "http://rebind.example/", "http://nxdomain.example/",
		"ftp://hooks.example.com/", "file:///etc/passwd", "http:///x", "http://user:pw@169.254.169.254/",
		"http://10.9.0.1.nip.example/",
	}
	for _, u := range deny {
		d := e.checkOutboundURL(context.Background(), u, FieldURL)
		if d.Action != Deny || d.Rule != RuleSSRF {
			t.Errorf("%s: %v", u, d.Action)
		}
		if strings.Contains(d.Reason, "pw@") {
			t.Errorf("%s: reason shows the password: %s", u, d.Reason)
		}
	}
	allow := []string{"https://hooks.example.com/x", "http://internal.corp:8080/hook", "http://10.9.1.2/hook", "http://93.184.215.14/"}
	for _, u := range allow {
		if d := e.checkOutboundURL(context.Background(), u, FieldURL); d.Action != Allow {
			t.Errorf("%s: %v %q", u, d.Action, d.Reason)
		}
	}
	// through the routes: webhooks (create, update), AI gateway api_base, http sources
	for _, r := range []*Request{
		jsonPost("/api/2.0/mlflow/webhooks", map[string]any{"name": "w", "url": "http://2130706433/"}),
		{Method: "PATCH", Path: "/api/2.0/mlflow/webhooks/wh-1", Body: []byte(`{"url":"http://[::ffff:169.254.169.254]/"}`)},
		jsonPost("/api/3.0/mlflow/gateway/secrets/update", map[string]any{"secret_id": "s", "auth_config": map[string]string{"api_base": "http://meta.example/v1"}}),
	} {
		if d := e.Decide(context.Background(), r); d.Action != Deny || d.Rule != RuleSSRF {
			t.Errorf("%s %s: %v %q", r.Method, r.Path, d.Action, d.Reason)
		}
	}
}

func TestLegacyIPv4(t *testing.T) {
	cases := map[string]string{"2130706433": "127.0.0.1", "0177.0.0.1": "127.0.0.1", "0x7f.1": "127.0.0.1", "127.1": "127.0.0.1",
		"10.1": "10.0.0.1", "0xa9.0xfe.0xa9.0xfe": "169.254.169.254", "169.254.43518": "169.254.169.254"}
	for in, want := range cases {
		a, ok := parseIPv4Legacy(in)
		if !ok || a.String() != want {
			t.Errorf("%s: %v %v, want %s", in, a, ok, want)
		}
	}
	for _, bad := range []string{"256.1.1.1", "1.2.3.4.5", "08.1.1.1", "example", "1..2", "4294967296"} {
		if a, ok := parseIPv4Legacy(bad); ok {
			t.Errorf("%s parsed as %v", bad, a)
		}
	}
}

func TestCustomCEL(t *testing.T) {
	e := engine(t, Config{Custom: []CustomRule{
		{Name: "release-group-registers", Reason: "only ml-release may register into fraud-model",
			DenyWhen: `request.route in ["model-versions/create", "registered-models/create"] && resource.model_name == "fraud-model" && !("ml-release" in principal.groups)`},
		{Name: "admins-delete-experiments", Rule: "MLG401",
			DenyWhen: `request.route == "experiments/delete" && !principal.admin`},
	}})
	mv := func(p Principal) *Request {
		r := jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "fraud-model", "source": "models:/m-1"})
		r.Principal = p
		return r
	}
	if d := e.Decide(context.Background(), mv(Principal{Name: "bob", Groups: []string{"ds"}})); d.Action != Deny || !strings.Contains(d.Reason, "ml-release") {
		t.Fatalf("bob registers: %v %q", d.Action, d.Reason)
	}
	if d := e.Decide(context.Background(), mv(Principal{Name: "ann", Groups: []string{"ml-release"}})); d.Action != Allow {
		t.Fatalf("ann registers: %v %q", d.Action, d.Reason)
	}
	other := jsonPost("/api/2.0/mlflow/model-versions/create", map[string]any{"name": "churn", "source": "models:/m-1"})
	other.Principal = Principal{Name: "bob"}
	if d := e.Decide(context.Background(), other); d.Action != Allow {
		t.Fatalf("other model: %v", d.Action)
	}
	del := jsonPost("/api/2.0/mlflow/experiments/delete", map[string]any{"experiment_id": "1"})
	del.Principal = Principal{Name: "bob"}
	if d := e.Decide(context.Background(), del); d.Action != Deny {
		t.Fatalf("non-admin delete: %v", d.Action)
	}
	del.Principal.Admin = true
	if d := e.Decide(context.Background(), del); d.Action != Allow {
		t.Fatalf("admin delete: %v", d.Action)
	}
	// A built-in denial stands whatever the custom rules say.
	bad := mv(Principal{Name: "ann", Groups: []string{"ml-release"}})
	bad.Body = []byte(`{"name":"fraud-model","source":"file:///etc/"}`)
	if d := e.Decide(context.Background(), bad); d.Action != Deny || d.Rule != RuleTraversal {
		t.Fatalf("built-in: %v %s", d.Action, d.Rule)
	}
}

func TestCELCostLimitAndCompile(t *testing.T) {
	e := engine(t, Config{Custom: []CustomRule{{Name: "expensive", CostLimit: 50,
		DenyWhen: `[1,2,3,4,5,6,7,8,9,10].all(x, [1,2,3,4,5,6,7,8,9,10].all(y, [1,2,3,4,5,6,7,8,9,10].all(z, x+y+z > 0))) && false`}}})
	d := e.Decide(context.Background(), jsonPost("/api/2.0/mlflow/experiments/delete", map[string]any{"experiment_id": "1"}))
	if d.Action != Deny || !strings.Contains(d.Reason, "could not be evaluated") {
		t.Fatalf("over the cost limit must deny: %v %q", d.Action, d.Reason)
	}
	for _, expr := range []string{`principal.name +`, `1 + 1`, `nosuchvar == 1`} {
		if _, err := New(Config{Custom: []CustomRule{{Name: "x", DenyWhen: expr}}}); err == nil {
			t.Errorf("%q compiled", expr)
		}
	}
}

func TestSignedURL(t *testing.T) {
	key := []byte("0123456789abcdef0123456789abcdef")
	now := time.Unix(1_800_000_000, 0)
	clock := func() time.Time { return now }
	s, err := NewSigner(key, 15*time.Minute, clock)
	if err != nil {
		t.Fatal(err)
	}
	q := s.Sign("alice", "1/abc/artifacts/model.pkl")
	if err := s.Verify("alice", "1/abc/artifacts/model.pkl", q); err != nil {
		t.Fatalf("valid link: %v", err)
	}
	tamper := func(f func(url.Values)) url.Values {
		c := url.Values{}
		for k, v := range q {
			c[k] = append([]string(nil), v...)
		}
		f(c)
		return c
	}
	bad := map[string]func() error{
		"other user":  func() error { return s.Verify("bob", "1/abc/artifacts/model.pkl", q) },
		"other path":  func() error { return s.Verify("alice", "1/abc/artifacts/other.pkl", q) },
		"split shift": func() error { return s.Verify("alice1/", "abc/artifacts/model.pkl", q) },
		"expiry moved": func() error {
			return s.Verify("alice", "1/abc/artifacts/model.pkl", tamper(func(c url.Values) { c.Set(ParamExpires, "1800000999") }))
		},
		"signature flipped": func() error {
			return s.Verify("alice", "1/abc/artifacts/model.pkl", tamper(func(c url.Values) {
				b := []byte(c.Get(ParamSignature))
				b[3] ^= 1
				c.Set(ParamSignature, string(b))
			}))
		},
		"two signatures": func() error {
			return s.Verify("alice", "1/abc/artifacts/model.pkl", tamper(func(c url.Values) { c.Add(ParamSignature, "x") }))
		},
		"missing": func() error { return s.Verify("alice", "1/abc/artifacts/model.pkl", url.Values{}) },
		"other key": func() error {
			s2, _ := NewSigner([]byte("fedcba9876543210fedcba9876543210"), time.Minute, clock)
			return s2.Verify("alice", "1/abc/artifacts/model.pkl", q)
		},
	}
	for name, f := range bad {
		if err := f(); !errors.Is(err, ErrBadSignature) {
			t.Errorf("%s: %v", name, err)
		}
	}
	now = now.Add(15*time.Minute + time.Second)
	if err := s.Verify("alice", "1/abc/artifacts/model.pkl", q); !errors.Is(err, ErrBadSignature) {
		t.Errorf("expired link: %v", err)
	}
	// A correctly signed link valid for longer than an hour is refused.
	now = time.Unix(1_800_000_000, 0)
	long := &Signer{key: key, ttl: 2 * time.Hour, now: clock}
	if err := s.Verify("alice", "p", long.Sign("alice", "p")); !errors.Is(err, ErrBadSignature) {
		t.Errorf("2h link: %v", err)
	}
	if _, err := NewSigner(key, 2*time.Hour, clock); err == nil {
		t.Error("ttl over an hour accepted")
	}
	if _, err := NewSigner(key[:16], time.Minute, clock); err == nil {
		t.Error("short key accepted")
	}
}
