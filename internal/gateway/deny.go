package gateway

import (
	"encoding/json"
	"net/http"
	"strings"
)

// Denial is why a request is refused. Rules name the catalog entry whose
// run-time enforcement refused it.
type Denial struct {
	Status int
	Code   string // MLflow error_code
	Rule   string
	Reason string // short token for the header and the audit log
	Msg    string
}

// Denials, one per reason.
func denyUnauthenticated(msg string) *Denial {
	return &Denial{http.StatusUnauthorized, "UNAUTHENTICATED", "MLG401", "unauthenticated", msg}
}
func denyForbidden(reason, msg string) *Denial {
	return &Denial{http.StatusForbidden, "PERMISSION_DENIED", "MLG401", reason, msg}
}
func denyHygiene(status int, reason, msg string) *Denial {
	rule := "MLG408"
	if status == http.StatusTooManyRequests || status == http.StatusRequestEntityTooLarge {
		rule = "MLG409"
	}
	code := "PERMISSION_DENIED"
	if status == http.StatusRequestEntityTooLarge {
		code = "INVALID_PARAMETER_VALUE"
	}
	if status == http.StatusTooManyRequests {
		code = "REQUEST_LIMIT_EXCEEDED"
	}
	return &Denial{status, code, rule, reason, msg}
}
func denyUnavailable(reason, msg string) *Denial {
	return &Denial{http.StatusServiceUnavailable, "PERMISSION_DENIED", "MLG401", reason, msg}
}

// write answers with MLflow's error JSON and the decision header; never a
// redirect.
func (d *Denial) write(w http.ResponseWriter) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Mlflow-Guard-Decision", "deny; rule="+d.Rule+"; reason="+d.Reason)
	if d.Status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", `Basic realm="mlflow-guard", charset="UTF-8"`)
		h.Add("WWW-Authenticate", `Bearer realm="mlflow-guard"`)
	}
	w.WriteHeader(d.Status)
	msg := strings.ToValidUTF8(d.Msg, "?")
	_ = json.NewEncoder(w).Encode(map[string]string{"error_code": d.Code, "message": msg, "rule_id": d.Rule})
}
