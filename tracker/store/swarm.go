package store

import (
	"encoding/binary"
	"net/netip"
	"unsafe"

	"github.com/swarmlab/swarmlab/tracker"
)

// A swarm keeps its IPv4 and IPv6 peers apart, each family in a peerSet.
// Most trackers see far more IPv4 peers than IPv6 ones, so the IPv6 set is
// made only when the first IPv6 peer arrives.
type swarm struct {
	v4         peerSet[addr4]
	v6         *peerSet[addr6]
	downloaded int
}

// addr4 is an IPv4 peer's address and port in the compact form of BEP 23
// and BEP 15: the 4 address bytes, then the port, big-endian. Keeping
// peers in the very bytes a compact response carries is what makes a
// sample a run of 6-byte copies out of one small array.
type addr4 [6]byte

// addr6 is an IPv6 peer's: 16 address bytes, then the port. The Redis
// store keeps every peer in this form, IPv4 ones as IPv4-mapped.
type addr6 [18]byte

// addrKey is either.
type addrKey interface{ addr4 | addr6 }

func addr4Of(ap netip.AddrPort) addr4 {
	var k addr4
	a := ap.Addr().Unmap().As4()
	copy(k[:4], a[:])
	binary.BigEndian.PutUint16(k[4:], ap.Port())
	return k
}

func addr6Of(ap netip.AddrPort) addr6 {
	var k addr6
	a := ap.Addr().As16() // an IPv4 address comes out IPv4-mapped
	copy(k[:16], a[:])
	binary.BigEndian.PutUint16(k[16:], ap.Port())
	return k
}

func (k *addr4) addrPort() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom4([4]byte(k[:4])), binary.BigEndian.Uint16(k[4:]))
}

func (k *addr6) addrPort() netip.AddrPort {
	return netip.AddrPortFrom(netip.AddrFrom16([16]byte(k[:16])).Unmap(), binary.BigEndian.Uint16(k[16:]))
}

// A peerSet holds one family's peers of a swarm in two arrays indexed by
// position, the seeds in [0, seeds) and the leechers after them: keys, the
// addresses, and meta, what else is known of each peer. Every set an asker
// may draw from (the leechers, or everyone) is then one run of positions,
// and sampling reads only keys, which are packed: 100 IPv4 peers are 600
// bytes, ten cache lines. What a refresh writes, the peer id and the time,
// shares one 32-byte entry, one cache line rather than two. Sampling writes
// nothing to the set, so it dirties no memory that the other core's
// announces then miss on.
//
// Apart from the sample, an announce takes time bounded whatever the
// swarm's size: a peer's position is found by scanning at most scanLimit
// keys, or else through index (see posIndex); inserting, removing and
// turning seed or leecher each move at most two peers, whose index
// entries are updated.
type peerSet[K addrKey] struct {
	keys  []K
	meta  []peerMeta
	index posIndex[K] // nil while the set is small
	seeds int32
}

type peerMeta struct {
	id   tracker.PeerID
	last int64 // unix nanoseconds of the last announce
}

// scanBytes bounds the keys a set scans to find a peer; beyond it an index
// is built, and it is dropped again below half. Most swarms are tiny, and
// for them a scan costs less than an index in both time and memory. Up to
// a dozen cache lines of keys (128 IPv4 peers, 42 IPv6 ones) it still
// does when the tracker's memory is cold: the scan streams through
// consecutive lines, which the hardware prefetches and the sample that
// follows mostly reads anyway, where an index lookup is two dependent
// misses, into the index and then the key it points to. (Measured as the
// tracker's CPU time per announce under `swarmlab bench tracker` with
// 100,000 peers in 100-peer swarms: limits of 16, 64 and 128 peers came
// out within 5% of each other, 128 the lowest. With everything in cache,
// as in the microbenchmarks, the index is the faster by some 40 ns.)
const scanBytes = 768

// scanLimit is the most peers the set finds by scanning.
func (s *peerSet[K]) scanLimit() int {
	var k K
	return scanBytes / int(unsafe.Sizeof(k))
}

func (s *peerSet[K]) len() int { return len(s.keys) }

