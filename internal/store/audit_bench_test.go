package store

import (
	"context"
	"sync"
	"syscall"
	"testing"
	"time"
)

// cpuTime is the process's user and system CPU time: on a shared machine
// it varies far less than wall time.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkAudit is the cost of one audited event on SQLite: sequential
// (one request at a time) and parallel (events share group commits), with
// the default synchronous=NORMAL and with --sqlite-sync full.
func BenchmarkAudit(b *testing.B) {
	for _, c := range []struct {
		name string
		full bool
	}{{"normal", false}, {"full", true}} {
		b.Run(c.name+"/sequential", func(b *testing.B) {
			s, err := Open(context.Background(), Options{DataDir: b.TempDir(), SQLiteSyncFull: c.full})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			e := Event{Actor: "bench", Action: "forward", Route: "POST /api/2.0/mlflow/runs/log-batch", Resource: "experiment:1", Decision: "allow", RequestID: "0123456789abcdef01234567", Detail: "ip=127.0.0.1"}
			c0 := cpuTime()
			for b.Loop() {
				if err := s.Audit(context.Background(), e); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64((cpuTime()-c0).Microseconds())/float64(b.N), "cpu-µs/op")
		})
		b.Run(c.name+"/parallel-16", func(b *testing.B) {
			s, err := Open(context.Background(), Options{DataDir: b.TempDir(), SQLiteSyncFull: c.full})
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			e := Event{Actor: "bench", Action: "forward", Route: "POST /api/2.0/mlflow/runs/log-batch", Resource: "experiment:1", Decision: "allow", RequestID: "0123456789abcdef01234567", Detail: "ip=127.0.0.1"}
			ch := make(chan struct{})
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for range ch {
						if err := s.Audit(context.Background(), e); err != nil {
							b.Error(err)
						}
					}
				}()
			}
			for b.Loop() {
				ch <- struct{}{}
			}
			close(ch)
			wg.Wait()
		})
	}
}
