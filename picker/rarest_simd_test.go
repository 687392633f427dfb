package picker

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/swarmlab/swarmlab/bitfield"
)

// simdWorld is a random situation for rarestOf: n pieces, counts drawn
// below spread (small spreads make many ties), and our pieces, pieces
// under way and the peer's pieces each set with its own density.
func simdWorld(rng *rand.Rand, n, spread int, have, started, peer float64) (*View, Peer) {
	v := &View{Have: bitfield.New(n), Started: bitfield.New(n), Avail: NewAvailability(n)}
	has := bitfield.New(n)
	for i := range n {
		v.Avail.count[i] = uint16(rng.IntN(spread))
		if rng.Float64() < have {
			v.Have.Set(i)
		}
		if rng.Float64() < started {
			v.Started.Set(i)
		}
		if rng.Float64() < peer {
			has.Set(i)
		}
	}
	return v, Peer{Has: has}
}

// TestRarestSIMDMatchesScalar: the AVX-512 scan picks the same piece as
// the scalar one from the same random source, and draws from it the same
// way, over torrents of one word and less, one chunk and several chunks,
// with few and many ties, counts at the top of their range, and peers
// with no candidates.
func TestRarestSIMDMatchesScalar(t *testing.T) {
	if !simdLowest {
		t.Skip("this processor has no AVX-512: rarestOf runs the scalar scan only")
	}
	rng := rand.New(rand.NewPCG(9, 9))
	sizes := []int{1, 7, 63, 64, 65, 1000, 2047, 2048, 2049, 4096, 5000}
	spreads := []int{1, 3, 40, math.MaxUint16 + 1}
	for _, n := range sizes {
		for _, spread := range spreads {
			for trial := range 20 {
				have, started, peer := rng.Float64(), rng.Float64()*0.3, rng.Float64()
				if trial%5 == 0 {
					peer = 0 // nothing to offer
				}
				v, p := simdWorld(rng, n, spread, have, started, peer)
				if trial%7 == 0 {
					for i := range n {
						v.Avail.count[i] = math.MaxUint16
					}
				}
				seed := rng.Uint64()
				v.Rand = rand.New(rand.NewPCG(seed, 1))
				wantPiece, wantOK := rarestOfScalar(v, p)
				wantNext := v.Rand.Uint64()
				v.Rand = rand.New(rand.NewPCG(seed, 1))
				gotPiece, gotOK := rarestOfSIMD(v, p)
				gotNext := v.Rand.Uint64()
				if gotPiece != wantPiece || gotOK != wantOK || gotNext != wantNext {
					t.Fatalf("n %d, spread %d, trial %d: SIMD picked (%d, %v), scalar (%d, %v); next draws %x and %x",
						n, spread, trial, gotPiece, gotOK, wantPiece, wantOK, gotNext, wantNext)
				}
			}
		}
	}
}

// FuzzRarestSIMD searches for a world where the two scans disagree:
// the fuzzer chooses the torrent's size, how widely counts spread, the
// densities of our pieces, the pieces under way and the peer's pieces,
// and the seed that draws them.
func FuzzRarestSIMD(f *testing.F) {
	f.Add(uint64(1), uint16(1000), uint32(40), uint8(64), uint8(8), uint8(128))
	f.Add(uint64(2), uint16(2049), uint32(1), uint8(0), uint8(0), uint8(255))
	f.Add(uint64(3), uint16(64), uint32(math.MaxUint16+1), uint8(255), uint8(0), uint8(255))
	f.Fuzz(func(t *testing.T, seed uint64, n uint16, spread uint32, have, started, peer uint8) {
		if !simdLowest {
			t.Skip("this processor has no AVX-512")
		}
		size := int(n)%6000 + 1
		spread = spread%(math.MaxUint16+1) + 1
		rng := rand.New(rand.NewPCG(seed, 2))
		v, p := simdWorld(rng, size, int(spread), float64(have)/255, float64(started)/255, float64(peer)/255)
		v.Rand = rand.New(rand.NewPCG(seed, 3))
		wantPiece, wantOK := rarestOfScalar(v, p)
		wantNext := v.Rand.Uint64()
		v.Rand = rand.New(rand.NewPCG(seed, 3))
		gotPiece, gotOK := rarestOfSIMD(v, p)
		if gotNext := v.Rand.Uint64(); gotPiece != wantPiece || gotOK != wantOK || gotNext != wantNext {
			t.Fatalf("%d pieces: SIMD picked (%d, %v), scalar (%d, %v)", size, gotPiece, gotOK, wantPiece, wantOK)
		}
	})
}

// TestLowestAVX512 checks the kernel itself on a readable case: only the
// candidates' counts count, in both halves of a word.
func TestLowestAVX512(t *testing.T) {
	if !simdLowest {
		t.Skip("this processor has no AVX-512")
	}
	counts := make([]uint16, 128)
	for i := range counts {
		counts[i] = 100
	}
	counts[3], counts[40], counts[64+50] = 1, 2, 2 // 3 is no candidate
	cand := []uint64{1<<40 | 1<<10, 1 << 50}
	if got := lowestAVX512(&counts[0], &cand[0], 2); got != 2 {
		t.Errorf("lowest = %d, want 2 (pieces 40 and 114)", got)
	}
	eq := make([]uint64, 2)
	tiesAVX512(&counts[0], &cand[0], &eq[0], 2, 2)
	if eq[0] != 1<<40 || eq[1] != 1<<50 {
		t.Errorf("ties = %x, %x; want bit 40 and bit 50", eq[0], eq[1])
	}
	if got := lowestAVX512(&counts[0], &cand[0], 0); got != math.MaxUint16 {
		t.Errorf("lowest of no words = %d, want 0xFFFF", got)
	}
}

// BenchmarkRarestScan compares the two scans on bigswarm's 1,000 pieces,
// for a peer that has half of them while we have a quarter.
func BenchmarkRarestScan(b *testing.B) {
	rng := rand.New(rand.NewPCG(3, 3))
	v, p := simdWorld(rng, 1000, 40, 0.25, 0.02, 0.5)
	v.Rand = rand.New(rand.NewPCG(4, 4))
	b.Run("scalar", func(b *testing.B) {
		for b.Loop() {
			rarestOfScalar(v, p)
		}
	})
	b.Run("avx512", func(b *testing.B) {
		if !simdLowest {
			b.Skip("no AVX-512")
		}
		for b.Loop() {
			rarestOfSIMD(v, p)
		}
	})
}
