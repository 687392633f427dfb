package server

import (
	"net/netip"
	"testing"
	"time"
)

// TestSipHash24 checks the reference vectors of the SipHash paper: key
// 00 01 … 0f, message 00 01 … of length i.
func TestSipHash24(t *testing.T) {
	want := map[int]uint64{
		0: 0x726fdb47dd0e0e31, 1: 0x74f839c593dc67fd, 7: 0xab0200f58b01d137, 8: 0x93f5f5799a932462,
		15: 0xa129ca6149be45e5, 16: 0x3f2acc7f57c29bdb, 26: 0x17d835b85bbb15f3, 63: 0x958a324ceb064572,
	}
	var key [16]byte
	msg := make([]byte, 64)
	for i := range key {
		key[i] = byte(i)
	}
	for i := range msg {
		msg[i] = byte(i)
	}
	c := newConnIDs(key)
	for n, w := range want {
		if got := sipHash24(c.k0, c.k1, msg[:n]); got != w {
			t.Errorf("SipHash-2-4 of %d bytes = %#x, want %#x", n, got, w)
		}
	}
}

func TestConnIDs(t *testing.T) {
	c := newConnIDs([16]byte{1, 2, 3})
	from := netip.MustParseAddrPort("127.0.0.1:5000")
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC) // on a slot boundary
	id := c.issue(from, t0)
	for _, tc := range []struct {
		after time.Duration
		ok    bool
	}{{0, true}, {59 * time.Second, true}, {60 * time.Second, true}, {119 * time.Second, true},
		{120 * time.Second, false}, {-time.Second, false}} {
		if got := c.valid(id, from, t0.Add(tc.after)); got != tc.ok {
			t.Errorf("id issued at t0 valid at t0%+v: %v, want %v", tc.after, got, tc.ok)
		}
	}
	// Bound to address and port, and to the key.
	for _, other := range []string{"127.0.0.1:5001", "127.0.0.2:5000", "[::1]:5000"} {
		if c.valid(id, netip.MustParseAddrPort(other), t0) {
			t.Errorf("id for %v accepted from %v", from, other)
		}
	}
	if newConnIDs([16]byte{9}).valid(id, from, t0) {
		t.Errorf("id accepted under another key")
	}
	// An IPv4 client is the same client whether or not its address is mapped.
	mapped := netip.AddrPortFrom(netip.AddrFrom16(from.Addr().As16()), from.Port())
	if !c.valid(id, mapped, t0) {
		t.Errorf("id not accepted from the IPv4-mapped form of the same address")
	}
}
