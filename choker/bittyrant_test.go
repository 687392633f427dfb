package choker

import (
	"slices"
	"testing"
	"time"
)

// In these fixtures pieces are 1000 bytes, so a HAVE rate of 1 piece/s
// is a capacity of 1000 bytes/s and, split over an active set of 4, an
// equal-split rate (initial d_p and u_p) of 250 bytes/s.
const pieceLen = 1000

// tyrantView is view with our upload capacity and the piece length.
func tyrantView(now time.Duration, capacity float64, peers ...Peer) *View {
	v := view(now, false, peers...)
	v.UploadCapacity, v.PieceLength = capacity, pieceLen
	return v
}

// rates maps each unchoked index to its Rate.
func rates(us []Unchoke) map[int]float64 {
	out := map[int]float64{}
	for _, u := range us {
		out[u.Index] = u.Rate
	}
	return out
}

func order(us []Unchoke) []int {
	var out []int
	for _, u := range us {
		out = append(out, u.Index)
	}
	return out
}

// A swarm of six: d/u is 2 for peer 0 (sends 500, needs 250), 4 for
// peer 2 (sends 2000, needs 500), 1 for peers 1, 4 and 5 (5 is a small
// peer: it needs only 100); peer 3 sends most but is not interested.
func tyrantPeers() []Peer {
	return []Peer{
		{Interested: true, HavesPerSecond: 1, DownRate: 500},
		{Interested: true, HavesPerSecond: 1, DownRate: 250},
		{Interested: true, HavesPerSecond: 2, DownRate: 2000},
		{Interested: false, HavesPerSecond: 1, DownRate: 9000},
		{Interested: true, HavesPerSecond: 1},
		{Interested: true, HavesPerSecond: 0.4},
	}
}

func TestBitTyrantRanksByRatio(t *testing.T) {
	c := NewBitTyrant()
	got := c.Rechoke(tyrantView(0, 1e9, tyrantPeers()...), nil)
	if o := order(got); len(o) != 5 || o[0] != 2 || o[1] != 0 {
		t.Fatalf("unchoked in order %v, want 2, 0, then 1, 4 and 5", o)
	}
	want := map[int]float64{2: 500, 0: 250, 1: 250, 4: 250, 5: 100} // Rate = u_p
	if r := rates(got); !mapsEqual(r, want) {
		t.Fatalf("rates %v, want %v", r, want)
	}
}

func TestBitTyrantBudget(t *testing.T) {
	tests := []struct {
		capacity float64
		want     map[int]float64
	}{
		{1e9, map[int]float64{2: 500, 0: 250, 1: 250, 4: 250, 5: 100}},
		// 500 + 250 fit in 800; the next 250 does not.
		{800, map[int]float64{2: 500, 0: 250}},
		// 500 fits in 700, 500 + 250 does not: stop there, though peer
		// 5's 100 would still fit.
		{700, map[int]float64{2: 500}},
		// The best peer alone costs more than we have: it gets it all,
		// and nobody else is unchoked.
		{100, map[int]float64{2: 100}},
	}
	for _, tt := range tests {
		got := NewBitTyrant().Rechoke(tyrantView(0, tt.capacity, tyrantPeers()...), nil)
		if r := rates(got); !mapsEqual(r, tt.want) {
			t.Errorf("capacity %v: unchoked %v, want %v", tt.capacity, r, tt.want)
		}
	}
}

func TestBitTyrantUnknownCapacity(t *testing.T) {
	c := NewBitTyrant()
	c.Slots = 2
	got := c.Rechoke(tyrantView(0, 0, tyrantPeers()...), nil)
	if r := rates(got); !mapsEqual(r, map[int]float64{2: 500, 0: 250}) {
		t.Fatalf("unchoked %v, want the top 2 by ratio at u_p", r)
	}
}

// tyrantRounds runs c over rounds of 10 s with peer 0 sending down[k] and
// receiving up[k] in round k, and returns the Rate it was given each
// round (its u_p).
func tyrantRounds(t *testing.T, c *BitTyrant, down, up []float64) []float64 {
	t.Helper()
	var out []float64
	for k := range down {
		v := tyrantView(time.Duration(k)*10*time.Second, 1e9,
			Peer{Interested: true, HavesPerSecond: 1, DownRate: down[k], UpRate: up[k]})
		out = append(out, rates(c.Rechoke(v, nil))[0])
	}
	return out
}

func TestBitTyrantLearnsU(t *testing.T) {
	tests := []struct {
		name     string
		down, up []float64
		want     []float64
	}{
		{"×1.2 after each round we gave and got nothing",
			[]float64{0, 0, 0}, []float64{300, 300, 300}, []float64{300, 360, 432}},
		{"no change when we gave nothing",
			[]float64{0, 0}, []float64{0, 0}, []float64{250, 250}},
		{"×0.9 from the third round of reciprocation on",
			[]float64{100, 100, 100, 100}, []float64{250, 250, 250, 250}, []float64{250, 250, 225, 202.5}},
		// A round without reciprocation restarts the count.
		{"the streak restarts",
			[]float64{100, 100, 0, 100, 100, 100}, []float64{250, 250, 250, 300, 300, 300},
			[]float64{250, 250, 300, 300, 300, 270}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := tyrantRounds(t, NewBitTyrant(), tt.down, tt.up)
			for k := range got {
				if !near(got[k], tt.want[k]) {
					t.Fatalf("u_p by round %v, want %v", got, tt.want)
				}
			}
		})
	}
}

