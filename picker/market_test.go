package picker

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

// mpeer is a connected peer in a market fixture: its pieces, the rate it
// sends us at (bytes/s) and its HAVE rate (pieces/s).
type mpeer struct {
	has       string
	rate, hps float64
}

// market is a small swarm as the market picker sees it. Peer 0 is the
// one we pick for; availability is made from all the peers.
type market struct {
	have, started string
	peers         []mpeer
}

const testPieceLength = 1000

func (f market) view(seed uint64) (*View, Peer) {
	v := fixture{have: f.have, started: f.started}.view(seed)
	v.PieceLength = testPieceLength
	for _, q := range f.peers {
		p := Peer{Has: bf(q.has), Rate: q.rate, HavesPerSecond: q.hps}
		v.Avail.AddPeer(p.Has)
		v.Peers = append(v.Peers, p)
	}
	return v, v.Peers[0]
}

// marketPicks runs pk on f with 64 seeds and returns the pieces chosen.
func marketPicks(pk Picker, f market) []int { return pickSet(pk, f.view) }

func TestMarket(t *testing.T) {
	const (
		slow = 10   // bytes/s
		mid  = 100  // the peer we pick for, unless said otherwise
		fast = 1000 // bytes/s
	)
	mk := Market{DemandExp: 1, SupplyExp: 1} // no random first pieces
	tests := []struct {
		name string
		m    Market
		f    market
		want []int // every piece the picker may return; -1 = none
	}{
		// Piece counts 3,1,2,1: with equal speeds price falls with the
		// count, so Market is rarest-first, ties at random. A seed
		// raises every supply alike and changes nothing.
		{"equal speeds pick the rarest", mk, market{"0000", "0000", []mpeer{
			{"1111", mid, 0}, {"1010", mid, 0}, {"1000", mid, 0}, {"1111", mid, 0}, {"0000", mid, 0}}},
			[]int{1, 3}},
		// Piece 0 is held by the picking peer and two slow peers,
		// piece 1 by the picking peer and one fast peer. Rarest-first
		// takes piece 1; the slow holders make piece 0 the scarcer.
		{"slow holders beat a rarer piece", mk, market{"0000", "0000", []mpeer{
			{"11", mid, 0}, {"10", slow, 0}, {"10", slow, 0}, {"01", fast, 0}, {"00", mid, 0}}},
			[]int{0}},
		{"same count, slower holders win", mk, market{"0000", "0000", []mpeer{
			{"11", mid, 0}, {"10", fast, 0}, {"10", fast, 0}, {"01", slow, 0}, {"01", slow, 0}}},
			[]int{1}},
		// The fast peer we pick for can give us either piece quickly: its
		// speed swamps the other holders' and demand (rarity) decides.
		{"a fast source makes demand decide", mk, market{"0000", "0000", []mpeer{
			{"11", 1e6, 0}, {"10", slow, 0}, {"10", slow, 0}, {"01", fast, 0}, {"00", mid, 0}}},
			[]int{1}},
		// As "slow holders", with speeds known only from HAVE rates:
		// 0.01 and 1 piece/s of 1000 bytes.
		{"HAVE rates give speeds", mk, market{"0000", "0000", []mpeer{
			{"11", mid, 0}, {"10", 0, 0.01}, {"10", 0, 0.01}, {"01", 0, 1}, {"00", mid, 0}}},
			[]int{0}},
		// The two holders of piece 0 have no rate yet: they get the mean
		// known speed, (100+1000+100)/3 = 400 each, not zero, and piece 0
		// is then the better supplied.
		{"unknown speed is the mean, not slow", mk, market{"0000", "0000", []mpeer{
			{"11", mid, 0}, {"10", 0, 0}, {"10", 0, 0}, {"01", fast, 0}, {"00", mid, 0}}},
			[]int{1}},
		{"SupplyExp 0 is rarest-first", Market{DemandExp: 1}, market{"0000", "0000", []mpeer{
			{"11", mid, 0}, {"10", slow, 0}, {"10", slow, 0}, {"01", fast, 0}, {"00", mid, 0}}},
			[]int{1}},
		// Piece 0 has more holders but less speed behind it.
		{"DemandExp 0 is least supply", Market{SupplyExp: 1}, market{"0000", "0000", []mpeer{
			{"111", mid, 0}, {"100", slow, 0}, {"100", slow, 0}, {"010", fast, 0}, {"001", fast, 0}}},
			[]int{0}},
		{"skips pieces we have or started", mk, market{"111100", "000010", []mpeer{
			{"111111", mid, 0}, {"111110", mid, 0}}},
			[]int{5}},
		{"nothing to start", mk, market{"111100", "000011", []mpeer{
			{"111111", mid, 0}}},
			[]int{-1}},
		// Until we hold RandomFirst (4) pieces, any candidate.
		{"random first", NewMarket(), market{"1000", "0000", []mpeer{
			{"1111", mid, 0}, {"1110", mid, 0}, {"1110", mid, 0}}},
			[]int{1, 2, 3}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := marketPicks(tt.m, tt.f); !slices.Equal(got, tt.want) {
				t.Fatalf("picked %v, want %v", got, tt.want)
			}
		})
	}
}

