package audit

import (
	"fmt"
	"time"

	"github.com/mlflow-guard/mlflow-guard/internal/progress"
)

// startProgress keeps a live progress line (runs done, rate, elapsed) on
// Options.Progress, which the CLI sets only on an interactive stderr, until
// the returned stop is called. The counters are polled: the workers that
// bump them never wait on the terminal.
func (a *Auditor) startProgress() (stop func()) {
	if a.opts.Progress == nil {
		return func() {}
	}
	line := progress.New(a.opts.Progress, "audit", "runs", 0)
	update := func() {
		// the count first: a redraw is throttled, and the count is the line's point
		line.Set(a.stats.runs.Load())
		line.Describe(fmt.Sprintf("audit: %d experiments, %d values, %d model versions;",
			a.stats.experiments.Load(), a.stats.values.Load(), a.stats.versions.Load()))
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				update()
				line.Finish()
				return
			case <-t.C:
				update()
			}
		}
	}()
	return func() { close(done); <-finished }
}
