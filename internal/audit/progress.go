package audit

import (
	"fmt"
	"time"
)

// startProgress prints a one-line live counter to Options.Progress (only
// set on a TTY) until the returned stop is called.
func (a *Auditor) startProgress() (stop func()) {
	w := a.opts.Progress
	if w == nil {
		return func() {}
	}
	done := make(chan struct{})
	finished := make(chan struct{})
	start := time.Now()
	line := func() {
		runs := a.stats.runs.Load()
		rate := float64(runs) / max(time.Since(start).Seconds(), 0.001)
		fmt.Fprintf(w, "\r\x1b[Kaudit: %d experiments, %d runs (%.0f/s), %d values, %d model versions",
			a.stats.experiments.Load(), runs, rate, a.stats.values.Load(), a.stats.versions.Load())
	}
	go func() {
		defer close(finished)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-done:
				line()
				fmt.Fprintln(w)
				return
			case <-t.C:
				line()
			}
		}
	}()
	return func() { close(done); <-finished }
}
