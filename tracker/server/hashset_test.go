package server

import (
	"math/rand/v2"
	"testing"

	"github.com/swarmlab/swarmlab/metainfo"
)

// TestHashSet checks membership against a map, for sets of every size up
// to a few hundred (so that tables of several sizes fill to their limit),
// with and without the all-zero hash, and for hashes that differ in one
// byte only.
func TestHashSet(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	random := func() metainfo.Hash {
		var h metainfo.Hash
		for i := range h {
			h[i] = byte(r.Uint32())
		}
		return h
	}
	for n := 0; n < 300; n += 1 + n/8 {
		var key [16]byte
		key[0] = byte(n)
		var hashes []metainfo.Hash
		want := map[metainfo.Hash]bool{}
		for i := 0; i < n; i++ {
			h := random()
			if i%7 == 3 {
				h = hashes[len(hashes)-1]
				h[i%20]++ // a near neighbour
			}
			if i == 5 {
				h = metainfo.Hash{}
			}
			hashes = append(hashes, h)
			want[h] = true
		}
		hashes = append(hashes, hashes...) // duplicates are harmless
		s := newHashSet(hashes, key)
		if 2*len(want) > len(s.slots) {
			t.Fatalf("%d hashes in %d slots", len(want), len(s.slots))
		}
		probe := []metainfo.Hash{{}, random(), random()}
		for h := range want {
			probe = append(probe, h)
			h[19] ^= 1
			probe = append(probe, h)
		}
		for _, h := range probe {
			if got := s.has(&h); got != want[h] {
				t.Fatalf("n=%d: has(%x) = %v, want %v", n, h[:4], got, want[h])
			}
		}
	}
}