// Where Market and rarest-first part ways is the point of Market: check
// the fixture above really is one.
func TestMarketDiffersFromRarest(t *testing.T) {
	f := market{"0000", "0000", []mpeer{
		{"11", 100, 0}, {"10", 10, 0}, {"10", 10, 0}, {"01", 1000, 0}, {"00", 100, 0}}}
	if got := marketPicks(Rarest{}, f); !slices.Equal(got, []int{1}) {
		t.Fatalf("rarest picked %v, want [1]", got)
	}
	if got := marketPicks(Market{DemandExp: 1, SupplyExp: 1}, f); !slices.Equal(got, []int{0}) {
		t.Fatalf("market picked %v, want [0]", got)
	}
}

func TestMarketTiesSeeded(t *testing.T) {
	// Pieces 1 and 3 cost the same: a tie, broken by View.Rand.
	f := market{"0000", "0000", []mpeer{{"1111", 100, 0}, {"1010", 100, 0}, {"0000", 100, 0}}}
	m := Market{DemandExp: 1, SupplyExp: 1}
	for seed := range uint64(16) {
		v1, p1 := f.view(seed)
		v2, p2 := f.view(seed)
		a, _ := m.Pick(v1, p1)
		b, _ := m.Pick(v2, p2)
		if a != b {
			t.Fatalf("seed %d picked %d then %d: not reproducible", seed, a, b)
		}
	}
	// Uniform among the tied: with 4 tied pieces each gets about a quarter.
	m = NewMarket()
	f = market{"11110000", "00000000", []mpeer{{"11111111", 100, 0}, {"11110000", 100, 0}}}
	counts := map[int]int{}
	v, p := f.view(3)
	for range 4000 {
		piece, _ := m.Pick(v, p)
		counts[piece]++
	}
	for piece := 4; piece < 8; piece++ {
		if counts[piece] < 800 { // 1000 expected
			t.Fatalf("tied piece %d picked %d of 4000 times: %v", piece, counts[piece], counts)
		}
	}
}

func TestMarketWithoutPeersIsRarest(t *testing.T) {
	f := fixture{"0000", "0000", []string{"1111", "1010", "1000"}}
	if got := picks(Market{DemandExp: 1, SupplyExp: 1}, f, "1110"); !slices.Equal(got, []int{1}) {
		t.Fatalf("picked %v, want [1]", got)
	}
}

// TestMarketMatchesPlainSum checks the bit-sliced sums against a plain
// loop over pieces and holders, on swarms wide enough (150 pieces, up to
// 40 peers) to carry across words and many bit planes.
func TestMarketMatchesPlainSum(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	m := NewMarket()
	for trial := range 200 {
		n, peers := 150, 2+rng.IntN(39)
		f := market{have: randBits(rng, n, 0.3), started: randBits(rng, n, 0.1)}
		for k := range peers {
			q := mpeer{has: randBits(rng, n, rng.Float64())}
			switch {
			case k > 0 && rng.IntN(8) == 0:
				q.has = string(bytesOf('1', n)) // a seed
			case rng.IntN(5) == 0: // unknown speed
			default:
				q.rate = math.Exp(rng.Float64() * 10)
			}
			f.peers = append(f.peers, q)
		}
		v, p := f.view(uint64(trial))
		want := plainBest(m, v, p)
		for range 8 {
			got, ok := m.Pick(v, p)
			if !ok {
				got = -1
			}
			if !slices.Contains(want, got) {
				t.Fatalf("trial %d: picked %d, best by plain sums %v", trial, got, want)
			}
		}
	}
}

// plainBest prices every candidate by summing its holders' levels one by
// one and returns the pieces with the top price (-1 if none).
func plainBest(m Market, v *View, p Peer) []int {
	base, unit, holders := m.levels(v, p)
	var best []int
	bestPrice := math.Inf(-1)
	for piece := range v.Have.Len() {
		if !p.Has.Has(piece) || v.Have.Has(piece) || v.Started.Has(piece) {
			continue
		}
		var levels uint64
		for _, h := range holders {
			if h.has.Has(piece) {
				levels += h.level
			}
		}
		price := m.price(v, piece, base+float64(levels)*unit)
		tol := 1e-9 * math.Abs(bestPrice)
		switch {
		case best == nil || price > bestPrice+tol:
			best, bestPrice = []int{piece}, price
		case price >= bestPrice-tol:
			best = append(best, piece)
		}
	}
	if best == nil {
		return []int{-1}
	}
	return best
}

func randBits(rng *rand.Rand, n int, p float64) string {
	b := bytesOf('0', n)
	for i := range b {
		if rng.Float64() < p {
			b[i] = '1'
		}
	}
	return string(b)
}

func BenchmarkMarket(b *testing.B) {
	rng := rand.New(rand.NewPCG(1, 2))
	n := 2000
	f := market{have: randBits(rng, n, 0.3), started: randBits(rng, n, 0.05)}
	for range 50 {
		f.peers = append(f.peers, mpeer{has: randBits(rng, n, rng.Float64()), rate: math.Exp(rng.Float64() * 10)})
	}
	v, p := f.view(1)
	m := NewMarket()
	b.ReportAllocs()
	for b.Loop() {
		m.Pick(v, p)
	}
}

func TestNew(t *testing.T) {
	for _, name := range Names() {
		if _, err := New(name); err != nil {
			t.Fatalf("New(%q): %v", name, err)
		}
	}
	if pk, _ := New("market"); pk != NewMarket() {
		t.Fatalf(`New("market") = %#v, want NewMarket()`, pk)
	}
	if _, err := New("nope"); err == nil {
		t.Fatal("New accepted an unknown name")
	}
}
