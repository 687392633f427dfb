package sim

import (
	"bytes"
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/tracker/store"
)

// flashCrowd is one seed and n leechers arriving at once.
func flashCrowd(n int, pickerName string, seedUp, leechUp, leechDown float64) Config {
	peers := []PeerSpec{{Group: "seed", Seed: true, Up: seedUp, Picker: "rarest", Choker: "tft"}}
	for range n {
		peers = append(peers, PeerSpec{Group: pickerName, Up: leechUp, Down: leechDown, Picker: pickerName, Choker: "tft"})
	}
	return Config{
		Name: "test", Seed: 7,
		Layout:  engine.Layout{PieceLength: 64 << 10, TotalLength: 100 * 64 << 10},
		Peers:   peers,
		MaxTime: 2 * time.Hour,
	}
}

func completions(run *lab.Run) map[int]time.Duration {
	out := map[int]time.Duration{}
	for _, e := range run.Events {
		if e.Kind == lab.Completed {
			out[e.Peer] = e.At
		}
	}
	return out
}

func TestFlashCrowdCompletes(t *testing.T) {
	cfg := flashCrowd(20, "rarest", 1<<20, 256<<10, 1<<20)
	run, st, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	done := completions(run)
	if len(done) != 20 {
		t.Fatalf("%d of 20 leechers completed by %v", len(done), run.End)
	}
	// Every leecher got exactly the content (the sim moves lengths, so
	// downloaded bytes are the check that nothing was lost or doubled
	// beyond the end game's duplicates, which count as wasted).
	last := map[int]lab.Sample{}
	for _, smp := range run.Samples {
		last[smp.Peer] = smp
	}
	for id := 1; id <= 20; id++ {
		s := last[id]
		if s.Downloaded-s.Wasted != cfg.Layout.TotalLength {
			t.Errorf("peer %d: downloaded %d, wasted %d, content %d", id, s.Downloaded, s.Wasted, cfg.Layout.TotalLength)
		}
	}
	if st.Events == 0 || st.Messages == 0 {
		t.Fatalf("stats %+v", st)
	}
}

// TestDeterministic: the same config gives the same Run, byte for byte.
func TestDeterministic(t *testing.T) {
	encode := func() []byte {
		run, _, err := Run(flashCrowd(15, "random", 512<<10, 128<<10, 512<<10))
		if err != nil {
			t.Fatal(err)
		}
		b, err := json.Marshal(run)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	a, b := encode(), encode()
	if !bytes.Equal(a, b) {
		t.Fatal("two runs of the same world differ")
	}
	if len(a) < 10000 {
		t.Fatalf("suspiciously small run record: %d bytes", len(a))
	}
}

func TestRestartReincarnates(t *testing.T) {
	cfg := flashCrowd(3, "rarest", 1<<20, 256<<10, 1<<20)
	cfg.Peers[1].After = After{Restart: true}
	cfg.MaxTime = 10 * time.Minute
	run, _, err := Run(cfg)
	if err != nil {
		t.Fatal(err)
	}
	incs := 0
	for _, p := range run.Peers {
		if p.Incarnation > incs {
			incs = p.Incarnation
		}
	}
	if incs < 2 {
		t.Fatalf("slot restarted %d times in 10 minutes", incs)
	}
	if run.End < 10*time.Minute-time.Second {
		t.Fatalf("a world with restarts ended at %v, before MaxTime", run.End)
	}
}

func TestGossipInSim(t *testing.T) {
	for _, mode := range []engine.GossipMode{engine.Push, engine.Pull, engine.PushPull} {
		g := &engine.GossipConfig{Mode: mode, Fanout: 3, Interval: time.Second}
		peers := []PeerSpec{{Group: "seed", Seed: true, Up: 1 << 20, Gossip: g}}
		for range 30 {
			peers = append(peers, PeerSpec{Group: mode.String(), Up: 1 << 20, Down: 1 << 20, Gossip: g})
		}
		cfg := Config{Name: "gossip", Seed: 3, Layout: engine.Layout{PieceLength: 16 << 10, TotalLength: 20 * 16 << 10},
			Peers: peers, NumWant: 100, MaxTime: time.Hour}
		run, _, err := Run(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if n := len(completions(run)); n != 30 {
			t.Fatalf("%v: %d of 30 completed", mode, n)
		}
	}
}

// TestGossipRoundsFollowTheirInterval: gossip rounds run from the engine's
// tick, so a gossip interval shorter than the world's tick must still be
// honoured. Four times as many rounds must make push-pull finish much
// sooner in virtual time (it once ran a round per 1 s tick whatever the
// interval, three to four times slower than the emulated world).
func TestGossipRoundsFollowTheirInterval(t *testing.T) {
	last := func(interval time.Duration) time.Duration {
		g := &engine.GossipConfig{Mode: engine.PushPull, Fanout: 3, Interval: interval}
		peers := []PeerSpec{{Group: "seed", Seed: true, Up: 1 << 20, Gossip: g}}
		for range 15 {
			peers = append(peers, PeerSpec{Group: "g", Up: 1 << 20, Down: 1 << 20, Gossip: g})
		}
		run, _, err := Run(Config{Name: "rounds", Seed: 5, Layout: engine.Layout{PieceLength: 16 << 10, TotalLength: 32 * 16 << 10},
			Peers: peers, NumWant: 100, Tick: time.Second, MaxTime: time.Hour})
		if err != nil {
			t.Fatal(err)
		}
		done := slices.Collect(maps.Values(completions(run)))
		if len(done) == 0 {
			return 0
		}
		return slices.Max(done)
	}
	slow, fast := last(time.Second), last(250*time.Millisecond)
	if fast == 0 || slow == 0 || fast*2 > slow {
		t.Fatalf("last completion with 1 s rounds %v, with 250 ms rounds %v: want at least twice as fast", slow, fast)
	}
}

// TestTrackerRefusalEndsTheRun: a simulated tracker that refuses a peer
// (here by a per-swarm limit set for the test) is a fault the run reports,
// not a result: refused peers would otherwise sit alone and unfinished,
// as 34,465 of a 100,000-leecher world did under the store's default
// limit of 65,536 peers a swarm.
func TestTrackerRefusalEndsTheRun(t *testing.T) {
	cfg := fluidWorld(6, "rarest", false, 1)
	cfg.trackerLimits = store.Limits{MaxPeersPerSwarm: 4}
	_, _, err := Run(cfg)
	if !errors.Is(err, store.ErrSwarmFull) {
		t.Fatalf("Run with more peers than the tracker takes: %v, want %v", err, store.ErrSwarmFull)
	}
	if lim := worldTrackerLimits().WithDefaults(); lim.MaxPeersPerSwarm < 1<<30 || lim.MaxPeers < 1<<30 {
		t.Errorf("the simulated tracker's limits %+v could be reached by a world", lim)
	}
}
