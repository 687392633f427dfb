package sim_test

import (
	"context"
	"fmt"
	"math"
	"runtime/metrics"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/lab"
	labmetrics "github.com/swarmlab/swarmlab/lab/metrics"
	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/lab/world"
	"github.com/swarmlab/swarmlab/sim"
)

// The agreement check's settings.
const (
	// agreeWithin is how far apart the emulated and simulated medians
	// and 90th percentiles of completion time may be (issue 6).
	agreeWithin = 0.15
	// simSeeds is how many seeds the simulated reference is averaged
	// over: a simulated world takes a tenth of a second, and one seed's
	// median strays 3-5% from the mean.
	simSeeds = 8
	// liveTick is how often the live driver ticks its engines (live's
	// tickEvery); the simulator's default tick is 1 s.
	liveTick = 100 * time.Millisecond
	// loopbackLatency stands for the emulated world's links: loopback
	// delivers in tens of microseconds, which, like any delay far below
	// the 60 ms a block takes at these caps, changes nothing measurable.
	loopbackLatency = 100 * time.Microsecond
	// starvedAfter: a goroutine of the emulated world that waits this long
	// for a CPU has missed more than its rate limiter's burst (a tenth of
	// a second of the cap, at least 64 KiB: 250 ms at 256 KiB/s), so its
	// link lost time it cannot make up. A world run like that measures
	// the machine, not the swarm.
	starvedAfter = 250 * time.Millisecond
)

// TestEmulatedAndSimulatedAgree is issue 6's agreement check: the built-in
// "agreement" scenario (one seed, 49 leechers in a flash crowd, capped
// uplinks) runs in the emulated world, real peers on loopback, and in the
// simulator, once per piece picker, and the leechers' completion times
// must agree within 15% at the median and at the 90th percentile.
//
// The simulator is given the emulated world's clock and links: the live
// driver's 100 ms engine tick and loopback's negligible latency, where
// FromWorld leaves its defaults (1 s, 25 ms), which model a slower
// driver on longer links and finish 4-7% later (both are logged). Its reference is the mean
// over eight seeds. One emulated run's median strays about 6% from run to
// run (the emulated world is the simulator's world plus the scheduler's
// timing), so a run that disagrees is repeated with the next seed and the
// two are averaged before the check fails: a model that is off by 15%
// fails both, a stray run does not. If the emulated world was starved of
// CPU (other work on the machine), its times are not a measure of the
// swarm, and the test skips rather than blame either model.
//
// It takes about 40 s (two emulated worlds of 15-19 s), so -short skips it.
func TestEmulatedAndSimulatedAgree(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two 50-peer emulated worlds on real sockets (about 40 s)")
	}
	s, err := scenario.Builtin("agreement")
	if err != nil {
		t.Fatal(err)
	}
	if len(s.Worlds) != 2 {
		t.Fatalf("%d worlds, want rarest and random", len(s.Worlds))
	}
	for _, w := range s.Worlds {
		if w.Peers() != 50 {
			t.Fatalf("%s: %d peers, want 50", w.Name(), w.Peers())
		}
		t.Run(w.Variant, func(t *testing.T) { checkAgreement(t, w) })
	}
}

// checkAgreement runs one world in both modes and compares them.
func checkAgreement(t *testing.T, w scenario.World) {
	ref, matched := simReference(t, w, true)
	_, defaults := simReference(t, w, false)
	t.Logf("simulated over %d seeds, emulated world's tick and latency: %s", simSeeds, matched)
	t.Logf("simulated over %d seeds, FromWorld's defaults:              %s", simSeeds, defaults)

	var runs []emulated
	for k := range 2 {
		wk := w
		wk.Seed += uint64(k)
		e := runEmulated(t, wk)
		t.Logf("emulated, seed %d: %s", wk.Seed, e)
		runs = append(runs, e)
		med, p90 := meanOf(runs)
		if within(med, ref.med) && within(p90, ref.p90) {
			return
		}
	}
	med, p90 := meanOf(runs)
	msg := fmt.Sprintf("emulated median %.2f s, p90 %.2f s (mean of %d runs) vs simulated %.2f s, %.2f s: %+.1f%% and %+.1f%%, more than %.0f%% apart",
		med, p90, len(runs), ref.med, ref.p90, 100*(ref.med/med-1), 100*(ref.p90/p90-1), 100*agreeWithin)
	for _, e := range runs {
		if e.sched99 >= starvedAfter {
			t.Skipf("%s; but the emulated world was starved of CPU (a goroutine in a hundred waited %v or more to run), so it measured the machine, not the swarm", msg, e.sched99)
		}
	}
	t.Error(msg)
}

// dist is a run's median and 90th percentile of completion time, in s.
type dist struct{ med, p90 float64 }