// find returns the position of the peer at k, or -1.
func (s *peerSet[K]) find(k K) int32 {
	if s.index != nil {
		return s.index.find(s.keys, &k)
	}
	for i := range s.keys {
		if s.keys[i] == k {
			return int32(i)
		}
	}
	return -1
}

// swap exchanges the peers at positions i and j.
func (s *peerSet[K]) swap(i, j int32) {
	if i == j {
		return
	}
	s.keys[i], s.keys[j] = s.keys[j], s.keys[i]
	s.meta[i], s.meta[j] = s.meta[j], s.meta[i]
	if s.index != nil {
		// The key now at i was at j, and the other way round.
		si, sj := s.index.slot(&s.keys[i], j), s.index.slot(&s.keys[j], i)
		s.index[si], s.index[sj] = i+1, j+1
	}
}

// insert adds a peer and returns its position.
func (s *peerSet[K]) insert(k K, id tracker.PeerID, seed bool, last int64) int32 {
	pos := int32(len(s.keys))
	s.keys = append(s.keys, k)
	s.meta = append(s.meta, peerMeta{id: id, last: last})
	switch {
	case s.index != nil && !s.index.full(len(s.keys)):
		s.index.add(&k, pos)
	case s.index != nil || len(s.keys) > s.scanLimit():
		s.index = newIndex(s.keys)
	}
	if seed {
		pos = s.setSeed(pos, true)
	}
	return pos
}

// setSeed moves the peer at pos across the seed/leecher boundary if it is
// on the wrong side, and returns its new position.
func (s *peerSet[K]) setSeed(pos int32, seed bool) int32 {
	switch {
	case seed && pos >= s.seeds:
		s.swap(pos, s.seeds)
		s.seeds++
		return s.seeds - 1
	case !seed && pos < s.seeds:
		s.seeds--
		s.swap(pos, s.seeds)
		return s.seeds
	}
	return pos
}

// remove drops the peer at pos. Only peers at positions >= pos move, which
// is what lets expire walk the set from the end.
func (s *peerSet[K]) remove(pos int32) {
	pos = s.setSeed(pos, false)
	last := int32(len(s.keys) - 1)
	if s.index != nil {
		s.index.remove(s.keys, &s.keys[pos], pos)
	}
	if pos != last {
		s.keys[pos], s.meta[pos] = s.keys[last], s.meta[last]
		if s.index != nil {
			s.index.move(&s.keys[pos], last, pos)
		}
	}
	s.keys, s.meta = s.keys[:last], s.meta[:last]
	if s.index != nil && len(s.keys) < s.scanLimit()/2 {
		s.index = nil
	}
}

// expire removes the peers last seen before cutoff and returns how many.
// Walking down from the end, every position above the current one holds a
// peer already kept, and remove only moves such peers.
func (s *peerSet[K]) expire(cutoff int64) int {
	n := 0
	for pos := int32(len(s.meta)) - 1; pos >= 0; pos-- {
		if s.meta[pos].last < cutoff {
			s.remove(pos)
			n++
		}
	}
	if n > 0 {
		s.shrink()
	}
	return n
}

// shrink gives back the memory of a set that has fallen to a quarter of
// its capacity, so that a burst of peers long gone does not pin memory.
func (s *peerSet[K]) shrink() {
	n := len(s.keys)
	if cap(s.keys) <= 32 || n > cap(s.keys)/4 {
		return
	}
	s.keys = append(make([]K, 0, 2*n), s.keys...)
	s.meta = append(make([]peerMeta, 0, 2*n), s.meta...)
	if s.index != nil {
		s.index = newIndex(s.keys)
	}
}

// span returns the positions an asker may draw from: only the leechers
// when it is a seed, everyone otherwise, without the asker itself (at
// position self, or -1).
func (s *peerSet[K]) span(seed bool, self int32) span {
	sp := span{hi: int32(len(s.keys)), skip: noSkip}
	if seed {
		sp.lo = s.seeds
	}
	if sp.lo <= self && self < sp.hi {
		sp.skip = self
	}
	return sp
}

// span is a run of positions [lo, hi) of a peerSet less the one at skip
// (noSkip if none), numbered densely from 0 so that a sampler can draw
// from it as from [0, size).
type span struct{ lo, hi, skip int32 }

