//go:build unix

package world

import (
	"context"
	"fmt"
	"runtime"
	"runtime/metrics"
	"syscall"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/scenario"
)

// BenchmarkWorld measures what an emulated world costs: flash crowds of
// 20 to 200 peers on one seed, with small content so that each world
// lasts seconds. It reports CPU seconds (user + system, from getrusage)
// per peer-second of presence, CPU milliseconds per MiB of payload, and
// the peak heap per peer. Run it as
//
//	go test -run '^$' -bench World -benchtime 1x ./lab/world
//
// The whole process is measured, tracker and report-free bookkeeping
// included, because that is what a lab run pays.
func BenchmarkWorld(b *testing.B) {
	for _, n := range []int{20, 50, 100, 200} {
		b.Run(fmt.Sprintf("peers=%d", n), func(b *testing.B) {
			src := fmt.Sprintf(`
name: bench
content: {size: 1MiB, piece_length: 32KiB}
limits: {max_duration: 2m, max_conns: 40}
groups:
  - {name: seed, count: 1, initial: seed, up: 1MiB/s}
  - name: leechers
    count: %d
    up: 256KiB/s
    down: 1MiB/s
    arrival: {at: 500ms}
`, n-1)
			s, err := scenario.Parse("bench.yaml", []byte(src))
			if err != nil {
				b.Fatal(err)
			}
			w := s.Worlds[0]
			for b.Loop() {
				runtime.GC()
				cpu0 := cpuTime()
				peak := newHeapPeak()
				run, err := Run(context.Background(), w, Options{})
				heap := peak.stop()
				cpu := cpuTime() - cpu0
				if err != nil {
					b.Fatal(err)
				}
				if !run.Verified {
					b.Fatal("not verified")
				}
				done := 0
				for _, e := range run.Events {
					if e.Kind == lab.Completed {
						done++
					}
				}
				if done != n-1 {
					b.Fatalf("%d of %d leechers completed in %v", done, n-1, run.End)
				}
				ps := peerSeconds(run)
				payload := float64(n-1) * float64(w.Content.Size) / (1 << 20)
				b.ReportMetric(run.Wall.Seconds(), "wall-s")
				b.ReportMetric(cpu.Seconds(), "cpu-s")
				b.ReportMetric(cpu.Seconds()/ps, "cpu-s/peer-s")
				b.ReportMetric(float64(cpu.Milliseconds())/payload, "cpu-ms/MiB")
				b.ReportMetric(float64(heap)/float64(n)/(1<<20), "heap-MiB/peer")
			}
		})
	}
}

// cpuTime is the process's user and system CPU time so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peerSeconds adds up how long each peer was present.
func peerSeconds(run *lab.Run) float64 {
	joined := map[int]time.Duration{}
	total := 0.0
	for _, e := range run.Events {
		switch e.Kind {
		case lab.Joined:
			joined[e.Peer] = e.At
		case lab.Left:
			total += (e.At - joined[e.Peer]).Seconds()
		}
	}
	return total
}

// heapPeak samples the live heap every 50 ms until stopped.
type heapPeak struct {
	quit chan struct{}
	peak chan uint64
}

func newHeapPeak() *heapPeak {
	h := &heapPeak{quit: make(chan struct{}), peak: make(chan uint64)}
	go func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		var peak uint64
		t := time.NewTicker(50 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			peak = max(peak, s[0].Value.Uint64())
			select {
			case <-t.C:
			case <-h.quit:
				h.peak <- peak
				return
			}
		}
	}()
	return h
}

func (h *heapPeak) stop() uint64 {
	close(h.quit)
	return <-h.peak
}