// simReference simulates w over simSeeds seeds and returns the mean of
// their medians and 90th percentiles, and a line describing them. With
// matched, the simulator gets the emulated world's tick and latency.
func simReference(t *testing.T, w scenario.World, matched bool) (dist, string) {
	t.Helper()
	var meds, p90s []float64
	for k := range simSeeds {
		wk := w
		wk.Seed += uint64(k)
		cfg := sim.FromWorld(wk)
		if matched {
			cfg.Tick, cfg.Latency = liveTick, loopbackLatency
		}
		run, _, err := sim.Run(cfg)
		if err != nil {
			t.Fatalf("simulating %s seed %d: %v", w.Name(), wk.Seed, err)
		}
		d := completionTimes(t, run, wk)
		meds = append(meds, d.Median)
		p90s = append(p90s, d.P90)
	}
	m, p := labmetrics.NewDist(meds), labmetrics.NewDist(p90s)
	return dist{m.Mean, p.Mean}, fmt.Sprintf("median %.2f s [%.2f-%.2f], p90 %.2f s [%.2f-%.2f]", m.Mean, m.Min, m.Max, p.Mean, p.Min, p.Max)
}

// emulated is what one emulated run gave.
type emulated struct {
	dist
	wall time.Duration
	// sched99 is the 99th percentile of the time the process's
	// goroutines waited to run while the world ran.
	sched99 time.Duration
}

func (e emulated) String() string {
	return fmt.Sprintf("median %.2f s, p90 %.2f s (wall %.1f s; 99%% of goroutines waited under %v for a CPU)", e.med, e.p90, e.wall.Seconds(), e.sched99)
}

func runEmulated(t *testing.T, w scenario.World) emulated {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), w.Limits.MaxDuration+30*time.Second)
	defer cancel()
	before := schedLatencies()
	run, err := world.Run(ctx, w, world.Options{})
	if err != nil {
		t.Fatalf("emulating %s seed %d: %v", w.Name(), w.Seed, err)
	}
	sched99 := quantileSince(before, schedLatencies(), 0.99)
	if !run.Verified {
		t.Fatalf("emulated %s seed %d: a completed peer's data differs from the content", w.Name(), w.Seed)
	}
	d := completionTimes(t, run, w)
	return emulated{dist: dist{d.Median, d.P90}, wall: run.Wall, sched99: sched99}
}

// completionTimes returns the leechers' completion-time distribution,
// failing the test unless every leecher completed.
func completionTimes(t *testing.T, run *lab.Run, w scenario.World) *labmetrics.Dist {
	t.Helper()
	sum := labmetrics.Compute(*run)
	leechers := 0
	for _, g := range w.Groups {
		if g.Initial == scenario.Leecher {
			leechers += g.Count
		}
	}
	o := sum.Overall
	if o.Completed != leechers || o.CompletionTime == nil {
		t.Fatalf("%s %s seed %d: %d of %d leechers completed", run.Mode, w.Name(), w.Seed, o.Completed, leechers)
	}
	return o.CompletionTime
}

func meanOf(runs []emulated) (med, p90 float64) {
	for _, e := range runs {
		med += e.med
		p90 += e.p90
	}
	n := float64(len(runs))
	return med / n, p90 / n
}

// within reports whether sim is within agreeWithin of emu, relative to
// emu.
func within(emu, sim float64) bool { return math.Abs(sim/emu-1) <= agreeWithin }

const schedMetric = "/sched/latencies:seconds"

// schedLatencies reads the histogram of how long goroutines waited to
// run after becoming runnable.
func schedLatencies() *metrics.Float64Histogram {
	s := []metrics.Sample{{Name: schedMetric}}
	metrics.Read(s)
	if s[0].Value.Kind() != metrics.KindFloat64Histogram {
		return nil
	}
	h := s[0].Value.Float64Histogram()
	return &metrics.Float64Histogram{Counts: append([]uint64(nil), h.Counts...), Buckets: h.Buckets}
}

// quantileSince returns the q-quantile of the latencies recorded between
// two readings: the upper bound of the bucket it falls in (0 when there
// were none, or the runtime does not have the metric).
func quantileSince(a, b *metrics.Float64Histogram, q float64) time.Duration {
	if a == nil || b == nil || len(a.Counts) != len(b.Counts) {
		return 0
	}
	var total uint64
	for i := range b.Counts {
		total += b.Counts[i] - a.Counts[i]
	}
	var acc uint64
	for i := range b.Counts {
		acc += b.Counts[i] - a.Counts[i]
		if total > 0 && float64(acc) >= q*float64(total) {
			up := b.Buckets[i+1]
			if math.IsInf(up, 1) {
				up = b.Buckets[i]
			}
			return time.Duration(up * float64(time.Second))
		}
	}
	return 0
}
