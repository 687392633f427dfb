package client

import (
	"errors"
	"math/rand/v2"
	"net"
	"net/http"
	"net/netip"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/tracker"
)

func TestNewTiers(t *testing.T) {
	list := [][]string{
		{"http://a/announce", "wss://webtorrent/announce", "udp://b:1", "http://a/announce", "udp://c:2", "http://d/announce"},
		{},
		{"bogus", ""},
		{"https://e/announce"},
	}
	got := NewTiers("http://ignored/announce", list, nil).List()
	want := [][]string{{"http://a/announce", "udp://b:1", "udp://c:2", "http://d/announce"}, {"https://e/announce"}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("tiers %q, want %q: announce-list replaces announce; unusable, duplicate and empty left out", got, want)
	}

	if got := NewTiers("udp://only:1", nil, nil).List(); !reflect.DeepEqual(got, [][]string{{"udp://only:1"}}) {
		t.Errorf("announce alone: %q", got)
	}
	if got := NewTiers("udp://only:1", [][]string{{"wss://x"}}, nil).List(); !reflect.DeepEqual(got, [][]string{{"udp://only:1"}}) {
		t.Errorf("announce-list with nothing usable should fall back to announce: %q", got)
	}
	if got := NewTiers("", nil, nil).List(); len(got) != 0 {
		t.Errorf("no trackers: %q", got)
	}

	// The shuffle is a permutation within each tier, reproducible from
	// the seed, and does actually reorder.
	s1 := NewTiers("", list, rand.New(rand.NewPCG(1, 2))).List()
	s2 := NewTiers("", list, rand.New(rand.NewPCG(1, 2))).List()
	if !reflect.DeepEqual(s1, s2) {
		t.Errorf("same seed, different orders: %q, %q", s1, s2)
	}
	for i := range want {
		if !sameSet(s1[i], want[i]) {
			t.Errorf("tier %d shuffled into %q, not a permutation of %q", i, s1[i], want[i])
		}
	}
	reordered := false
	for seed := range uint64(20) {
		if !reflect.DeepEqual(NewTiers("", list, rand.New(rand.NewPCG(seed, 0))).List()[0], want[0]) {
			reordered = true
		}
	}
	if !reordered {
		t.Error("20 seeds never reordered a tier of 4")
	}
}

func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

func closedTCPAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func TestTiersFailoverAndPromotion(t *testing.T) {
	dead := "http://" + closedTCPAddr(t) + "/announce"
	refusing := newHTTPTracker(t, func(w http.ResponseWriter, r *http.Request) {
		_, _ = w.Write(tracker.AppendFailure(nil, "not here"))
	})
	udp := newUDPFake(t, "udp4", "127.0.0.1:0")
	udp.setPeers(tracker.Peer{Addr: ap("10.0.0.1:1")})
	backup := newHTTPTracker(t, announceWith(tracker.AnnounceResponse{Interval: time.Hour, Peers: []tracker.Peer{{Addr: ap("10.0.0.2:2")}}}))

	tier0 := []string{dead, refusing.url("/announce"), udp.url("/announce")}
	tiers := NewTiers("", [][]string{tier0, {backup.url("/announce")}}, nil)
	c := newTestClient(t, Config{})

	resp, used, err := tiers.Announce(testCtx(t), c, testRequest())
	if err != nil {
		t.Fatal(err)
	}
	if used != tier0[2] || resp.Peers[0].Addr != ap("10.0.0.1:1") {
		t.Errorf("answered by %s with %v, want the UDP tracker, third in the first tier", used, resp.Peers)
	}
	// BEP 12: the tracker that answered moves to the front of its tier;
	// the rest keep their order.
	want := [][]string{{tier0[2], tier0[0], tier0[1]}, {backup.url("/announce")}}
	if got := tiers.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("after success: %q, want %q", got, want)
	}
	// The next announce goes straight to it.
	if _, used, err = tiers.Announce(testCtx(t), c, testRequest()); err != nil || used != tier0[2] {
		t.Errorf("second announce: %s, %v", used, err)
	}
	if n := len(refusing.requests()); n != 1 {
		t.Errorf("refusing tracker asked %d times, want once", n)
	}

	// The whole first tier fails: the second tier answers, and the
	// first tier's order is kept for next time.
	udp.setHook(func(req *tracker.UDPRequest, n int, from netip.AddrPort) ([][]byte, bool) {
		if req.Action == tracker.ActionAnnounce {
			return [][]byte{tracker.AppendUDPError(nil, req.TransactionID, "gone")}, true
		}
		return nil, false
	})
	resp, used, err = tiers.Announce(testCtx(t), c, testRequest())
	if err != nil || used != backup.url("/announce") || resp.Peers[0].Addr != ap("10.0.0.2:2") {
		t.Fatalf("failover to tier 2: %s, %v", used, err)
	}
	if got := tiers.List(); !reflect.DeepEqual(got, want) {
		t.Errorf("after failover: %q, want %q", got, want)
	}
	if n := len(refusing.requests()); n != 2 {
		t.Errorf("refusing tracker asked %d times, want twice: each announce starts at the first tier", n)
	}

	// Every tracker fails: one error naming each.
	backup.setReply(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusInternalServerError) })
	_, _, err = tiers.Announce(testCtx(t), c, testRequest())
	if err == nil {
		t.Fatal("announce succeeded with every tracker failing")
	}
	var fe *FailureError
	if !errors.As(err, &fe) {
		t.Errorf("joined error %v should still expose the refusals", err)
	}
	for _, s := range []string{"not here", "gone", "500"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestTiersTrackerID(t *testing.T) {
	ids := []string{"tid-A", ""} // the second answer carries none
	a := newHTTPTracker(t, nil)
	a.setReply(func(w http.ResponseWriter, r *http.Request) {
		n := len(a.requests())
		resp := tracker.AnnounceResponse{Interval: time.Hour, TrackerID: ids[min(n-1, 1)]}
		_, _ = w.Write(tracker.AppendAnnounceResponse(nil, &resp, true, false))
	})
	tiers := NewTiers("", [][]string{{a.url("/announce")}}, nil)
	c := newTestClient(t, Config{})
	for range 3 {
		if _, _, err := tiers.Announce(testCtx(t), c, testRequest()); err != nil {
			t.Fatal(err)
		}
	}
	var got []string
	for _, r := range a.requests() {
		got = append(got, r.URL.Query().Get("trackerid"))
	}
	// None at first, then the last one received, kept when a later
	// answer has none.
	if want := []string{"", "tid-A", "tid-A"}; !slices.Equal(got, want) {
		t.Errorf("trackerid sent %q, want %q", got, want)
	}
}

func TestTiersEmpty(t *testing.T) {
	c := newTestClient(t, Config{})
	if _, _, err := NewTiers("", nil, nil).Announce(testCtx(t), c, testRequest()); !errors.Is(err, ErrNoTrackers) {
		t.Errorf("error %v, want ErrNoTrackers", err)
	}
}
