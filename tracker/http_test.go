package tracker

import (
	"bytes"
	"errors"
	"net/netip"
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
)

var (
	testHash = metainfo.Hash{0x12, 0x34, 0x56, 0x78, 0x9a, 0xbc, 0xde, 0xf1, 0x23, 0x45,
		'+', '&', '=', '%', ' ', 'A', 'z', '-', '~', 0xff}
	testID = PeerID([]byte("-SL0001-abcdefghijkl"))
)

func TestParseAnnounceQuery(t *testing.T) {
	base := "info_hash=" + url.QueryEscape(string(testHash[:])) + "&peer_id=" + url.QueryEscape(string(testID[:]))
	want := func(f func(*AnnounceRequest)) AnnounceRequest {
		r := AnnounceRequest{InfoHash: testHash, PeerID: testID, Port: 6881, Left: LeftUnknown,
			NumWant: NumWantDefault, Compact: true}
		if f != nil {
			f(&r)
		}
		return r
	}
	tests := []struct {
		name, query string
		want        AnnounceRequest
		err         string // substring of the error, "" for success
	}{
		{"minimal", base + "&port=6881", want(nil), ""},
		{"full", base + "&port=6881&uploaded=1&downloaded=2&left=3&event=started&numwant=7&key=DEADbeef&compact=0&no_peer_id=1&ip=10.0.0.1&trackerid=t%21",
			want(func(r *AnnounceRequest) {
				r.Uploaded, r.Downloaded, r.Left, r.Event, r.NumWant = 1, 2, 3, EventStarted, 7
				r.Key, r.HasKey, r.Compact, r.NoPeerID = 0xdeadbeef, true, false, true
				r.IP, r.TrackerID = netip.MustParseAddr("10.0.0.1"), "t!"
			}), ""},
		{"events", base + "&port=6881&event=completed", want(func(r *AnnounceRequest) { r.Event = EventCompleted }), ""},
		{"stopped", base + "&port=6881&event=stopped", want(func(r *AnnounceRequest) { r.Event = EventStopped }), ""},
		{"paused is a regular announce", base + "&port=6881&event=paused", want(nil), ""},
		{"empty event", base + "&port=6881&event=", want(nil), ""},
		{"unknown params and stray separators ignored", "&&foo=bar&" + base + "&x&port=6881&", want(nil), ""},
		{"negative numwant is the default", base + "&port=6881&numwant=-1", want(nil), ""},
		{"ipv6 ip", base + "&port=6881&ip=%3A%3A1", want(func(r *AnnounceRequest) { r.IP = netip.IPv6Loopback() }), ""},
		{"hostname ip ignored", base + "&port=6881&ip=example.org", want(nil), ""},
		{"non-hex key hashed", base + "&port=6881&key=zz", want(func(r *AnnounceRequest) { r.Key, r.HasKey = parseKey("zz"), true }), ""},
		{"left zero", base + "&port=6881&left=0", want(func(r *AnnounceRequest) { r.Left = 0 }), ""},
		{"max int64", base + "&port=6881&uploaded=9223372036854775807",
			want(func(r *AnnounceRequest) { r.Uploaded = 1<<63 - 1 }), ""},

		{"missing info_hash", "peer_id=" + url.QueryEscape(string(testID[:])) + "&port=1", AnnounceRequest{}, "info_hash: missing"},
		{"missing peer_id", "info_hash=" + url.QueryEscape(string(testHash[:])) + "&port=1", AnnounceRequest{}, "peer_id: missing"},
		{"missing port", base, AnnounceRequest{}, "port: missing"},
		{"short info_hash", "info_hash=abc&port=1", AnnounceRequest{}, "info_hash: shorter"},
		{"long info_hash", "info_hash=" + strings.Repeat("a", 21) + "&port=1", AnnounceRequest{}, "info_hash: longer"},
		{"bad escape", "info_hash=%zz" + strings.Repeat("a", 19), AnnounceRequest{}, "percent"},
		{"truncated escape", "info_hash=" + strings.Repeat("a", 19) + "%4", AnnounceRequest{}, "percent"},
		{"port zero", base + "&port=0", AnnounceRequest{}, "port"},
		{"port too big", base + "&port=65536", AnnounceRequest{}, "port"},
		{"port negative", base + "&port=-1", AnnounceRequest{}, "port"},
		{"port junk", base + "&port=12a", AnnounceRequest{}, "port"},
		{"negative left", base + "&port=1&left=-5", AnnounceRequest{}, "left"},
		{"overflow", base + "&port=1&uploaded=9223372036854775808", AnnounceRequest{}, "uploaded"},
		{"huge", base + "&port=1&downloaded=99999999999999999999999", AnnounceRequest{}, "downloaded"},
		{"bad event", base + "&port=1&event=bogus", AnnounceRequest{}, "event"},
		{"bad numwant", base + "&port=1&numwant=x", AnnounceRequest{}, "numwant"},
		{"empty", "", AnnounceRequest{}, "info_hash: missing"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseAnnounceQuery(tc.query)
			if tc.err != "" {
				var qe *QueryError
				if err == nil || !strings.Contains(err.Error(), tc.err) || !errors.As(err, &qe) {
					t.Fatalf("err = %v, want a QueryError containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected error %v", err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestAnnounceQueryRoundTrip(t *testing.T) {
	for _, r := range []AnnounceRequest{
		{InfoHash: testHash, PeerID: testID, Port: 1, Left: LeftUnknown, NumWant: NumWantDefault, Compact: true},
		{InfoHash: testHash, PeerID: testID, Port: 65535, Uploaded: 5, Downloaded: 6, Left: 0, Event: EventStopped,
			NumWant: 0, Key: 0x0000abcd, HasKey: true, Compact: false, NoPeerID: true,
			IP: netip.MustParseAddr("2001:db8::1"), TrackerID: "id with spaces&"},
	} {
		q := string(AppendAnnounceQuery(nil, &r))
		// The query must also be what the standard library understands.
		v, err := url.ParseQuery(q)
		if err != nil || v.Get("info_hash") != string(r.InfoHash[:]) {
			t.Fatalf("url.ParseQuery(%q) = %v, %v", q, v, err)
		}
		got, err := ParseAnnounceQuery(q)
		if err != nil {
			t.Fatalf("ParseAnnounceQuery(%q): %v", q, err)
		}
		if !reflect.DeepEqual(got, r) {
			t.Errorf("round trip of %q:\ngot  %+v\nwant %+v", q, got, r)
		}
	}
}

func TestParseAnnounceQueryAllocs(t *testing.T) {
	var r AnnounceRequest
	r = AnnounceRequest{InfoHash: testHash, PeerID: testID, Port: 6881, Left: 100, NumWant: 50, HasKey: true,
		Key: 7, Compact: true, Event: EventStarted}
	q := string(AppendAnnounceQuery(nil, &r))
	n := testing.AllocsPerRun(100, func() {
		if _, err := ParseAnnounceQuery(q); err != nil {
			t.Fatal(err)
		}
	})
	if n != 0 {
		t.Errorf("ParseAnnounceQuery allocates %.1f times per call, want 0", n)
	}
}

var (
	peer4 = Peer{ID: testID, Addr: netip.MustParseAddrPort("10.1.2.3:6881")}
	peer6 = Peer{ID: PeerID([]byte("-XX0000-000000000000")), Addr: netip.MustParseAddrPort("[2001:db8::7]:51413")}
)

func TestAppendAnnounceResponse(t *testing.T) {
	resp := &AnnounceResponse{Interval: 1800 * time.Second, MinInterval: 900 * time.Second, Complete: 3,
		Incomplete: 4, Peers: []Peer{peer4, peer6}}
	got := string(AppendAnnounceResponse(nil, resp, true, false))
	want := "d8:completei3e10:incompletei4e8:intervali1800e12:min intervali900e" +
		"5:peers6:\x0a\x01\x02\x03\x1a\xe1" +
		"6:peers618:\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x07\xc8\xd5e"
	if got != want {
		t.Errorf("compact:\ngot  %q\nwant %q", got, want)
	}
	got = string(AppendAnnounceResponse(nil, &AnnounceResponse{Interval: time.Minute, Peers: []Peer{peer4}}, false, false))
	want = "d8:completei0e10:incompletei0e8:intervali60e5:peersld2:ip8:10.1.2.37:peer id20:-SL0001-abcdefghijkl4:porti6881eeee"
	if got != want {
		t.Errorf("dictionary:\ngot  %q\nwant %q", got, want)
	}
	got = string(AppendAnnounceResponse(nil, &AnnounceResponse{Interval: time.Minute, Peers: []Peer{peer6},
		Warning: "w", TrackerID: "t"}, false, true))
	want = "d8:completei0e10:incompletei0e8:intervali60e5:peersld2:ip11:2001:db8::74:porti51413eee10:tracker id1:t15:warning message1:we"
	if got != want {
		t.Errorf("dictionary without ids:\ngot  %q\nwant %q", got, want)
	}
	got = string(AppendAnnounceResponse(nil, &AnnounceResponse{Failure: "nope", Interval: time.Minute}, true, false))
	if want = "d14:failure reason4:nopee"; got != want {
		t.Errorf("failure: got %q, want %q", got, want)
	}
	// An empty compact list still has its "peers" key.
	got = string(AppendAnnounceResponse(nil, &AnnounceResponse{Interval: time.Minute}, true, false))
	if want = "d8:completei0e10:incompletei0e8:intervali60e5:peers0:e"; got != want {
		t.Errorf("empty: got %q, want %q", got, want)
	}
}

func TestAnnounceResponseRoundTrip(t *testing.T) {
	resp := &AnnounceResponse{Interval: 1800 * time.Second, MinInterval: 60 * time.Second, Complete: 3,
		Incomplete: 4, Peers: []Peer{peer4, peer6}, Warning: "careful", TrackerID: "x"}
	for _, compact := range []bool{true, false} {
		body := AppendAnnounceResponse(nil, resp, compact, false)
		got, err := ParseAnnounceResponse(body)
		if err != nil {
			t.Fatalf("compact=%v: %v", compact, err)
		}
		want := *resp
		if compact {
			want.Peers = []Peer{{Addr: peer4.Addr}, {Addr: peer6.Addr}} // ids are not carried
		}
		if !reflect.DeepEqual(*got, want) {
			t.Errorf("compact=%v:\ngot  %+v\nwant %+v", compact, *got, want)
		}
	}
	got, err := ParseAnnounceResponse([]byte("d14:failure reason3:bad8:intervali5ee"))
	if err != nil || got.Failure != "bad" {
		t.Errorf("failure response: %+v, %v", got, err)
	}
}

func TestParseAnnounceResponseErrors(t *testing.T) {
	for _, body := range []string{
		"", "d", "le", "d8:intervali-1ee", "d5:peers5:abcdee", "d5:peersi3ee", "d6:peers64:abcde",
		"d5:peersld2:ipi1eeee", strings.Repeat("l", 50) + strings.Repeat("e", 50),
	} {
		if r, err := ParseAnnounceResponse([]byte(body)); err == nil {
			t.Errorf("ParseAnnounceResponse(%q) = %+v, want error", body, r)
		}
	}
	// Unparseable dictionary entries are skipped, not fatal.
	r, err := ParseAnnounceResponse([]byte("d8:intervali5e5:peersld2:ip11:example.org4:porti1eed2:ip3:::14:porti0eed2:ip3:::14:porti2eeee"))
	if err != nil || len(r.Peers) != 1 || r.Peers[0].Addr != netip.MustParseAddrPort("[::1]:2") {
		t.Errorf("got %+v, %v; want only [::1]:2", r, err)
	}
}

func TestScrapeQuery(t *testing.T) {
	hs := []metainfo.Hash{testHash, {1, 2, 3}}
	q := string(AppendScrapeQuery(nil, hs))
	got, err := ParseScrapeQuery(q+"&other=1", nil, 10)
	if err != nil || !reflect.DeepEqual(got, hs) {
		t.Fatalf("ParseScrapeQuery(%q) = %v, %v", q, got, err)
	}
	if got, err = ParseScrapeQuery("", nil, 10); err != nil || len(got) != 0 {
		t.Errorf("empty query = %v, %v", got, err)
	}
	if _, err = ParseScrapeQuery(q, nil, 1); err == nil {
		t.Errorf("2 hashes with max 1 accepted")
	}
	if _, err = ParseScrapeQuery("info_hash=short", nil, 10); err == nil {
		t.Errorf("short hash accepted")
	}
}

func TestScrapeResponse(t *testing.T) {
	b := metainfo.Hash{0xbb}
	a := metainfo.Hash{0xaa}
	resp := &ScrapeResponse{Files: []ScrapeFile{
		{InfoHash: b, ScrapeStats: ScrapeStats{Complete: 1, Downloaded: 2, Incomplete: 3}},
		{InfoHash: a, ScrapeStats: ScrapeStats{Complete: 4}},
		{InfoHash: b, ScrapeStats: ScrapeStats{Complete: 1, Downloaded: 2, Incomplete: 3}},
	}}
	body := AppendScrapeResponse(nil, resp)
	want := "d5:filesd20:" + string(a[:]) + "d8:completei4e10:downloadedi0e10:incompletei0ee20:" + string(b[:]) +
		"d8:completei1e10:downloadedi2e10:incompletei3eeee"
	if string(body) != want {
		t.Fatalf("got  %q\nwant %q", body, want)
	}
	got, err := ParseScrapeResponse(body)
	if err != nil {
		t.Fatal(err)
	}
	wantFiles := []ScrapeFile{resp.Files[0], resp.Files[2]}
	if !reflect.DeepEqual(got.Files, wantFiles) {
		t.Errorf("parsed %+v, want %+v", got.Files, wantFiles)
	}
	if got := AppendScrapeResponse(nil, &ScrapeResponse{Failure: "no"}); !bytes.Equal(got, []byte("d14:failure reason2:noe")) {
		t.Errorf("failure: %q", got)
	}
}

func TestScrapeURL(t *testing.T) {
	for _, tc := range []struct{ in, out string }{
		{"http://t.example/announce", "http://t.example/scrape"},
		{"http://t.example/x/announce.php?passkey=1", "http://t.example/x/scrape.php?passkey=1"},
		{"http://t.example/KEY/announce", "http://t.example/KEY/scrape"},
		{"http://t.example/a", ""},
		{"http://t.example/announce/x", ""},
	} {
		got, ok := ScrapeURL(tc.in)
		if got != tc.out || ok != (tc.out != "") {
			t.Errorf("ScrapeURL(%q) = %q, %v; want %q", tc.in, got, ok, tc.out)
		}
	}
}
