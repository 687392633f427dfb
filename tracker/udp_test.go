package tracker

import (
	"encoding/binary"
	"errors"
	"net/netip"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
)

func TestUDPConnect(t *testing.T) {
	pkt := AppendUDPConnectRequest(nil, 0xcafe)
	if len(pkt) != UDPConnectSize {
		t.Fatalf("connect request is %d bytes", len(pkt))
	}
	var req UDPRequest
	if err := ParseUDPRequest(pkt, &req, 0); err != nil {
		t.Fatal(err)
	}
	if req.Action != ActionConnect || req.TransactionID != 0xcafe || req.ConnectionID != ProtocolID {
		t.Errorf("parsed %+v", req)
	}
	binary.BigEndian.PutUint64(pkt, 1)
	if err := ParseUDPRequest(pkt, &req, 0); err == nil {
		t.Errorf("connect without protocol id accepted")
	}
	resp := AppendUDPConnectResponse(nil, 0xcafe, 0x1122334455667788)
	r, err := ParseUDPResponse(resp, false)
	if err != nil || r.Action != ActionConnect || r.TransactionID != 0xcafe || r.ConnectionID != 0x1122334455667788 {
		t.Errorf("connect response %+v, %v", r, err)
	}
}

func TestUDPAnnounceRoundTrip(t *testing.T) {
	a := AnnounceRequest{InfoHash: testHash, PeerID: testID, Downloaded: 1, Left: 2, Uploaded: 3,
		Event: EventCompleted, IP: netip.MustParseAddr("1.2.3.4"), Key: 99, HasKey: true, NumWant: 10,
		Port: 6881, Compact: true}
	urlData := []byte("/" + strings.Repeat("k", 300) + "/announce?x=1")
	pkt := AppendUDPAnnounceRequest(nil, 42, 7, &a, urlData)
	if want := UDPAnnounceSize + 2 + 255 + 2 + len(urlData) - 255; len(pkt) != want {
		t.Fatalf("announce packet %d bytes, want %d", len(pkt), want)
	}
	var req UDPRequest
	if err := ParseUDPRequest(pkt, &req, 0); err != nil {
		t.Fatal(err)
	}
	if req.ConnectionID != 42 || req.TransactionID != 7 || req.Action != ActionAnnounce {
		t.Errorf("header %+v", req)
	}
	if !reflect.DeepEqual(req.Announce, a) {
		t.Errorf("announce\ngot  %+v\nwant %+v", req.Announce, a)
	}
	if string(req.URLData) != string(urlData) {
		t.Errorf("URL data %q, want %q", req.URLData, urlData)
	}
	// The request owns its URL data: changing the packet does not change it.
	pkt[UDPAnnounceSize+2] = 'X'
	if req.URLData[0] != '/' {
		t.Errorf("URLData aliases the packet")
	}
	// numwant -1, no IP, NOP and end-of-options, and junk after the end.
	a2 := a
	a2.NumWant, a2.IP = NumWantDefault, netip.Addr{}
	pkt = AppendUDPAnnounceRequest(nil, 1, 2, &a2, nil)
	pkt = append(pkt, optNOP, optURLData, 2, '/', 'k', optEndOfOptions, 0xff, 0xff)
	if err := ParseUDPRequest(pkt, &req, 0); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(req.Announce, a2) || string(req.URLData) != "/k" {
		t.Errorf("got %+v %q", req.Announce, req.URLData)
	}
	// A truncated option and an unknown one end the options.
	for _, tail := range [][]byte{{optURLData}, {optURLData, 5, 'a'}, {7, 1, 2}} {
		pkt = append(AppendUDPAnnounceRequest(nil, 1, 2, &a2, nil), tail...)
		if err := ParseUDPRequest(pkt, &req, 0); err != nil || len(req.URLData) != 0 {
			t.Errorf("tail %v: %v, URL data %q", tail, err, req.URLData)
		}
	}
}

