package choker

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

func TestPropShareProportional(t *testing.T) {
	tests := []struct {
		name  string
		peers []Peer
		want  map[int]float64
	}{
		// Peers 0 and 1 gave 100 and 300 of 400: they get 1/4 and 3/4 of
		// 90% of 1000. Peer 2 gave nothing and is the only choice for the
		// optimistic 10%. Peer 3 gave most but wants nothing.
		{"in proportion, plus the optimistic share", []Peer{
			{Interested: true, DownRate: 100},
			{Interested: true, DownRate: 300},
			{Interested: true},
			{Interested: false, DownRate: 600},
		}, map[int]float64{0: 225, 1: 675, 2: 100}},
		{"no one to unchoke optimistically: all to contributors", []Peer{
			{Interested: true, DownRate: 100},
			{Interested: true, DownRate: 300},
			{Interested: false},
		}, map[int]float64{0: 250, 1: 750}},
		// Nobody gave anything: 1000 split among the 3 interested.
		{"nothing given: equal split", []Peer{
			{Interested: true},
			{Interested: false, DownRate: 500},
			{Interested: true},
			{Interested: true},
		}, map[int]float64{0: 1000. / 3, 2: 1000. / 3, 3: 1000. / 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := view(0, false, tt.peers...)
			v.UploadCapacity = 1000
			if got := rates(NewPropShare().Rechoke(v, nil)); !mapsEqual(got, tt.want) {
				t.Fatalf("rates %v, want %v", got, tt.want)
			}
		})
	}
}

// Whatever the contributions, the contributors' rates add up to 90% of
// capacity and the optimistic peer gets 10%.
func TestPropShareSums(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for trial := range 100 {
		var peers []Peer
		for range 2 + rng.IntN(5) {
			peers = append(peers, Peer{Interested: true, DownRate: float64(rng.IntN(3)) * rng.Float64() * 1000})
		}
		peers = append(peers, Peer{Interested: true}) // at least one to unchoke optimistically
		peers[0].DownRate = 1                         // and one contributor
		v := view(0, false, peers...)
		v.UploadCapacity = 5000
		paid, opt := 0.0, 0
		for _, u := range NewPropShare().Rechoke(v, nil) {
			if peers[u.Index].DownRate > 0 {
				paid += u.Rate
				continue
			}
			opt++
			if !near(u.Rate, 500) {
				t.Fatalf("trial %d: optimistic rate %v, want 500", trial, u.Rate)
			}
		}
		if !near(paid, 4500) || opt != 1 {
			t.Fatalf("trial %d: contributors got %v in all (want 4500), %d optimistic (want 1)", trial, paid, opt)
		}
	}
}

func TestPropShareOptimisticRotates(t *testing.T) {
	c := NewPropShare()
	rng := rand.New(rand.NewPCG(7, 8)) // one source across rounds, as a torrent has
	peers := []Peer{{Interested: true, DownRate: 100}, {Interested: true}, {Interested: true}, {Interested: true}}
	optimistic := func(now time.Duration) int {
		v := view(now, false, slices.Clone(peers)...)
		v.Rand, v.UploadCapacity = rng, 1000
		var out []int
		for _, u := range c.Rechoke(v, nil) {
			if u.Index != 0 {
				out = append(out, u.Index)
			}
		}
		if len(out) != 1 {
			t.Fatalf("at %v optimistic unchokes %v, want one", now, out)
		}
		return out[0]
	}
	prev := optimistic(0)
	seen := map[int]bool{prev: true}
	for k := 1; k < 40; k++ {
		now := time.Duration(k) * 10 * time.Second
		cur := optimistic(now)
		if cur == prev {
			t.Fatalf("round %d kept optimistic peer %d", k, cur)
		}
		// An early rechoke within the round keeps it.
		if again := optimistic(now + 3*time.Second); again != cur {
			t.Fatalf("early rechoke moved the optimistic unchoke from %d to %d", cur, again)
		}
		prev = cur
		seen[cur] = true
	}
	if len(seen) != 3 {
		t.Fatalf("optimistic unchoke reached %v, want all of 1, 2, 3", seen)
	}
}

func TestPropShareEqualSplitRotates(t *testing.T) {
	// Seeding, 6 interested peers and 4 slots: 4 at 250 each, a fresh
	// draw each round, so every peer is served before long.
	c := NewPropShare()
	rng := rand.New(rand.NewPCG(9, 10))
	seen := map[int]bool{}
	for k := range 10 {
		ps := make([]Peer, 6)
		for i := range ps {
			ps[i] = Peer{Interested: true, UpRate: 250}
		}
		v := view(time.Duration(k)*10*time.Second, true, ps...)
		v.Rand, v.UploadCapacity = rng, 1000
		got := c.Rechoke(v, nil)
		if len(got) != 4 {
			t.Fatalf("round %d unchoked %v, want 4", k, got)
		}
		for _, u := range got {
			if u.Rate != 250 {
				t.Fatalf("round %d rate %v, want 250", k, u.Rate)
			}
			seen[u.Index] = true
		}
	}
	if len(seen) != 6 {
		t.Fatalf("served %d of 6 peers in 10 rounds", len(seen))
	}
}

func TestPropShareUnknownCapacity(t *testing.T) {
	v := view(0, false,
		Peer{Interested: true, DownRate: 100},
		Peer{Interested: true, DownRate: 300},
		Peer{Interested: true},
		Peer{Interested: false})
	got := NewPropShare().Rechoke(v, nil)
	if r := rates(got); !mapsEqual(r, map[int]float64{0: 0, 1: 0, 2: 0}) {
		t.Fatalf("unchoked %v, want contributors 0, 1 and optimistic 2, uncapped", r)
	}
}

func TestAltruist(t *testing.T) {
	v := view(0, false, Peer{Interested: true}, Peer{}, Peer{Interested: true, Snubbed: true}, Peer{Interested: true})
	v.UploadCapacity = 1000
	if got := rates(Altruist{}.Rechoke(v, nil)); !mapsEqual(got, map[int]float64{0: 0, 2: 0, 3: 0}) {
		t.Fatalf("altruist unchoked %v, want every interested peer, uncapped", got)
	}
}

func TestFreeRider(t *testing.T) {
	v := view(0, false, Peer{Interested: true, DownRate: 1000}, Peer{Interested: true})
	if got := (FreeRider{}).Rechoke(v, nil); len(got) != 0 {
		t.Fatalf("free rider unchoked %v", got)
	}
	v.Seeding = true
	if got := (FreeRider{}).Rechoke(v, nil); len(got) != 0 {
		t.Fatalf("free rider unchoked %v while seeding", got)
	}
}

func TestNew(t *testing.T) {
	for _, name := range Names() {
		c, err := New(name)
		if err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
		if c.Interval() != 10*time.Second {
			t.Errorf("%s: interval %v, want 10s", name, c.Interval())
		}
		// Every choker copes with an empty swarm and with seeding.
		v := view(0, true)
		v.UploadCapacity = 1000
		if got := c.Rechoke(v, nil); len(got) != 0 {
			t.Errorf("%s unchoked %v in an empty swarm", name, got)
		}
	}
	if _, err := New("nope"); err == nil {
		t.Fatal("New accepted an unknown name")
	}
	for name, want := range map[string]string{"bittyrant": "*choker.BitTyrant", "propshare": "*choker.PropShare",
		"altruist": "choker.Altruist", "free-rider": "choker.FreeRider"} {
		c, _ := New(name)
		if got := fmt.Sprintf("%T", c); got != want {
			t.Errorf("New(%q) is %s, want %s", name, got, want)
		}
	}
}
