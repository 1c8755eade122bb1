package gateway

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/policy"
)

// policyReasons names a policy denial in the decision header and the
// audit log: a short token per rule, never the policy's sentence (which
// may quote a key).
var policyReasons = map[string]string{
	policy.RuleSecret:    "secret",
	policy.RuleUntrusted: "input-bounds",
	policy.RuleLocation:  "artifact-location",
	policy.RuleTraversal: "artifact-path",
	policy.RulePublic:    "insecure-location",
	policy.RuleMalformed: "ambiguous-request",
}

// applyPolicy runs the request policies on exactly what will be
// forwarded: st.body for API routes (after the gateway's own rewrites),
// nothing for streamed routes (their path checks still apply). A rewrite
// replaces st.body. Anything but a clean allow or rewrite denies.
func (g *Gateway) applyPolicy(ctx context.Context, r *http.Request, st *reqState, needs []need) (d *Denial) {
	if g.policy == nil {
		return nil
	}
	if len(r.Header.Values("Content-Type")) > 1 {
		return denyForbidden("ambiguous-request", "more than one Content-Type header")
	}
	req := &policy.Request{
		Method: r.Method, Path: r.URL.EscapedPath(), RawQuery: r.URL.RawQuery,
		ContentType: r.Header.Get("Content-Type"),
		Principal:   policy.Principal{Name: st.identity.User.Name, Groups: st.identity.User.Groups, Admin: st.identity.User.Admin},
		Parsed:      st.parsed, // used only while st.body is the bytes it was read from
	}
	if st.route.Class == ClassAPI {
		req.Body = st.body
		if req.Body == nil {
			req.Body = []byte{}
		}
	}
	if len(needs) > 0 {
		req.Resource = policy.Resource{Kind: string(needs[0].kind), ID: needs[0].id}
		if needs[0].kind == KindExperiment {
			req.Resource.ExperimentID = needs[0].id
		}
	}
	defer func() {
		// A policy that panics has not judged the request: fail closed.
		if p := recover(); p != nil {
			g.log.Error("policy panicked", "request_id", st.id, "panic", fmt.Sprint(p))
			d = policyDenial(policy.RuleMalformed, "policy-error", "the request policies failed on this request; denied")
		}
	}()
	dec := g.policy.Decide(ctx, req)
	st.findings = formatFindings(dec.Findings)
	switch dec.Action {
	case policy.Allow:
		return nil
	case policy.Rewrite:
		if st.route.Class != ClassAPI || dec.Body == nil {
			return policyDenial(policy.RuleMalformed, "policy-error", "a policy rewrote a request whose body the gateway does not buffer; denied")
		}
		st.body = dec.Body
		return nil
	case policy.Deny:
		rule := dec.Rule
		if rule == "" {
			rule = policy.RuleMalformed
		}
		reason := policyReasons[rule]
		for _, f := range dec.Findings {
			if strings.HasPrefix(f.Detector, "custom:") {
				reason = "custom-policy"
			}
		}
		if reason == "" {
			reason = "policy"
		}
		return policyDenial(rule, reason, rule+": "+dec.Reason)
	}
	return policyDenial(policy.RuleMalformed, "policy-error", "the request policies gave no usable answer; denied")
}

func policyDenial(rule, reason, msg string) *Denial {
	return &Denial{Status: http.StatusForbidden, Code: "PERMISSION_DENIED", Rule: rule, Reason: reason, Msg: msg}
}

// formatFindings renders findings for the audit log: rule, field, key and
// detector. The policy engine never puts a value in a finding.
func formatFindings(fs []policy.Finding) string {
	if len(fs) == 0 {
		return ""
	}
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		parts = append(parts, fmt.Sprintf("%s field=%s key=%q detector=%s mode=%s", f.Rule, f.Field, f.Key, f.Detector, f.Mode))
	}
	return truncate(strings.Join(parts, "; "), 1000)
}
