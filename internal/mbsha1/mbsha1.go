package mbsha1

import (
	"crypto/sha1"
	"encoding/binary"
)

// Size is the size of a SHA-1 digest in bytes.
const Size = sha1.Size

// Lanes is how many messages one run of the kernel advances.
const Lanes = 16

// Multi reports whether this processor has a multi-lane kernel.
func Multi() bool { return hostKernel != kernelNone }

// BatchFor returns how many messages of size bytes a caller that reads
// them into buffers should gather for one Sum: Lanes where the kernel
// runs, fewer when Lanes of them would take more than budget bytes, and 1
// when that leaves too few for the kernel to pay, or there is no kernel.
func BatchFor(size, budget int64) int {
	if hostKernel == kernelNone || size <= 0 {
		return 1
	}
	n := int(min(int64(Lanes), budget/size))
	if n < MinBatch {
		return 1
	}
	return n
}

// MinBatch is the fewest messages for which Sum uses a multi-lane
// kernel: below it, most lanes would run empty and crypto/sha1 is as
// fast. BenchmarkSum measures the kernels against crypto/sha1 by the
// number of messages: here, with 2 messages AVX-512 ran 0.42-0.61 GB/s
// against crypto/sha1's 0.45-0.60 and AVX2 0.31-0.38; with 3, 0.68-0.71
// and 0.46-0.60.
const MinBatch = 3

// Message is one message to hash: the concatenation of its segments.
type Message [][]byte

// Sum sets sums[i] to the SHA-1 digest of msgs[i]. sums must be at least
// as long as msgs.
func Sum(sums [][Size]byte, msgs []Message) {
	if hostKernel == kernelNone || len(msgs) < MinBatch {
		for i, m := range msgs {
			sums[i] = sumOne(m)
		}
		return
	}
	sumLanes(hostKernel, sums, msgs)
}

// sumLanes hashes msgs with kernel k, however few they are.
func sumLanes(k int, sums [][Size]byte, msgs []Message) {
	r := runner{kernel: k}
	r.run(sums, msgs)
}

// sumOne hashes one message with crypto/sha1.
func sumOne(m Message) [Size]byte {
	h := sha1.New()
	for _, seg := range m {
		h.Write(seg)
	}
	var sum [Size]byte
	h.Sum(sum[:0])
	return sum
}

// initial is SHA-1's initial chaining value (FIPS 180-4, 5.3.1).
var initial = [5]uint32{0x67452301, 0xefcdab89, 0x98badcfe, 0x10325476, 0xc3d2e1f0}

// runner feeds messages through the kernel's lanes, taking the next
// message into a lane as soon as the lane's message is done.
type runner struct {
	kernel int
	state  [5][Lanes]uint32
	ptrs   [Lanes]*byte
	lanes  [Lanes]lane
	w      [16][8]uint32 // the AVX2 kernel's message schedule
}

// lane is one message's progress through the kernel.
type lane struct {
	idx  int // the message's index in Sum's arguments; -1 when idle
	msg  Message
	seg  int    // current segment
	off  int    // offset in it
	size uint64 // bytes of the message taken so far

	// buf holds assembled blocks: one that straddles segments, or the
	// final one or two, padded. bufBlocks is how many it holds (0 while
	// reading segments in place), bufAt the next to run, and last
	// whether they end the message.
	buf       [2 * 64]byte
	bufBlocks int
	bufAt     int
	last      bool
}

func (r *runner) run(sums [][Size]byte, msgs []Message) {
	next := 0
	for i := range r.lanes {
		r.lanes[i].idx = -1
		if next < len(msgs) {
			r.load(i, next, msgs[next])
			next++
		}
	}
	for {
		n, active := 0, -1
		for i := range r.lanes {
			l := &r.lanes[i]
			if l.idx < 0 {
				continue
			}
			p, k := l.span()
			r.ptrs[i] = p
			if active < 0 || k < n {
				n = k
			}
			active = i // ends as the highest lane in use
		}
		if active < 0 {
			return
		}
		// Idle lanes run over an active lane's bytes, which are long
		// enough; their results are never read.
		for i := range r.lanes {
			if r.lanes[i].idx < 0 {
				r.ptrs[i] = r.ptrs[active]
			}
		}
		blocks(r.kernel, &r.state, &r.ptrs, n, &r.w, active >= 8)
		for i := range r.lanes {
			l := &r.lanes[i]
			if l.idx < 0 || !l.advance(n) {
				continue
			}
			sums[l.idx] = r.digest(i)
			l.idx = -1
			l.msg = nil
			if next < len(msgs) {
				r.load(i, next, msgs[next])
				next++
			}
		}
	}
}

// load starts message m (index idx) in lane i.
func (r *runner) load(i, idx int, m Message) {
	r.lanes[i] = lane{idx: idx, msg: m}
	for w := range initial {
		r.state[w][i] = initial[w]
	}
}

// digest reads lane i's chaining value as a digest.
func (r *runner) digest(i int) (sum [Size]byte) {
	for w := range 5 {
		binary.BigEndian.PutUint32(sum[4*w:], r.state[w][i])
	}
	return sum
}

// span returns where the lane's next blocks are and how many follow
// there contiguously (at least one).
func (l *lane) span() (*byte, int) {
	if l.bufBlocks > 0 {
		return &l.buf[64*l.bufAt], l.bufBlocks - l.bufAt
	}
	for l.seg < len(l.msg) && l.off == len(l.msg[l.seg]) {
		l.seg++
		l.off = 0
	}
	if l.seg < len(l.msg) {
		if rest := l.msg[l.seg][l.off:]; len(rest) >= 64 {
			return &rest[0], len(rest) / 64
		}
	}
	l.assemble()
	return &l.buf[0], l.bufBlocks
}

// assemble fills buf with the next 64 bytes, taken across segments, or,
// when fewer than 64 are left, with the message's padded end.
func (l *lane) assemble() {
	n := 0
	for n < 64 && l.seg < len(l.msg) {
		c := copy(l.buf[n:64], l.msg[l.seg][l.off:])
		n += c
		l.off += c
		if l.off == len(l.msg[l.seg]) {
			l.seg++
			l.off = 0
		}
	}
	l.size += uint64(n)
	l.bufAt = 0
	if n == 64 {
		l.bufBlocks = 1
		return
	}
	// The end (FIPS 180-4, 5.1.1): a 1 bit, zeros, and the length in
	// bits in the last 8 bytes of the last block.
	clear(l.buf[n:])
	l.buf[n] = 0x80
	l.bufBlocks = 1
	if n >= 56 {
		l.bufBlocks = 2
	}
	binary.BigEndian.PutUint64(l.buf[64*l.bufBlocks-8:], l.size*8)
	l.last = true
}

// advance records that n blocks of the lane ran, and reports whether its
// message is done.
func (l *lane) advance(n int) bool {
	if l.bufBlocks > 0 {
		l.bufAt += n
		if l.bufAt < l.bufBlocks {
			return false
		}
		l.bufBlocks = 0
		return l.last
	}
	l.off += 64 * n
	l.size += uint64(64 * n)
	return false
}
