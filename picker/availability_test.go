package picker

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/swarmlab/swarmlab/bitfield"
)

// TestAvailabilityModel drives random HAVEs, disconnects and seeds through
// Availability and a plain per-piece counter side by side, and checks after
// every step that the counts agree.
func TestAvailabilityModel(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	const n = 37
	a := NewAvailability(n)
	model := make([]int, n)
	var peers []*bitfield.Bitfield
	seeds := 0
	for step := range 3000 {
		switch op := rng.IntN(10); {
		case op < 6 && len(peers) > 0: // a HAVE
			pb := peers[rng.IntN(len(peers))]
			p := rng.IntN(n)
			if pb.Set(p) {
				a.Inc(p)
				model[p]++
			}
		case op < 8: // a new peer with a random bitfield
			pb := bitfield.New(n)
			for p := range n {
				if rng.IntN(3) == 0 {
					pb.Set(p)
				}
			}
			if pb.All() {
				continue
			}
			a.AddPeer(pb)
			for p := range n {
				if pb.Has(p) {
					model[p]++
				}
			}
			peers = append(peers, pb)
		case op < 9 && len(peers) > 0: // a disconnect
			i := rng.IntN(len(peers))
			a.RemovePeer(peers[i])
			for p := range n {
				if peers[i].Has(p) {
					model[p]--
				}
			}
			peers = append(peers[:i], peers[i+1:]...)
		default: // a seed comes or goes
			if seeds > 0 && rng.IntN(2) == 0 {
				a.RemovePeer(bitfield.Full(n))
				seeds--
			} else {
				a.AddPeer(bitfield.Full(n))
				seeds++
			}
		}
		check(t, step, a, model, seeds)
	}
}

func check(t *testing.T, step int, a *Availability, model []int, seeds int) {
	t.Helper()
	for p := range model {
		if a.Count(p) != model[p]+seeds {
			t.Fatalf("step %d: Count(%d) = %d, want %d", step, p, a.Count(p), model[p]+seeds)
		}
	}
}

func TestPromoteToSeed(t *testing.T) {
	a := NewAvailability(3)
	other := bf("100")
	a.AddPeer(other)
	peer := bf("110")
	a.AddPeer(peer)
	peer.Set(2)
	a.Inc(2)
	a.PromoteToSeed()
	if a.Seeds() != 1 || a.Count(0) != 2 || a.Count(1) != 1 || a.Count(2) != 1 {
		t.Fatalf("seeds=%d counts=%d,%d,%d", a.Seeds(), a.Count(0), a.Count(1), a.Count(2))
	}
}

func BenchmarkAvailabilityInc(b *testing.B) {
	a := NewAvailability(4096)
	rng := rand.New(rand.NewPCG(1, 1))
	for b.Loop() {
		p := rng.IntN(4096)
		a.Inc(p)
		a.Dec(p)
	}
}

func BenchmarkRarestPick(b *testing.B) {
	const n = 4096
	f := fixture{string(bytesOf('0', n)), string(bytesOf('0', n)), nil}
	v := f.view(1)
	rng := rand.New(rand.NewPCG(2, 2))
	for range 50 {
		pb := bitfield.New(n)
		for p := range n {
			if rng.IntN(2) == 0 {
				pb.Set(p)
			}
		}
		v.Avail.AddPeer(pb)
	}
	peer := Peer{Has: bitfield.Full(n)}
	for b.Loop() {
		if _, ok := (Rarest{}).Pick(v, peer); !ok {
			b.Fatal("no pick")
		}
	}
}

// Counts are 16 bits; past that Inc must refuse, not wrap to zero and
// make the most common piece look like the rarest.
func TestAvailabilityRefusesToWrap(t *testing.T) {
	a := NewAvailability(2)
	for range math.MaxUint16 {
		a.Inc(1)
	}
	if got := a.Count(1); got != math.MaxUint16 {
		t.Fatalf("Count = %d after %d Incs", got, math.MaxUint16)
	}
	defer func() {
		if recover() == nil {
			t.Errorf("Inc past %d did not panic; Count = %d", math.MaxUint16, a.Count(1))
		}
	}()
	a.Inc(1)
}
