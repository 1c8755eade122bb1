package gateway

import (
	"net/http"
	"strings"

	"github.com/mlflow-guard/mlflow-guard/internal/approval"
)

// maxEmbeddedJSON bounds how deep JSON carried inside a JSON string (the
// datasets tags field) is unpacked.
const maxEmbeddedJSON = 4

// reservedKey finds a tag key in the reserved namespace anywhere a write
// could carry one. Rather than one rule per route (and a gap for the next
// route MLflow adds), it reads every place MLflow takes a tag key from:
//   - a path variable that names a key (logged-models/<id>/tags/<tag_key>,
//     datasets/<id>/tags/<key>, mcp-servers/.../tags/<key>);
//   - a "key" field of any object at any depth (set-tag, delete-tag,
//     log-batch, tags lists of every create);
//   - any object member name (tags and metadata given as maps, as in v3
//     traces);
//   - JSON carried in a string field (SetDatasetTags's tags), unpacked;
//   - the query string of a non-GET request.
//
// Params and metrics named in the namespace are refused too: cheaper than
// telling a tags list from a params list on every route, and harmless.
func reservedKey(r *http.Request, vars map[string]string, msg *Message) (string, bool) {
	for name, v := range vars {
		if strings.Contains(strings.ToLower(name), "key") && approval.IsReserved(v) {
			return v, true
		}
	}
	for k, vs := range r.URL.Query() {
		if approval.IsReserved(k) {
			return k, true
		}
		for _, v := range vs {
			if approval.IsReserved(v) {
				return v, true
			}
		}
	}
	if msg == nil || msg.FromQuery {
		return "", false
	}
	return reservedInJSON(msg.Body, 0)
}

func reservedInJSON(v any, embedded int) (string, bool) {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			if approval.IsReserved(k) {
				return k, true
			}
			if s, ok := val.(string); ok && strings.EqualFold(k, "key") && approval.IsReserved(s) {
				return s, true
			}
			if k, ok := reservedInJSON(val, embedded); ok {
				return k, true
			}
		}
	case []any:
		for _, e := range t {
			if k, ok := reservedInJSON(e, embedded); ok {
				return k, true
			}
		}
	case string:
		s := strings.TrimSpace(t)
		if embedded < maxEmbeddedJSON && len(s) > 1 && (s[0] == '{' || s[0] == '[') {
			if inner, err := strictJSON([]byte(s)); err == nil {
				return reservedInJSON(inner, embedded+1)
			} else if strings.Contains(strings.ToLower(s), approval.Namespace) {
				// JSON we cannot read the way MLflow would (a duplicate
				// key, say) that mentions the namespace: refuse.
				return approval.Namespace, true
			}
		}
	}
	return "", false
}
