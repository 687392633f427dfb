package tracker

import (
	"bytes"
	"net/url"
	"reflect"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
)

// FuzzParseAnnounceQuery checks that any query either fails with a
// QueryError or parses to a request that survives a round trip through
// AppendAnnounceQuery unchanged.
func FuzzParseAnnounceQuery(f *testing.F) {
	base := "info_hash=" + url.QueryEscape(string(testHash[:])) + "&peer_id=" + url.QueryEscape(string(testID[:]))
	f.Add(base + "&port=6881&uploaded=0&downloaded=0&left=100&event=started&compact=1&numwant=50&key=1A2B3C4D")
	f.Add(base + "&port=1&compact=0&no_peer_id=1&ip=%3A%3A1&trackerid=abc&event=stopped&numwant=-1")
	f.Add("info_hash=%zz&port=99999")
	f.Add("")
	f.Fuzz(func(t *testing.T, q string) {
		r, err := ParseAnnounceQuery(q)
		if err != nil {
			if _, ok := err.(*QueryError); !ok {
				t.Fatalf("error %v is a %T, not a *QueryError", err, err)
			}
			return
		}
		if r.Port == 0 || r.Left < LeftUnknown || r.Uploaded < 0 || r.Downloaded < 0 || r.NumWant < NumWantDefault {
			t.Fatalf("accepted out-of-range fields: %+v", r)
		}
		if r.Compact {
			r.NoPeerID = false // only meaningful, and only sent, with the dictionary model
		}
		again, err := ParseAnnounceQuery(string(AppendAnnounceQuery(nil, &r)))
		if err != nil || !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip:\nfirst  %+v\nsecond %+v (%v)", r, again, err)
		}
	})
}

// FuzzParseUDPRequest checks that any packet either fails or parses to a
// request that re-encodes and re-parses to the same request.
func FuzzParseUDPRequest(f *testing.F) {
	a := AnnounceRequest{InfoHash: testHash, PeerID: testID, Port: 6881, Left: 5, NumWant: 50, Event: EventStarted}
	f.Add(AppendUDPConnectRequest(nil, 1))
	f.Add(AppendUDPAnnounceRequest(nil, 2, 3, &a, []byte("/key/announce")))
	f.Add(AppendUDPScrapeRequest(nil, 2, 3, []metainfo.Hash{testHash, {1}}))
	f.Add([]byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 9, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, pkt []byte) {
		var req UDPRequest
		if err := ParseUDPRequest(pkt, &req, 0); err != nil {
			return
		}
		var out []byte
		switch req.Action {
		case ActionConnect:
			out = AppendUDPConnectRequest(nil, req.TransactionID)
		case ActionAnnounce:
			out = AppendUDPAnnounceRequest(nil, req.ConnectionID, req.TransactionID, &req.Announce, req.URLData)
		case ActionScrape:
			out = AppendUDPScrapeRequest(nil, req.ConnectionID, req.TransactionID, req.InfoHashes)
		default:
			t.Fatalf("accepted action %d", req.Action)
		}
		var again UDPRequest
		if err := ParseUDPRequest(out, &again, 0); err != nil {
			t.Fatalf("re-encoded request fails: %v", err)
		}
		if again.Action != req.Action || again.TransactionID != req.TransactionID ||
			again.ConnectionID != req.ConnectionID || !reflect.DeepEqual(again.Announce, req.Announce) ||
			!bytes.Equal(again.URLData, req.URLData) || !reflect.DeepEqual(again.InfoHashes, req.InfoHashes) {
			t.Fatalf("round trip:\nfirst  %+v\nsecond %+v", req, again)
		}
	})
}

// FuzzParseAnnounceResponse checks the client-side response parser: no
// panics, and what it accepts re-encodes to an equal response.
func FuzzParseAnnounceResponse(f *testing.F) {
	resp := &AnnounceResponse{Interval: time.Minute, MinInterval: time.Second, Complete: 1, Incomplete: 2,
		Peers: []Peer{peer4, peer6}, Warning: "w", TrackerID: "t"}
	f.Add(AppendAnnounceResponse(nil, resp, true, false))
	f.Add(AppendAnnounceResponse(nil, resp, false, false))
	f.Add([]byte("d14:failure reason3:bade"))
	f.Fuzz(func(t *testing.T, body []byte) {
		r, err := ParseAnnounceResponse(body)
		if err != nil || r.Failure != "" {
			return
		}
		again, err := ParseAnnounceResponse(AppendAnnounceResponse(nil, r, false, false))
		if err != nil {
			t.Fatalf("re-encoded response fails: %v", err)
		}
		if len(r.Peers) == 0 {
			r.Peers = nil
		}
		if len(again.Peers) == 0 {
			again.Peers = nil
		}
		if !reflect.DeepEqual(again, r) {
			t.Fatalf("round trip:\nfirst  %+v\nsecond %+v", r, again)
		}
	})
}
