// Command sim measures the simulator on a large world: wall and CPU time,
// peak memory, events per second and bytes per simulated peer, plus how
// far the run was from the fluid bound, so a speed-up that changes the
// result shows.
//
// It runs a built-in scenario (bigswarm unless told otherwise) in the
// simulator, optionally with its largest leecher group resized, in this
// process, and reads the peak resident size from the kernel afterwards.
// Run one size per process: the peak is the process's.
//
// Usage (from bench/): go run ./sim [-scenario bigswarm] [-leechers N] [-cpuprofile FILE] [-memprofile FILE] [-memclasses] [-no-hugepages]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"runtime"
	rtmetrics "runtime/metrics"
	"runtime/pprof"
	"syscall"
	"time"

	"github.com/swarmlab/swarmlab/bench/internal/benchkit"
	"github.com/swarmlab/swarmlab/internal/hugepages"
	"github.com/swarmlab/swarmlab/internal/memlimit"
	"github.com/swarmlab/swarmlab/lab/metrics"
	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/sim"
)

func main() {
	name := flag.String("scenario", "bigswarm", "built-in scenario or file to simulate (its first world)")
	leechers := flag.Int("leechers", 0, "resize the largest group to `N` peers (0: as the scenario says)")
	cpuprofile := flag.String("cpuprofile", "", "write a CPU profile to `FILE`")
	memprofile := flag.String("memprofile", "", "write a heap profile taken near the live heap's peak to `FILE`")
	classes := flag.Bool("memclasses", false, "print the runtime's memory classes at the highest resident size sampled")
	small := flag.Bool("no-hugepages", false, "leave the heap on the kernel's default pages (swarmlab lab run asks for huge pages)")
	flag.Parse()
	if !*small {
		stop := hugepages.Advise(time.Second)
		defer stop()
	}
	// As lab run does: a soft memory limit, so that a world too big for
	// the machine at its peak slows down instead of being killed.
	if limit, restore := memlimit.Apply(memlimit.Fraction); limit > 0 {
		defer restore()
		fmt.Printf("soft memory limit %.1f GiB (internal/memlimit; GOMEMLIMIT overrides)\n", float64(limit)/(1<<30))
	}
	// And as lab run does, a low GC target (internal/memlimit.SimGCPercent).
	if pct, restore := memlimit.TightenGC(memlimit.SimGCPercent); pct > 0 {
		defer restore()
		fmt.Printf("GC target %d%% (internal/memlimit; GOGC overrides)\n", pct)
	}
	if *memprofile != "" {
		stop := watchHeap(*memprofile)
		defer stop()
	}
	if *classes {
		stop := watchClasses(os.Stdout, 100*time.Millisecond)
		defer stop()
	}
	if err := run(*name, *leechers, *cpuprofile); err != nil {
		fmt.Fprintln(os.Stderr, "sim:", err)
		os.Exit(1)
	}
}

