package choker

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func view(now time.Duration, seeding bool, peers ...Peer) *View {
	for i := range peers {
		peers[i].Conn = Conn(i + 1)
	}
	return &View{Now: now, Seeding: seeding, Peers: peers, Rand: rand.New(rand.NewPCG(1, 2))}
}

func indexes(us []Unchoke) []int {
	var out []int
	for _, u := range us {
		out = append(out, u.Index)
	}
	slices.Sort(out)
	return out
}

const old = -time.Hour // connected long ago: no newcomer weighting

func TestTitForTatRegularSlots(t *testing.T) {
	c := &TitForTat{Slots: 2, Every: 10 * time.Second, OptimisticInterval: 30 * time.Second}
	v := view(0, false,
		Peer{Interested: true, DownRate: 100, ConnectedAt: old},
		Peer{Interested: true, DownRate: 300, ConnectedAt: old},
		Peer{Interested: false, DownRate: 900, ConnectedAt: old}, // not interested: never unchoked
		Peer{Interested: true, DownRate: 200, ConnectedAt: old},
		Peer{Interested: true, DownRate: 800, Snubbed: true, ConnectedAt: old}, // snubbed: no regular slot
	)
	got := c.Rechoke(v, nil)
	// Regular: peers 1 (300) and 3 (200); optimistic: one of 0 or 4.
	reg := indexes(got[:2])
	if !slices.Equal(reg, []int{1, 3}) {
		t.Fatalf("regular unchokes %v, want [1 3]", reg)
	}
	if len(got) != 3 || (got[2].Index != 0 && got[2].Index != 4) {
		t.Fatalf("optimistic unchoke %v, want peer 0 or 4", got)
	}
}

func TestTitForTatSeedingRanksByUpload(t *testing.T) {
	c := &TitForTat{Slots: 1, Every: 10 * time.Second, OptimisticInterval: 30 * time.Second}
	v := view(0, true,
		Peer{Interested: true, DownRate: 0, UpRate: 50, ConnectedAt: old},
		Peer{Interested: true, DownRate: 0, UpRate: 500, ConnectedAt: old},
	)
	got := c.Rechoke(v, nil)
	if got[0].Index != 1 {
		t.Fatalf("seed unchoked %v first, want peer 1 (fastest upload)", got)
	}
}

func TestTitForTatOptimisticRotation(t *testing.T) {
	c := &TitForTat{Slots: 0, Every: 10 * time.Second, OptimisticInterval: 30 * time.Second}
	peers := func() []Peer {
		ps := make([]Peer, 6)
		for i := range ps {
			ps[i] = Peer{Interested: true, ConnectedAt: old}
		}
		return ps
	}
	first := c.Rechoke(view(0, false, peers()...), nil)
	if len(first) != 1 {
		t.Fatalf("want one optimistic unchoke, got %v", first)
	}
	// Within the interval the same peer stays.
	for _, now := range []time.Duration{10 * time.Second, 20 * time.Second} {
		if got := c.Rechoke(view(now, false, peers()...), nil); len(got) != 1 || got[0] != first[0] {
			t.Fatalf("at %v optimistic changed: %v -> %v", now, first, got)
		}
	}
	// Over many rotations every peer gets a turn.
	seen := map[int]bool{}
	rng := rand.New(rand.NewPCG(5, 6)) // one source across rounds, as a torrent has
	for k := 3; k < 60; k++ {
		v := view(time.Duration(k)*30*time.Second, false, peers()...)
		v.Rand = rng
		got := c.Rechoke(v, nil)
		seen[got[0].Index] = true
	}
	if len(seen) != 6 {
		t.Fatalf("optimistic unchoke reached %d of 6 peers", len(seen))
	}
}

func TestTitForTatNewcomersFavoured(t *testing.T) {
	c := &TitForTat{Slots: 0, Every: 10 * time.Second, OptimisticInterval: 30 * time.Second}
	now := 10 * time.Minute
	newHits := 0
	const rounds = 3000
	for k := range rounds {
		v := view(now, false,
			Peer{Interested: true, ConnectedAt: now - time.Second}, // newcomer
			Peer{Interested: true, ConnectedAt: old},
		)
		v.Rand = rand.New(rand.NewPCG(uint64(k), 9))
		c.hasOpt = false
		if c.Rechoke(v, nil)[0].Index == 0 {
			newHits++
		}
	}
	// Expected 3/4 of rounds; 2/3 would be a clear sign weighting broke.
	if newHits < rounds*7/10 {
		t.Fatalf("newcomer chosen %d of %d times, want about 3/4", newHits, rounds)
	}
}

func TestTitForTatOptimisticLeaves(t *testing.T) {
	c := &TitForTat{Slots: 0, Every: 10 * time.Second, OptimisticInterval: 30 * time.Second}
	got := c.Rechoke(view(0, false, Peer{Interested: true, ConnectedAt: old}, Peer{Interested: true, ConnectedAt: old}), nil)
	gone := got[0].Index
	left := []Peer{{Interested: true, ConnectedAt: old}}
	v := view(time.Second, false, left...)
	v.Peers[0].Conn = Conn(2 - gone) // the one that stayed
	if got := c.Rechoke(v, nil); len(got) != 1 || got[0].Index != 0 {
		t.Fatalf("after the optimistic peer left: %v", got)
	}
}
