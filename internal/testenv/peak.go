package testenv

import (
	"bufio"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync"
	"time"
)

// WorkerBudget is the memory bound of issues 9 and 10: at most 256 MiB per
// worker (per model file) on any input.
const WorkerBudget = 256 << 20

// PeakMemory runs fn and returns the peak growth of the live Go heap
// (sampled through runtime/metrics every millisecond) and of the process's
// resident set (the kernel's VmHWM after resetting it; 0 where /proc cannot
// do that). The resident set also counts C memory (tree-sitter) and what the
// heap sampler misses between ticks.
func PeakMemory(fn func()) (heap, rss uint64) {
	runtime.GC()
	debug.FreeOSMemory()
	base := procStatus("VmRSS")
	hwmOK := base > 0 && os.WriteFile("/proc/self/clear_refs", []byte("5"), 0) == nil
	read := func() uint64 {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		metrics.Read(s)
		return s[0].Value.Uint64()
	}
	heap0 := read()
	done := make(chan struct{})
	var wg sync.WaitGroup
	var max uint64
	wg.Add(1)
	go func() {
		defer wg.Done()
		tk := time.NewTicker(time.Millisecond)
		defer tk.Stop()
		for {
			if v := read(); v > max {
				max = v
			}
			select {
			case <-done:
				return
			case <-tk.C:
			}
		}
	}()
	fn()
	close(done)
	wg.Wait()
	if v := read(); v > max {
		max = v
	}
	if max > heap0 {
		heap = max - heap0
	}
	if hwmOK {
		if hwm := procStatus("VmHWM"); hwm > base {
			rss = hwm - base
		}
	}
	return heap, rss
}

// procStatus reads one "Vm..." line of /proc/self/status in bytes (0 if
// unavailable).
func procStatus(key string) uint64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), key+":"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSuffix(strings.TrimSpace(rest), " kB"), 10, 64)
			return kb << 10
		}
	}
	return 0
}