func run(name string, leechers int, cpuprofile string) error {
	s, err := scenario.Open(name)
	if err != nil {
		return err
	}
	w := s.Worlds[0]
	if leechers > 0 {
		big := 0
		for i, g := range w.Groups {
			if g.Count > w.Groups[big].Count {
				big = i
			}
		}
		w.Groups[big].Count = leechers
	}
	cfg := sim.FromWorld(w)
	cfg.Progress = progress(os.Stderr, 30*time.Second)
	if cpuprofile != "" {
		f, err := os.Create(cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	// What the run allocates, and how often the collector ran: with
	// the peak, what internal/memlimit.SimGCPercent is chosen from.
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := cpuTime()
	start := time.Now()
	rec, st, err := sim.Run(cfg)
	if err != nil {
		return err
	}
	wall := time.Since(start)
	cpu := cpuTime() - cpu0
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	peak := peakRSS()
	peers := len(cfg.Peers)
	sum := metrics.Compute(*rec)

	fmt.Printf("world %s: %d peers, %d pieces of %d KiB, seed %d\n",
		w.Name(), peers, cfg.Layout.NumPieces(), cfg.Layout.PieceLength>>10, cfg.Seed)
	fmt.Printf("wall %.1f s, CPU %.1f s, GOMAXPROCS %d\n", wall.Seconds(), cpu.Seconds(), runtime.GOMAXPROCS(0))
	fmt.Printf("events %d (%.0f/s of wall), messages %d\n", st.Events, float64(st.Events)/wall.Seconds(), st.Messages)
	fmt.Printf("peak RSS %.0f MiB = %.1f KiB per peer; live heap after the run %.0f MiB = %.1f KiB per peer (the record included)\n",
		float64(peak)/(1<<20), float64(peak)/1024/float64(peers),
		float64(ms.HeapAlloc)/(1<<20), float64(ms.HeapAlloc)/1024/float64(peers))
	fmt.Printf("allocated %.0f MiB during the run, in %d collections\n",
		float64(after.TotalAlloc-before.TotalAlloc)/(1<<20), after.NumGC-before.NumGC)
	if d := sum.Overall.CompletionTime; d != nil {
		fmt.Printf("completed %d of %d leechers by %.1f s; completion time median %.1f s, p90 %.1f s\n",
			d.N, peers-seeds(cfg), rec.End.Seconds(), d.Median, d.P90)
	}
	if b := sum.Bound; b.TMin != nil {
		fmt.Printf("fluid bound T_min %.1f s", *b.TMin)
		if b.Ratio != nil {
			fmt.Printf(", makespan %.1f s = %.2f T_min", *b.Makespan, *b.Ratio)
		}
		fmt.Println()
	}
	return nil
}

// progress returns a sim.Config.Progress that writes a line to out at most
// once per every (wall time): virtual time, leechers left, CPU and resident
// size so far. A large world runs for an hour or more, and without it
// nothing shows whether it is moving.
func progress(out io.Writer, every time.Duration) func(time.Duration, int) {
	start := time.Now()
	last := start
	return func(at time.Duration, unfinished int) {
		if time.Since(last) < every {
			return
		}
		last = time.Now()
		rss, _ := benchkit.ProcStatusBytes(os.Getpid(), "VmRSS") // 0 if unreadable
		fmt.Fprintf(out, "  after %.0f s: virtual %.1f s, %d leechers unfinished, CPU %.0f s, RSS %.0f MiB\n",
			last.Sub(start).Seconds(), at.Seconds(), unfinished, cpuTime().Seconds(), float64(rss)/(1<<20))
	}
}

// watchHeap writes a heap profile to path whenever the live heap, as of
// the last GC, has grown past its previous high, checking every second, so
// the file ends up describing the heap near its peak; the returned func
// stops the watch.
func watchHeap(path string) (stop func()) {
	sample := []rtmetrics.Sample{{Name: "/gc/heap/live:bytes"}}
	var high uint64
	return every(time.Second, func() {
		rtmetrics.Read(sample)
		live := sample[0].Value.Uint64()
		if live <= high+high/20 {
			return
		}
		high = live
		if f, err := os.Create(path); err == nil {
			pprof.WriteHeapProfile(f)
			f.Close()
		}
	})
}

// every calls fn every period, on a goroutine of its own, until the
// returned stop is called; stop returns once fn no longer runs.
func every(period time.Duration, fn func()) (stop func()) {
	done, finished := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(finished)
		tick := time.NewTicker(period)
		defer tick.Stop()
		for {
			select {
			case <-done:
				return
			case <-tick.C:
				fn()
			}
		}
	}()
	return func() { close(done); <-finished }
}

func seeds(cfg sim.Config) int {
	n := 0
	for _, p := range cfg.Peers {
		if p.Seed {
			n++
		}
	}
	return n
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// peakRSS is the process's high-water resident size in bytes (Linux
// reports ru_maxrss in KiB).
func peakRSS() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return ru.Maxrss << 10
}
