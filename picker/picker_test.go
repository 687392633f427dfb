package picker

import (
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/swarmlab/swarmlab/bitfield"
)

// bf builds a bitfield of n pieces from a string like "1010": piece i is
// set when s[i] is '1'.
func bf(s string) *bitfield.Bitfield {
	b := bitfield.New(len(s))
	for i, c := range s {
		if c == '1' {
			b.Set(i)
		}
	}
	return b
}

// fixture is a small swarm as the picker sees it: our pieces, the pieces
// under way, and the other peers' bitfields (which make up availability).
type fixture struct {
	have, started string
	others        []string
}

func (f fixture) view(seed uint64) *View {
	n := len(f.have)
	a := NewAvailability(n)
	for _, o := range f.others {
		a.AddPeer(bf(o))
	}
	return &View{Have: bf(f.have), Started: bf(f.started), Avail: a, Rand: rand.New(rand.NewPCG(seed, 0))}
}

// pickSet runs a picker on the situation at(seed) builds for 64 seeds and
// returns the set of pieces it chose, sorted (-1 for "none").
func pickSet(pk Picker, at func(seed uint64) (*View, Peer)) []int {
	seen := map[int]bool{}
	for seed := range uint64(64) {
		piece, ok := pk.Pick(at(seed))
		if !ok {
			piece = -1
		}
		seen[piece] = true
	}
	var out []int
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	return out
}

// picks is pickSet for a fixture and the peer holding the pieces in peer.
func picks(pk Picker, f fixture, peer string) []int {
	return pickSet(pk, func(seed uint64) (*View, Peer) { return f.view(seed), Peer{Has: bf(peer)} })
}

func TestRarest(t *testing.T) {
	tests := []struct {
		name string
		f    fixture
		peer string
		want []int // every piece the picker may return; -1 = none
	}{
		{"rarest of what the peer has",
			fixture{"0000", "0000", []string{"1111", "1010", "1000"}}, "1110", []int{1}},
		// Piece 1 is held by one peer, piece 3 by one: a random tie.
		{"ties broken at random",
			fixture{"0000", "0000", []string{"1111", "1010", "1010"}}, "1111", []int{1, 3}},
		{"skips pieces we have",
			fixture{"0100", "0000", []string{"1111", "1010"}}, "1111", []int{3}},
		{"skips pieces under way",
			fixture{"0000", "0101", []string{"1111", "1010"}}, "1111", []int{0, 2}},
		{"nothing to start",
			fixture{"1100", "0011", []string{"1111"}}, "1111", []int{-1}},
		{"peer has nothing we lack",
			fixture{"1100", "0000", []string{"1111"}}, "1100", []int{-1}},
		// Seeds raise every piece alike: the rarest stays the rarest.
		{"seeds do not change the order",
			fixture{"0000", "0000", []string{"1111", "1111", "0011", "0001"}}, "1111", []int{0, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := picks(Rarest{}, tt.f, tt.peer); !slices.Equal(got, tt.want) {
				t.Fatalf("picked %v, want %v", got, tt.want)
			}
		})
	}
}

func TestRarestRandomFirst(t *testing.T) {
	// Piece 3 is the rarest, but with fewer than RandomFirst pieces the
	// choice is random among all candidates.
	f := fixture{"1000", "0000", []string{"1110", "1110", "1111"}}
	if got := picks(Rarest{RandomFirst: 2}, f, "1111"); !slices.Equal(got, []int{1, 2, 3}) {
		t.Fatalf("random first picked %v", got)
	}
	f.have = "1100"
	if got := picks(Rarest{RandomFirst: 2}, f, "1111"); !slices.Equal(got, []int{3}) {
		t.Fatalf("after random first picked %v", got)
	}
}

func TestRandom(t *testing.T) {
	f := fixture{"0010", "1000", []string{"1111"}}
	if got := picks(Random{}, f, "1111"); !slices.Equal(got, []int{1, 3}) {
		t.Fatalf("picked %v, want [1 3]", got)
	}
	// Uniform over 100 candidates spread across words: every one appears.
	n := 200
	have, started, peer := make([]byte, n), make([]byte, n), make([]byte, n)
	for i := range n {
		have[i], started[i], peer[i] = '0', '0', '0'
		if i%2 == 1 {
			peer[i] = '1'
		}
	}
	big := fixture{string(have), string(started), nil}
	counts := map[int]int{}
	v := big.view(7)
	for range 20000 {
		p, ok := Random{}.Pick(v, Peer{Has: bf(string(peer))})
		if !ok || p%2 != 1 {
			t.Fatalf("picked %d, %v", p, ok)
		}
		counts[p]++
	}
	for i := 1; i < n; i += 2 {
		// 200 expected per piece; 100 is far outside chance.
		if counts[i] < 100 {
			t.Fatalf("piece %d picked %d times of 20000: not uniform", i, counts[i])
		}
	}
}

func TestSequential(t *testing.T) {
	long := make([]byte, 130)
	for i := range long {
		long[i] = '0'
	}
	long[129] = '1'
	tests := []struct {
		f    fixture
		peer string
		want int
	}{
		{fixture{"0000", "0000", nil}, "0111", 1},
		{fixture{"0100", "0010", nil}, "1111", 0},
		{fixture{"1100", "0010", nil}, "1111", 3},
		{fixture{string(long), string(long), nil}, string(long), -1},
	}
	for _, tt := range tests {
		got := picks(Sequential{}, tt.f, tt.peer)
		if !slices.Equal(got, []int{tt.want}) {
			t.Errorf("%+v peer %s: picked %v, want %d", tt.f, tt.peer, got, tt.want)
		}
	}
	// A candidate in the third word.
	if got := picks(Sequential{}, fixture{string(bytesOf('0', 130)), string(bytesOf('0', 130)), nil}, string(long)); !slices.Equal(got, []int{129}) {
		t.Errorf("picked %v, want 129", got)
	}
}

func bytesOf(c byte, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = c
	}
	return b
}
