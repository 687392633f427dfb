package server

import (
	"encoding/binary"
	"net/netip"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
)

// FuzzUDPHandle feeds arbitrary datagrams to a UDP read loop's handler.
// Whatever arrives, the tracker must not crash and must never answer with
// more bytes than it received: without a connection id (which a fuzzer
// cannot forge) no reply may amplify traffic toward a spoofed source.
func FuzzUDPHandle(f *testing.F) {
	a := announceReq(ih(1), 1, 5)
	f.Add(tracker.AppendUDPConnectRequest(nil, 1))
	f.Add(tracker.AppendUDPAnnounceRequest(nil, 7, 2, &a, []byte("/k/announce")))
	f.Add(tracker.AppendUDPScrapeRequest(nil, 7, 3, []metainfo.Hash{ih(1)}))
	f.Add(make([]byte, 16))
	s, err := New(Config{Seed: 1, Keys: nil})
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { s.Close() })
	w := s.newUDPWorker()
	from := netip.MustParseAddrPort("127.0.0.1:9")
	n := 0
	f.Fuzz(func(t *testing.T, pkt []byte) {
		n++
		now := t0.Add(time.Duration(n) * time.Second) // keeps the error budget topped up
		out := w.handle(pkt, from, now)
		if len(out) > len(pkt) {
			t.Fatalf("%d-byte reply %x to %d-byte datagram %x", len(out), out, len(pkt), pkt)
		}
		if len(out) > 0 && len(out) < 8 {
			t.Fatalf("reply %x shorter than a BEP 15 header", out)
		}
		if len(out) >= 16 && binary.BigEndian.Uint32(out) == uint32(tracker.ActionConnect) {
			if id := binary.BigEndian.Uint64(out[8:]); !s.connIDs.valid(id, from, now) {
				t.Fatalf("issued connection id %x does not validate", id)
			}
		}
	})
}
