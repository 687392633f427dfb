package main

import (
	"fmt"
	"io"
	"os"
	rtmetrics "runtime/metrics"
	"sort"
	"strings"
	"time"

	"github.com/swarmlab/swarmlab/bench/internal/benchkit"
)

// watchClasses samples the runtime's memory classes every period and
// keeps the sample taken at the highest resident size seen; stop prints
// it. The benchmark's memory figure is the peak RSS, and the live heap
// is only part of it: this says what the rest was (free slots in spans,
// free spans, metadata) at about that moment.
func watchClasses(out io.Writer, period time.Duration) (stop func()) {
	var names []string
	for _, d := range rtmetrics.All() {
		if strings.HasPrefix(d.Name, "/memory/classes/") && d.Name != "/memory/classes/total:bytes" {
			names = append(names, d.Name)
		}
	}
	sort.Strings(names)
	samples := make([]rtmetrics.Sample, len(names))
	for i, n := range names {
		samples[i].Name = n
	}
	best := make([]uint64, len(names))
	var bestRSS int64
	stopSampling := every(period, func() {
		rss, _ := benchkit.ProcStatusBytes(os.Getpid(), "VmRSS")
		if rss <= bestRSS {
			return
		}
		bestRSS = rss
		rtmetrics.Read(samples)
		for i := range samples {
			best[i] = samples[i].Value.Uint64()
		}
	})
	return func() {
		stopSampling()
		fmt.Fprintf(out, "at the highest RSS sampled, %.1f MiB:\n", float64(bestRSS)/(1<<20))
		for i, n := range names {
			if best[i] >= 1<<20 {
				fmt.Fprintf(out, "  %-50s %8.1f MiB\n", n, float64(best[i])/(1<<20))
			}
		}
	}
}
