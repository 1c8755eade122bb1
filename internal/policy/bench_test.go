package policy

import (
	"context"
	"fmt"
	"testing"
)

// BenchmarkDecideLogBatch1000: the policies on a log-batch of 1,000
// entries (MLflow's maximum: 100 params, 100 tags, 800 metrics).
func BenchmarkDecideLogBatch1000(b *testing.B) {
	e := engine(b, Config{})
	var params, tags, metrics []map[string]any
	for i := range 100 {
		params = append(params, map[string]any{"key": fmt.Sprintf("param_%d", i), "value": fmt.Sprintf("value-%d-%x", i, i*7919)})
		tags = append(tags, map[string]any{"key": fmt.Sprintf("tag.%d", i), "value": "a tag value with some words in it"})
	}
	for i := range 800 {
		metrics = append(metrics, map[string]any{"key": fmt.Sprintf("metric_%d", i%40), "value": 0.5, "timestamp": 1700000000000 + i, "step": i})
	}
	r := post("/api/2.0/mlflow/runs/log-batch", mustJSON(map[string]any{"run_id": "0123456789abcdef0123456789abcdef", "params": params, "tags": tags, "metrics": metrics}))
	b.SetBytes(int64(len(r.Body)))
	b.ReportAllocs()
	for b.Loop() {
		if d := e.Decide(context.Background(), r); d.Action != Allow {
			b.Fatalf("%v %q", d.Action, d.Reason)
		}
	}
}
