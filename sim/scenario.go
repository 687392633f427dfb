package sim

import (
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/scenario"
)

// FromWorld turns a lab scenario's world into a simulator config, so that
// any scenario the emulated world runs can be simulated too. Peers are
// laid out in arrival order (scenario.World.Schedule), so ids match the
// emulated world's. Link latency, which scenarios do not set, is the
// simulator's default.
func FromWorld(w scenario.World) Config {
	cfg := Config{
		Name:              w.Name(),
		Seed:              w.Seed,
		Layout:            engine.Layout{PieceLength: w.Content.PieceLength, TotalLength: w.Content.Size},
		AnnounceInterval:  w.Tracker.Interval,
		PeerTTL:           w.Tracker.PeerTTL,
		NumWant:           w.Tracker.NumWant,
		MaxConns:          w.Limits.MaxConns,
		MaxTime:           w.Limits.MaxDuration,
		Latency:           w.Sim.Latency,
		ProgressEvery:     w.Sim.ProgressEvery,
		SkipRedundantHave: w.Sim.SkipRedundantHave,
	}
	// Byte counters every second are plenty for plots of small worlds and
	// too many for large ones.
	cfg.SampleEvery = time.Second
	if n := w.Peers(); n > 1000 {
		cfg.SampleEvery = time.Duration(n/1000) * time.Second
	}
	for _, j := range w.Schedule() {
		g := &w.Groups[j.Group]
		sp := PeerSpec{
			Group:  g.Name,
			Seed:   g.Initial == scenario.Seed,
			Up:     float64(g.UpOf(j.Index)),
			Down:   float64(g.DownOf(j.Index)),
			Picker: g.Picker, Choker: g.Choker,
			SuperSeed: g.SuperSeed,
			Gossip:    g.Gossip.Config(),
			JoinAt:    j.At,
		}
		if g.After.Seed != scenario.Forever {
			sp.After = After{SeedFor: g.After.Seed, Leave: g.After.Then != scenario.Restart, Restart: g.After.Then == scenario.Restart}
		}
		cfg.Peers = append(cfg.Peers, sp)
	}
	return cfg
}

// RunWorld simulates a scenario world and returns its record. The wall
// time it took is recorded in the Run, as the emulated world does.
func RunWorld(w scenario.World) (*lab.Run, error) {
	start := time.Now()
	run, _, err := Run(FromWorld(w))
	if run != nil {
		run.Wall = time.Since(start)
	}
	return run, err
}
