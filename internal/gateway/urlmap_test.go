package gateway

import (
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"github.com/mlflow-guard/mlflow-guard/internal/testenv"
)

// TestRouteTableMatchesMLflow compares the route table with the pinned
// MLflow server's own URL map (Flask and FastAPI). A route MLflow serves
// that the table lacks fails here, so an MLflow upgrade that adds one
// fails CI until the table covers it; a row MLflow no longer serves fails
// too, so the table stays exact.
func TestRouteTableMatchesMLflow(t *testing.T) {
	out := testenv.RunPython(t, filepath.Join("testdata", "urlmap.py"), []string{"MLFLOW_TRACKING_URI="})
	upstream := map[string]bool{}
	for _, l := range strings.Split(out, "\n") {
		l = strings.TrimSpace(l)
		if strings.HasPrefix(l, "GET ") || strings.HasPrefix(l, "POST ") || strings.HasPrefix(l, "PUT ") ||
			strings.HasPrefix(l, "PATCH ") || strings.HasPrefix(l, "DELETE ") {
			upstream[l] = true
		}
	}
	if len(upstream) < 300 {
		t.Fatalf("only %d routes read from MLflow:\n%s", len(upstream), out)
	}
	rt, err := NewRouter(Table())
	if err != nil {
		t.Fatal(err)
	}
	ours := map[string]bool{}
	for _, r := range rt.Rules() {
		ours[r] = true
	}
	var missing, stale []string
	for r := range upstream {
		if !ours[r] {
			missing = append(missing, r)
		}
	}
	for r := range ours {
		if !upstream[r] {
			stale = append(stale, r)
		}
	}
	sort.Strings(missing)
	sort.Strings(stale)
	if len(missing) > 0 {
		t.Errorf("%d MLflow routes are not in the gateway's route table (they are denied, but must be decided):\n  %s", len(missing), strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("%d table rows name routes the pinned MLflow does not serve:\n  %s", len(stale), strings.Join(stale, "\n  "))
	}
	// Every MLflow route must also be found by the matcher (patterns compile
	// to what they say): a request built from the rule matches its row.
	for r := range upstream {
		method, rule, _ := strings.Cut(r, " ")
		path := varRE.ReplaceAllStringFunc(rule, func(string) string { return "x1" })
		c, _ := rt.Match(method, path)
		if c == nil || c.Pattern != rule {
			got := "none"
			if c != nil {
				got = c.Pattern
			}
			t.Errorf("%s: %s matched row %s", r, path, got)
		}
	}
}
