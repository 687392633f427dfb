package store

import (
	crand "crypto/rand"
	"encoding/binary"
	"math/bits"
	"unsafe"
)

// posIndex finds a peer's position in its peerSet from its address. It is
// an open-addressing hash table with linear probing whose slots hold
// position+1 (0 is empty); the key is not stored but compared in the set's
// keys array. That makes it 4 bytes a slot, kept at most half full: 8 to
// 16 bytes a peer, where a map[addr4]int32 takes about twice that. And a
// lookup touches one slot and the key it points to (a line a sample is
// likely to read anyway) instead of a map's header, table and group, each
// a likely cache miss in a tracker holding many swarms.
//
// The hash is keyed with a secret drawn at start-up, as Go's maps are:
// clients choose their ports (and, with AllowIPOverride, addresses), and
// with a known hash they could pile a swarm's keys into one probe chain.
type posIndex[K addrKey] []int32

// hashKey is that secret. The samples a store draws never depend on it (it
// decides where keys sit in the table, not where peers sit in the set),
// so stores seeded alike still sample alike.
var hashKey = func() [2]uint64 {
	var b [16]byte
	_, _ = crand.Read(b[:]) // never fails on Linux
	return [2]uint64{binary.LittleEndian.Uint64(b[:8]), binary.LittleEndian.Uint64(b[8:])}
}()

// hashOf hashes an address key with two rounds of wyhash's multiply-fold.
func hashOf[K addrKey](k *K) uint64 {
	b := unsafe.Slice((*byte)(unsafe.Pointer(k)), unsafe.Sizeof(*k))
	var x, y uint64
	if len(b) == len(addr4{}) {
		x = uint64(binary.LittleEndian.Uint32(b)) | uint64(binary.LittleEndian.Uint16(b[4:]))<<32
	} else {
		x = binary.LittleEndian.Uint64(b) ^ uint64(binary.LittleEndian.Uint16(b[16:]))<<48
		y = binary.LittleEndian.Uint64(b[8:])
	}
	hi, lo := bits.Mul64(x^hashKey[0], y^hashKey[1])
	hi, lo = bits.Mul64(hi^lo^hashKey[0], 0x9e3779b97f4a7c15)
	return hi ^ lo
}

// newIndex returns an index of keys, at most a quarter full so that it
// has room to grow.
func newIndex[K addrKey](keys []K) posIndex[K] {
	x := make(posIndex[K], 1<<bits.Len(uint(4*len(keys)-1)))
	for i := range keys {
		x.add(&keys[i], int32(i))
	}
	return x
}

func (x posIndex[K]) mask() uint64 { return uint64(len(x) - 1) }

// full reports whether the index must grow before taking n keys.
func (x posIndex[K]) full(n int) bool { return 2*n > len(x) }

// find returns the position of k in keys, or -1.
func (x posIndex[K]) find(keys []K, k *K) int32 {
	m := x.mask()
	for i := hashOf(k) & m; ; i = (i + 1) & m {
		e := x[i]
		if e == 0 {
			return -1
		}
		if keys[e-1] == *k {
			return e - 1
		}
	}
}

// add records that k, not yet in the index, is at pos.
func (x posIndex[K]) add(k *K, pos int32) {
	m := x.mask()
	i := hashOf(k) & m
	for x[i] != 0 {
		i = (i + 1) & m
	}
	x[i] = pos + 1
}

// slot returns the slot that says k is at pos. Slots are found by the
// position they hold, not by comparing keys, so that it works while keys
// is being rearranged.
func (x posIndex[K]) slot(k *K, pos int32) uint64 {
	m := x.mask()
	i := hashOf(k) & m
	for x[i] != pos+1 {
		i = (i + 1) & m
	}
	return i
}

// move records that k moved from position from to position to.
func (x posIndex[K]) move(k *K, from, to int32) { x[x.slot(k, from)] = to + 1 }

// remove forgets k, at pos. keys must still hold every other indexed key at
// its indexed position. Linear probing needs no tombstones: the entries
// after the freed slot that would no longer be reachable from their home
// slot are shifted back into it.
func (x posIndex[K]) remove(keys []K, k *K, pos int32) {
	m := x.mask()
	hole := x.slot(k, pos)
	for j := (hole + 1) & m; x[j] != 0; j = (j + 1) & m {
		home := hashOf(&keys[x[j]-1]) & m
		// The entry at j may fill the hole unless its home lies
		// cyclically in (hole, j].
		if (j-home)&m >= (j-hole)&m {
			x[hole] = x[j]
			hole = j
		}
	}
	x[hole] = 0
}