func TestBitTyrantLearnsOncePerRound(t *testing.T) {
	c := NewBitTyrant()
	p := Peer{Interested: true, HavesPerSecond: 1, UpRate: 300}
	for _, now := range []time.Duration{0, 2 * time.Second, 5 * time.Second, 9 * time.Second} {
		c.Rechoke(tyrantView(now, 1e9, p), nil)
	}
	if got := rates(c.Rechoke(tyrantView(9*time.Second, 1e9, p), nil))[0]; !near(got, 300) {
		t.Fatalf("after one round and early rechokes u_p = %v, want 300", got)
	}
	if got := rates(c.Rechoke(tyrantView(10*time.Second, 1e9, p), nil))[0]; !near(got, 360) {
		t.Fatalf("after the second round u_p = %v, want 360", got)
	}
}

func TestBitTyrantNoOptimistic(t *testing.T) {
	// Peer 0 is the best buy; the others (u = 2500 each) do not fit in
	// what is left, so they are never tried, round after round, however
	// the ties fall: TitForTat would unchoke one of them optimistically.
	c := NewBitTyrant()
	for k := range 30 {
		peers := []Peer{{Interested: true, HavesPerSecond: 2, DownRate: 2000}}
		for range 4 {
			peers = append(peers, Peer{Interested: true, HavesPerSecond: 10, ConnectedAt: time.Duration(k) * 10 * time.Second})
		}
		v := tyrantView(time.Duration(k)*10*time.Second, 500, peers...)
		if got := order(c.Rechoke(v, nil)); !slices.Equal(got, []int{0}) {
			t.Fatalf("round %d unchoked %v, want only peer 0", k, got)
		}
	}
}

func TestBitTyrantPrior(t *testing.T) {
	c := NewBitTyrant()
	// Peer 2 has no HAVE rate yet: it is assumed to have the mean
	// capacity, (1000 + 3000) / 2, so u = 500.
	v := tyrantView(0, 1e9,
		Peer{Interested: true, HavesPerSecond: 1},
		Peer{Interested: true, HavesPerSecond: 3},
		Peer{Interested: true})
	if got := rates(c.Rechoke(v, nil)); !mapsEqual(got, map[int]float64{0: 250, 1: 750, 2: 500}) {
		t.Fatalf("rates %v", got)
	}
	// Once its HAVE rate is known, its own estimate replaces the prior.
	v = tyrantView(10*time.Second, 1e9,
		Peer{Interested: true, HavesPerSecond: 1},
		Peer{Interested: true, HavesPerSecond: 3},
		Peer{Interested: true, HavesPerSecond: 4})
	if got := rates(c.Rechoke(v, nil))[2]; got != 1000 {
		t.Fatalf("u after a HAVE rate = %v, want 1000", got)
	}
	// With no HAVE rate anywhere, peers are assumed like us.
	c = NewBitTyrant()
	if got := rates(c.Rechoke(tyrantView(0, 800, Peer{Interested: true}), nil))[0]; got != 200 {
		t.Fatalf("u with no estimates = %v, want 800/4", got)
	}
}

func TestBitTyrantSeeding(t *testing.T) {
	c := NewBitTyrant()
	c.Slots = 2
	peers := func() []Peer {
		return []Peer{
			{Interested: true, HavesPerSecond: 1, UpRate: 50},
			{Interested: true, HavesPerSecond: 1, UpRate: 500},
			{Interested: false, HavesPerSecond: 1, UpRate: 900},
			{Interested: true, HavesPerSecond: 1, UpRate: 300},
		}
	}
	for k := range 3 {
		v := tyrantView(time.Duration(k)*10*time.Second, 1000, peers()...)
		v.Seeding = true
		got := c.Rechoke(v, nil)
		if !slices.Equal(order(got), []int{1, 3}) || got[0].Rate != 0 || got[1].Rate != 0 {
			t.Fatalf("seeding unchoked %v, want peers 1 and 3 uncapped", got)
		}
	}
	// Three rounds of uploading with nothing back did not count against
	// anyone: u_p is still the initial 250.
	if u := c.peers[1].u; u != 250 {
		t.Fatalf("u_p after seeding = %v, want 250", u)
	}
}

func TestBitTyrantForgetsPeersThatLeft(t *testing.T) {
	c := NewBitTyrant()
	c.Rechoke(tyrantView(0, 1e9, tyrantPeers()...), nil)
	if len(c.peers) != 6 {
		t.Fatalf("tracking %d peers, want 6", len(c.peers))
	}
	v := tyrantView(10*time.Second, 1e9, tyrantPeers()[:2]...)
	c.Rechoke(v, nil)
	if len(c.peers) != 2 {
		t.Fatalf("tracking %d peers after 4 left, want 2", len(c.peers))
	}
}

func mapsEqual(a, b map[int]float64) bool {
	if len(a) != len(b) {
		return false
	}
	for k, x := range a {
		if y, ok := b[k]; !ok || !near(x, y) {
			return false
		}
	}
	return true
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestBitTyrantNothingKnown(t *testing.T) {
	// No capacity, no HAVE rates: u_p is 0 (uncapped) and the top Slots
	// are unchoked; a round of non-reciprocation cannot learn from 0, and
	// the first HAVE rate still sets u_p.
	c := NewBitTyrant()
	c.Slots = 1
	got := c.Rechoke(tyrantView(0, 0, Peer{Interested: true}), nil)
	if r := rates(got); !mapsEqual(r, map[int]float64{0: 0}) {
		t.Fatalf("unchoked %v, want peer 0 uncapped", r)
	}
	c.Rechoke(tyrantView(10*time.Second, 0, Peer{Interested: true, UpRate: 100}), nil)
	got = c.Rechoke(tyrantView(20*time.Second, 0, Peer{Interested: true, HavesPerSecond: 2}), nil)
	if r := rates(got); !mapsEqual(r, map[int]float64{0: 500}) {
		t.Fatalf("after a HAVE rate: %v, want u_p = 500", r)
	}
}