func TestUDPAnnounceErrors(t *testing.T) {
	a := AnnounceRequest{InfoHash: testHash, PeerID: testID, Port: 1, NumWant: 5}
	good := AppendUDPAnnounceRequest(nil, 1, 2, &a, nil)
	mutate := func(f func([]byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, pkt := range map[string][]byte{
		"short":         good[:97],
		"event 4":       mutate(func(b []byte) []byte { binary.BigEndian.PutUint32(b[80:], 4); return b }),
		"port 0":        mutate(func(b []byte) []byte { b[96], b[97] = 0, 0; return b }),
		"negative left": mutate(func(b []byte) []byte { b[64] = 0x80; return b }),
		"url too long": mutate(func(b []byte) []byte {
			for i := 0; i < 5; i++ {
				b = append(b, optURLData, 255)
				b = append(b, make([]byte, 255)...)
			}
			return b
		}),
	} {
		var req UDPRequest
		err := ParseUDPRequest(pkt, &req, 0)
		var ue *UDPError
		if !errors.As(err, &ue) {
			t.Errorf("%s: err %v, want a UDPError", name, err)
		}
		if req.TransactionID != 2 {
			t.Errorf("%s: transaction id %d not kept for the error response", name, req.TransactionID)
		}
	}
	var req UDPRequest
	if err := ParseUDPRequest(good[:15], &req, 0); !errors.Is(err, ErrUDPShort) {
		t.Errorf("15 bytes: %v, want ErrUDPShort", err)
	}
	unknown := append([]byte(nil), good[:16]...)
	binary.BigEndian.PutUint32(unknown[8:], 9)
	if err := ParseUDPRequest(unknown, &req, 0); err == nil || err.Error() != "unknown action" {
		t.Errorf("action 9: %v", err)
	}
}

func TestUDPAnnounceResponse(t *testing.T) {
	resp := &AnnounceResponse{Interval: 90 * time.Second, Complete: 5, Incomplete: 6, Peers: []Peer{peer4, peer6}}
	pkt := AppendUDPAnnounceResponse(nil, 3, resp, false)
	if len(pkt) != UDPAnnounceHeaderSize+6 {
		t.Fatalf("IPv4 response is %d bytes, want %d (IPv6 peer left out)", len(pkt), UDPAnnounceHeaderSize+6)
	}
	r, err := ParseUDPResponse(pkt, false)
	if err != nil {
		t.Fatal(err)
	}
	want := AnnounceResponse{Interval: 90 * time.Second, Complete: 5, Incomplete: 6, Peers: []Peer{{Addr: peer4.Addr}}}
	if r.Action != ActionAnnounce || r.TransactionID != 3 || !reflect.DeepEqual(r.Announce, want) {
		t.Errorf("got %+v", r)
	}
	pkt = AppendUDPAnnounceResponse(nil, 3, resp, true)
	if len(pkt) != UDPAnnounceHeaderSize+18 {
		t.Fatalf("IPv6 response is %d bytes", len(pkt))
	}
	if r, err = ParseUDPResponse(pkt, true); err != nil || len(r.Announce.Peers) != 1 || r.Announce.Peers[0].Addr != peer6.Addr {
		t.Errorf("IPv6: %+v, %v", r, err)
	}
	// The header alone is the response's first UDPAnnounceHeaderSize bytes.
	if head := AppendUDPAnnounceHeader([]byte("x"), 3, resp); string(head) != "x"+string(pkt[:UDPAnnounceHeaderSize]) {
		t.Errorf("header %x, want %x after the x", head, pkt[:UDPAnnounceHeaderSize])
	}
}

func TestUDPScrape(t *testing.T) {
	hs := []metainfo.Hash{testHash, {9}}
	pkt := AppendUDPScrapeRequest(nil, 5, 6, hs)
	var req UDPRequest
	if err := ParseUDPRequest(pkt, &req, 0); err != nil || !reflect.DeepEqual(req.InfoHashes, hs) {
		t.Fatalf("scrape %+v, %v", req.InfoHashes, err)
	}
	if err := ParseUDPRequest(pkt, &req, 1); err == nil {
		t.Errorf("2 hashes with max 1 accepted")
	}
	if err := ParseUDPRequest(pkt[:16], &req, 0); err == nil {
		t.Errorf("scrape without hashes accepted")
	}
	if err := ParseUDPRequest(pkt[:30], &req, 0); err == nil {
		t.Errorf("scrape with a partial hash accepted")
	}
	stats := []ScrapeStats{{1, 2, 3}, {4, 5, 6}}
	r, err := ParseUDPResponse(AppendUDPScrapeResponse(nil, 6, stats), false)
	if err != nil || !reflect.DeepEqual(r.Scrape, stats) || r.TransactionID != 6 {
		t.Errorf("scrape response %+v, %v", r, err)
	}
	r, err = ParseUDPResponse(AppendUDPError(nil, 8, "nope"), false)
	if err != nil || r.Action != ActionError || r.Error != "nope" || r.TransactionID != 8 {
		t.Errorf("error response %+v, %v", r, err)
	}
}

func TestParseUDPRequestAllocs(t *testing.T) {
	a := AnnounceRequest{InfoHash: testHash, PeerID: testID, Port: 1, NumWant: 5}
	pkt := AppendUDPAnnounceRequest(nil, 1, 2, &a, []byte("/key/announce"))
	scrape := AppendUDPScrapeRequest(nil, 1, 2, []metainfo.Hash{{1}, {2}})
	var req UDPRequest
	_ = ParseUDPRequest(pkt, &req, 0)
	_ = ParseUDPRequest(scrape, &req, 0)
	n := testing.AllocsPerRun(100, func() {
		if ParseUDPRequest(pkt, &req, 0) != nil || ParseUDPRequest(scrape, &req, 0) != nil {
			t.Fatal("parse failed")
		}
	})
	if n != 0 {
		t.Errorf("ParseUDPRequest allocates %.1f times per call on a reused request", n)
	}
}
