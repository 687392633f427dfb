package server

import (
	"encoding/binary"
	"math/bits"
	"net/netip"
	"time"
)

// connIDSlot is the time slot a UDP connection id is bound to. An id is
// accepted in the slot it was issued in and the next, so it lives between
// one and two slots: at least the minute BEP 15 lets a client use it for,
// and at most two, after which a spoofer's captured id is worthless.
const connIDSlot = time.Minute

// connIDs derives UDP connection ids instead of storing them: an id is a
// keyed hash (SipHash-2-4) of the time slot and the client's address and
// port. Checking one costs a hash or two and no memory, so a flood of
// connects grows nothing, and a client can only obtain an id for an
// address it receives packets at, which is what stops announces from
// spoofed addresses.
type connIDs struct{ k0, k1 uint64 }

func newConnIDs(key [16]byte) connIDs {
	return connIDs{binary.LittleEndian.Uint64(key[:8]), binary.LittleEndian.Uint64(key[8:])}
}

func slotOf(now time.Time) uint64 { return uint64(now.Unix()) / uint64(connIDSlot/time.Second) }

func (c connIDs) derive(slot uint64, from netip.AddrPort) uint64 {
	var msg [26]byte
	binary.LittleEndian.PutUint64(msg[:8], slot)
	a := from.Addr().As16() // IPv4 as IPv4-mapped: one form per client
	copy(msg[8:24], a[:])
	binary.LittleEndian.PutUint16(msg[24:], from.Port())
	return sipHash24(c.k0, c.k1, msg[:])
}

// issue returns the connection id for a client at now.
func (c connIDs) issue(from netip.AddrPort, now time.Time) uint64 {
	return c.derive(slotOf(now), from)
}

// valid reports whether id was issued to from in the current slot or the
// one before.
func (c connIDs) valid(id uint64, from netip.AddrPort, now time.Time) bool {
	s := slotOf(now)
	return id == c.derive(s, from) || id == c.derive(s-1, from)
}

// sipHash24 is SipHash-2-4 (Aumasson and Bernstein, 2012) of msg under the
// key (k0, k1), the key's two little-endian halves.
func sipHash24(k0, k1 uint64, msg []byte) uint64 {
	v0 := k0 ^ 0x736f6d6570736575
	v1 := k1 ^ 0x646f72616e646f6d
	v2 := k0 ^ 0x6c7967656e657261
	v3 := k1 ^ 0x7465646279746573
	round := func() {
		v0 += v1
		v1 = bits.RotateLeft64(v1, 13)
		v1 ^= v0
		v0 = bits.RotateLeft64(v0, 32)
		v2 += v3
		v3 = bits.RotateLeft64(v3, 16)
		v3 ^= v2
		v0 += v3
		v3 = bits.RotateLeft64(v3, 21)
		v3 ^= v0
		v2 += v1
		v1 = bits.RotateLeft64(v1, 17)
		v1 ^= v2
		v2 = bits.RotateLeft64(v2, 32)
	}
	n := len(msg)
	for ; len(msg) >= 8; msg = msg[8:] {
		m := binary.LittleEndian.Uint64(msg)
		v3 ^= m
		round()
		round()
		v0 ^= m
	}
	// The last block holds the remaining bytes and the length's low byte.
	m := uint64(n) << 56
	for i, b := range msg {
		m |= uint64(b) << (8 * i)
	}
	v3 ^= m
	round()
	round()
	v0 ^= m
	v2 ^= 0xff
	round()
	round()
	round()
	round()
	return v0 ^ v1 ^ v2 ^ v3
}