const noSkip = int32(1<<31 - 1)

func (sp span) size() int {
	n := int(sp.hi - sp.lo)
	if sp.skip != noSkip {
		n--
	}
	return n
}

// at returns the position of the i-th peer of the span.
func (sp span) at(i int32) int32 {
	p := sp.lo + i
	if p >= sp.skip {
		p++
	}
	return p
}

func (s *swarm) len() int {
	n := s.v4.len()
	if s.v6 != nil {
		n += s.v6.len()
	}
	return n
}

func (s *swarm) seeds() int {
	n := int(s.v4.seeds)
	if s.v6 != nil {
		n += int(s.v6.seeds)
	}
	return n
}

// counts sets r's swarm counts.
func (s *swarm) counts(r *Result) {
	seeds := s.seeds()
	r.Complete, r.Incomplete, r.Downloaded = seeds, s.len()-seeds, s.downloaded
}

func (s *swarm) expire(cutoff int64) int {
	n := s.v4.expire(cutoff)
	if s.v6 != nil {
		n += s.v6.expire(cutoff)
		if s.v6.len() == 0 {
			s.v6 = nil
		}
	}
	return n
}

// spans returns what an asker may draw from in each family: nothing from a
// family the asker did not ask for, and never the asker itself (at pos in
// the set of family self, or pos -1 when it is not in the swarm).
func (s *swarm) spans(fam Family, seed bool, self Family, pos int32) (sp4, sp6 span) {
	sp4, sp6 = span{skip: noSkip}, span{skip: noSkip} // empty
	if fam != FamilyIPv6 {
		sp4 = s.v4.span(seed, pos)
		if self != FamilyIPv4 {
			sp4.skip = noSkip
		}
	}
	if fam != FamilyIPv4 && s.v6 != nil {
		sp6 = s.v6.span(seed, pos)
		if self != FamilyIPv6 {
			sp6.skip = noSkip
		}
	}
	return sp4, sp6
}

// appendPeers appends the peers chosen by picks, indices into the
// concatenation of sp4 and sp6, with their peer ids.
func appendPeers[I pickIndex](s *swarm, dst []tracker.Peer, sp4, sp6 span, picks []I) []tracker.Peer {
	n4 := int32(sp4.size())
	for _, pi := range picks {
		if i := int32(pi); i < n4 {
			p := sp4.at(i)
			dst = append(dst, tracker.Peer{ID: s.v4.meta[p].id, Addr: s.v4.keys[p].addrPort()})
		} else {
			p := sp6.at(i - n4)
			dst = append(dst, tracker.Peer{ID: s.v6.meta[p].id, Addr: s.v6.keys[p].addrPort()})
		}
	}
	return dst
}

// pickIndex is the type of a sample's indices: pick8's or picker.pick's.
type pickIndex interface{ uint8 | int32 }

// appendCompact4 appends the keys of the IPv4 peers at picks in sp in
// compact form. It grows dst once and then copies fixed-size arrays, which
// compile to a few moves each. (Go cannot convert a slice to a pointer to
// a type parameter, so each family has its own copy of this loop.)
func appendCompact4[I pickIndex](dst []byte, set *peerSet[addr4], sp span, picks []I) []byte {
	n := len(dst)
	dst = grow(dst, len(addr4{})*len(picks))
	for j, i := range picks {
		*(*addr4)(dst[n+len(addr4{})*j:]) = set.keys[sp.at(int32(i))]
	}
	return dst
}

// appendCompact6 is appendCompact4 for IPv6 peers.
func appendCompact6[I pickIndex](dst []byte, set *peerSet[addr6], sp span, picks []I) []byte {
	n := len(dst)
	dst = grow(dst, len(addr6{})*len(picks))
	for j, i := range picks {
		*(*addr6)(dst[n+len(addr6{})*j:]) = set.keys[sp.at(int32(i))]
	}
	return dst
}

// grow extends dst by n bytes, reallocating only when it lacks capacity.
func grow(dst []byte, n int) []byte {
	if cap(dst)-len(dst) < n {
		b := make([]byte, len(dst), 2*cap(dst)+n)
		copy(b, dst)
		dst = b
	}
	return dst[:len(dst)+n]
}
