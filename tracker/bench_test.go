package tracker

import (
	"net/netip"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
)

func benchQuery() string {
	r := AnnounceRequest{InfoHash: testHash, PeerID: testID, Port: 6881, Uploaded: 123456, Downloaded: 654321,
		Left: 1 << 30, Event: EventStarted, NumWant: 50, Key: 0xdeadbeef, HasKey: true, Compact: true}
	return string(AppendAnnounceQuery(nil, &r)) + "&supportcrypto=1&redundant=0"
}

func BenchmarkParseAnnounceQuery(b *testing.B) {
	q := benchQuery()
	b.SetBytes(int64(len(q)))
	b.ReportAllocs()
	for b.Loop() {
		if _, err := ParseAnnounceQuery(q); err != nil {
			b.Fatal(err)
		}
	}
}

func benchPeers(n int) []Peer {
	ps := make([]Peer, n)
	for i := range ps {
		ps[i] = Peer{ID: testID, Addr: netip.AddrPortFrom(netip.AddrFrom4([4]byte{10, 0, byte(i >> 8), byte(i)}), uint16(6881+i))}
	}
	return ps
}

func BenchmarkAppendAnnounceResponse(b *testing.B) {
	resp := &AnnounceResponse{Interval: 30 * time.Minute, MinInterval: 15 * time.Minute, Complete: 10, Incomplete: 40,
		Peers: benchPeers(50)}
	for _, tc := range []struct {
		name    string
		compact bool
	}{{"compact50", true}, {"dict50", false}} {
		b.Run(tc.name, func(b *testing.B) {
			buf := make([]byte, 0, 8192)
			b.ReportAllocs()
			for b.Loop() {
				buf = AppendAnnounceResponse(buf[:0], resp, tc.compact, false)
			}
			b.SetBytes(int64(len(buf)))
		})
	}
}

func BenchmarkParseUDPRequest(b *testing.B) {
	a := AnnounceRequest{InfoHash: testHash, PeerID: testID, Port: 6881, Left: 5, NumWant: 50, Event: EventStarted}
	pkt := AppendUDPAnnounceRequest(nil, 1, 2, &a, nil)
	var req UDPRequest
	b.ReportAllocs()
	for b.Loop() {
		if err := ParseUDPRequest(pkt, &req, 0); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAppendUDPAnnounceResponse(b *testing.B) {
	resp := &AnnounceResponse{Interval: 30 * time.Minute, Complete: 10, Incomplete: 40, Peers: benchPeers(50)}
	buf := make([]byte, 0, 2048)
	b.ReportAllocs()
	for b.Loop() {
		buf = AppendUDPAnnounceResponse(buf[:0], 7, resp, false)
	}
}

func BenchmarkParseScrapeQuery(b *testing.B) {
	q := string(AppendScrapeQuery(nil, []metainfo.Hash{testHash, {1}, {2}}))
	dst := make([]metainfo.Hash, 0, 8)
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if dst, err = ParseScrapeQuery(q, dst[:0], 10); err != nil {
			b.Fatal(err)
		}
	}
}
