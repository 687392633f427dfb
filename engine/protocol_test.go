package engine_test

import (
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// 4 pieces of 32 KiB (2 blocks each).
var smallLayout = engine.Layout{PieceLength: 32 << 10, TotalLength: 4 * 32 << 10}

func newEngine(t *testing.T, seed bool) *engine.Torrent {
	t.Helper()
	var have *bitfield.Bitfield
	if seed {
		have = bitfield.Full(smallLayout.NumPieces())
	}
	e, err := engine.New(engine.Config{
		Layout: smallLayout, Have: have, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
		Rand: rand.New(rand.NewPCG(1, 1)), Fast: true, Extensions: true,
		UploadWindow: 8, // the upload test counts on this window
	})
	if err != nil {
		t.Fatal(err)
	}
	return e
}

const conn engine.ConnID = 7

func addPeer(e *engine.Torrent, fast bool) {
	e.AddPeer(conn, engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(fast).WithExtensions(true)}, 0)
	e.Actions(nil)
}

func recv(e *engine.Torrent, msgs ...wire.Message) []engine.Action {
	var out []engine.Action
	for i := range msgs {
		e.Receive(conn, &msgs[i], time.Second)
		out = e.Actions(out)
	}
	return out
}

func find(acts []engine.Action, kind engine.ActionKind, typ wire.Type) *engine.Action {
	for i := range acts {
		if acts[i].Kind == kind && (kind != engine.Send || acts[i].Msg.Type == typ) {
			return &acts[i]
		}
	}
	return nil
}

// bf11111 is a bitfield for 4 pieces with bit 4, a spare bit, also set.
func bf11111() wire.Message {
	return wire.Message{Type: wire.Bitfield, Bitfield: []byte{0xf8}}
}

func TestHostilePeerIsDropped(t *testing.T) {
	tests := []struct {
		name   string
		seed   bool
		fast   bool
		msgs   []wire.Message
		reason string
	}{
		{"have beyond the last piece", false, true, []wire.Message{{Type: wire.Have, Index: 4}}, "have for piece 4"},
		{"bitfield with a spare bit set", false, true, []wire.Message{bf11111()}, "spare bits"},
		{"have all without fast", false, false, []wire.Message{{Type: wire.HaveAll}}, "without the fast extension"},
		{"reject without fast", false, false, []wire.Message{{Type: wire.Reject, Index: 0, Length: 16384}}, "without the fast extension"},
		{"request outside the torrent", true, true, []wire.Message{{Type: wire.Request, Index: 9, Length: 16384}}, "outside the torrent"},
		{"request past the piece end", true, true, []wire.Message{{Type: wire.Request, Index: 3, Begin: 32768 - 100, Length: 16384}}, "outside the torrent"},
		{"zero-length request", true, true, []wire.Message{{Type: wire.Request, Index: 0, Length: 0}}, "outside the torrent"},
		{"oversized request", true, true, []wire.Message{{Type: wire.Request, Index: 0, Length: 256 << 10}}, "outside the torrent"},
		{"request for a piece we lack", false, true, []wire.Message{{Type: wire.Request, Index: 0, Length: 16384}}, "do not have"},
		{"bad extended handshake", false, true, []wire.Message{{Type: wire.Extended, ExtendedID: 0, Payload: []byte("d1:md1:xi999eee")}}, "outside 0-255"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, tt.seed)
			addPeer(e, tt.fast)
			acts := recv(e, tt.msgs...)
			c := find(acts, engine.Close, 0)
			if c == nil || !strings.Contains(c.Reason, tt.reason) {
				t.Fatalf("actions %v, want a close mentioning %q", acts, tt.reason)
			}
			// Once closing, the engine ignores the connection.
			if more := recv(e, wire.Message{Type: wire.Interested}); len(more) != 0 {
				t.Fatalf("acted on a closing connection: %v", more)
			}
		})
	}
}

func TestUnrequestedBlocksDropThePeer(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, true)
	block := make([]byte, 16384)
	var acts []engine.Action
	for i := 0; i < 100 && find(acts, engine.Close, 0) == nil; i++ {
		acts = recv(e, wire.Message{Type: wire.Piece, Index: 0, Begin: 0, Block: block})
		if find(acts, engine.Write, 0) != nil {
			t.Fatal("an unrequested block was written")
		}
	}
	if c := find(acts, engine.Close, 0); c == nil || !strings.Contains(c.Reason, "did not request") {
		t.Fatalf("flood of unrequested blocks not dropped: %v", acts)
	}
	if st := e.Stats(); st.Downloaded == 0 || st.Downloaded != st.Wasted {
		t.Fatalf("unrequested data: downloaded %d, wasted %d; all of it must be waste", st.Downloaded, st.Wasted)
	}
}

// A block whose length is not the one we asked for answers nothing: it is
// not written, and the request stays outstanding, answered by the right
// block after it. (Our requests do not keep their lengths; the layout
// gives them.)
func TestBlockOfTheWrongLengthAnswersNothing(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, true)
	acts := recv(e, wire.Message{Type: wire.Have, Index: 0}, wire.Message{Type: wire.Unchoke})
	req := find(acts, engine.Send, wire.Request)
	if req == nil {
		t.Fatalf("no request after have and unchoke: %v", acts)
	}
	idx, begin := req.Msg.Index, req.Msg.Begin
	for _, n := range []int{16383, 8192, 16385} {
		acts = recv(e, wire.Message{Type: wire.Piece, Index: idx, Begin: begin, Block: make([]byte, n)})
		if w := find(acts, engine.Write, 0); w != nil {
			t.Fatalf("a %d-byte block for a 16384-byte request was written: %+v", n, *w)
		}
	}
	rej := recv(e, wire.Message{Type: wire.Reject, Index: idx, Begin: begin, Length: 100})
	if find(rej, engine.Send, wire.Request) != nil {
		t.Fatalf("a reject of another length gave the block back to the pool: %v", rej)
	}
	acts = recv(e, wire.Message{Type: wire.Piece, Index: idx, Begin: begin, Block: make([]byte, 16384)})
	w := find(acts, engine.Write, 0)
	if w == nil || w.Piece != idx || w.Begin != begin || w.Length != 16384 {
		t.Fatalf("the right block was not written as asked: %v", acts)
	}
	if st := e.Stats(); st.Wasted != 16383+8192+16385 {
		t.Fatalf("wasted %d bytes, want the three wrong blocks' %d", st.Wasted, 16383+8192+16385)
	}
}

func TestChokedRequests(t *testing.T) {
	req := wire.Message{Type: wire.Request, Index: 1, Begin: 0, Length: 16384}
	// With the fast extension a choked peer's request is rejected...
	e := newEngine(t, true)
	addPeer(e, true)
	acts := recv(e, req)
	if find(acts, engine.Send, wire.Reject) == nil || find(acts, engine.Upload, 0) != nil {
		t.Fatalf("fast, choked: %v", acts)
	}
	// ...without it, silently dropped.
	e = newEngine(t, true)
	addPeer(e, false)
	if acts := recv(e, req); len(acts) != 0 {
		t.Fatalf("plain, choked: %v", acts)
	}
}

func TestUnchokedRequestIsServedAndCancelWithdraws(t *testing.T) {
	e := newEngine(t, true)
	addPeer(e, true)
	recv(e, wire.Message{Type: wire.Interested})
	e.Tick(time.Second)
	acts := e.Actions(nil)
	if find(acts, engine.Send, wire.Unchoke) == nil {
		t.Fatalf("interested peer not unchoked: %v", acts)
	}
	// The upload window hands out 8 requests; the 9th waits and can be
	// cancelled (answered with a reject, BEP 6).
	var msgs []wire.Message
	for i := range 9 { // the 9th asks for piece 0's first block again
		msgs = append(msgs, wire.Message{Type: wire.Request, Index: uint32(i % 4), Begin: uint32(i/4%2) * 16384, Length: 16384})
	}
	acts = recv(e, msgs...)
	uploads := 0
	for _, a := range acts {
		if a.Kind == engine.Upload {
			uploads++
		}
	}
	if uploads != 8 {
		t.Fatalf("%d uploads handed out, want the window of 8", uploads)
	}
	acts = recv(e, wire.Message{Type: wire.Cancel, Index: 0, Begin: 0, Length: 16384})
	if r := find(acts, engine.Send, wire.Reject); r == nil || r.Msg.Index != 0 {
		t.Fatalf("cancel of a queued request: %v", acts)
	}
	e.UploadDone(conn, 16384, 2*time.Second)
	if acts := e.Actions(nil); find(acts, engine.Upload, 0) != nil {
		t.Fatalf("the cancelled request was still uploaded: %v", acts)
	}
	if e.Stats().Uploaded != 16384 {
		t.Fatalf("uploaded %d", e.Stats().Uploaded)
	}
}

func TestInterestFollowsPieces(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, true)
	if acts := recv(e, wire.Message{Type: wire.HaveNone}); find(acts, engine.Send, wire.Interested) != nil {
		t.Fatal("interested in a peer with nothing")
	}
	acts := recv(e, wire.Message{Type: wire.Have, Index: 2})
	if find(acts, engine.Send, wire.Interested) == nil {
		t.Fatalf("not interested after a have for a piece we lack: %v", acts)
	}
	// Unchoked, we request piece 2's two blocks; when both arrive and
	// verify, we lose interest and announce the piece.
	acts = recv(e, wire.Message{Type: wire.Unchoke})
	var reqs []engine.Action
	for _, a := range acts {
		if a.Kind == engine.Send && a.Msg.Type == wire.Request {
			reqs = append(reqs, a)
		}
	}
	if len(reqs) != 2 || reqs[0].Msg.Index != 2 {
		t.Fatalf("requests %v", reqs)
	}
	for _, r := range reqs {
		acts = recv(e, wire.Message{Type: wire.Piece, Index: r.Msg.Index, Begin: r.Msg.Begin, Block: make([]byte, r.Msg.Length)})
	}
	if v := find(acts, engine.Verify, 0); v == nil || v.Piece != 2 {
		t.Fatalf("no verify after the last block: %v", acts)
	}
	e.PieceVerified(2, true, 3*time.Second)
	acts = e.Actions(nil)
	if find(acts, engine.Send, wire.NotInterested) == nil || find(acts, engine.Send, wire.Have) == nil {
		t.Fatalf("after verifying: %v", acts)
	}
}

// BEP 6: while a peer chokes us we ask it for nothing, except the pieces
// it allowed us with AllowedFast, and of those only ones it has.
func TestAllowedFastWhileChoked(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, true)
	acts := recv(e, wire.Message{Type: wire.Have, Index: 1}, wire.Message{Type: wire.Have, Index: 2})
	if find(acts, engine.Send, wire.Interested) == nil {
		t.Fatalf("not interested in a peer with pieces we lack: %v", acts)
	}
	if r := find(acts, engine.Send, wire.Request); r != nil {
		t.Fatalf("asked a choking peer with nothing allowed: %v", r.Msg)
	}
	// Piece 3 is allowed but the peer lacks it; piece 2 it has.
	acts = recv(e, wire.Message{Type: wire.AllowedFast, Index: 3}, wire.Message{Type: wire.AllowedFast, Index: 2})
	var blocks []uint32
	for _, a := range acts {
		if a.Kind != engine.Send || a.Msg.Type != wire.Request {
			continue
		}
		if a.Msg.Index != 2 {
			t.Fatalf("asked a choking peer for piece %d; only piece 2 is both allowed and held by it", a.Msg.Index)
		}
		blocks = append(blocks, a.Msg.Begin)
	}
	if len(blocks) != 2 {
		t.Fatalf("asked for blocks %v of the allowed piece 2, want both", blocks)
	}
}

func TestChokeWithoutFastReleasesRequests(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, false)
	recv(e, wire.Message{Type: wire.Have, Index: 0}, wire.Message{Type: wire.Unchoke})
	recv(e, wire.Message{Type: wire.Choke})
	// A second peer that has piece 0 gets the released blocks at once.
	e.AddPeer(conn+1, engine.PeerInfo{}, time.Second)
	e.Actions(nil)
	for _, m := range []wire.Message{{Type: wire.Have, Index: 0}, {Type: wire.Unchoke}} {
		e.Receive(conn+1, &m, time.Second)
	}
	reqs := 0
	for _, a := range e.Actions(nil) {
		if a.Kind == engine.Send && a.Msg.Type == wire.Request && a.Conn == conn+1 {
			reqs++
		}
	}
	if reqs != 2 {
		t.Fatalf("second peer got %d requests for piece 0, want both blocks", reqs)
	}
}

func TestNewRejectsBadConfig(t *testing.T) {
	if _, err := engine.New(engine.Config{Layout: smallLayout}); err == nil {
		t.Fatal("accepted a config without picker, choker and rand")
	}
	if _, err := engine.New(engine.Config{Layout: smallLayout, Have: bitfield.New(3), Picker: picker.Random{},
		Choker: choker.NewTitForTat(), Rand: rand.New(rand.NewPCG(1, 1))}); err == nil {
		t.Fatal("accepted a Have of the wrong size")
	}
}

// TestLateBitfieldMergesAsHaves: aria2 sends have none, then a bitfield;
// the late bitfield's set bits count as haves.
func TestLateBitfieldMergesAsHaves(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, true)
	late := bitfield.New(4)
	late.Set(1)
	late.Set(3)
	acts := recv(e, wire.Message{Type: wire.HaveNone}, wire.Message{Type: wire.Have, Index: 0},
		wire.Message{Type: wire.Bitfield, Bitfield: late.AppendWire(nil)}, wire.Message{Type: wire.Unchoke})
	if c := find(acts, engine.Close, 0); c != nil {
		t.Fatalf("late bitfield dropped the peer: %s", c.Reason)
	}
	asked := map[uint32]bool{}
	for _, a := range acts {
		if a.Kind == engine.Send && a.Msg.Type == wire.Request {
			asked[a.Msg.Index] = true
		}
	}
	// Pieces 0 (have), 1 and 3 (late bitfield) are wanted; 2 is not held.
	if !asked[0] || !asked[1] || !asked[3] || asked[2] {
		t.Fatalf("requested pieces %v, want 0, 1 and 3", asked)
	}
}

// TestSuperSeedRevealsOneAtATime: a super-seed opens with have none, shows
// one piece, and shows the next only when the peer announces the first.
func TestSuperSeedRevealsOneAtATime(t *testing.T) {
	e, err := engine.New(engine.Config{
		Layout: smallLayout, Have: bitfield.Full(4), Picker: picker.Rarest{}, Choker: choker.NewTitForTat(),
		Rand: rand.New(rand.NewPCG(1, 1)), Fast: true, SuperSeed: true,
	})
	if err != nil {
		t.Fatal(err)
	}
	e.AddPeer(conn, engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true)}, 0)
	acts := e.Actions(nil)
	if len(acts) < 2 || acts[0].Msg.Type != wire.HaveNone {
		t.Fatalf("opening %v, want have none first", acts)
	}
	var shown []uint32
	for _, a := range acts {
		if a.Kind == engine.Send && a.Msg.Type == wire.Have {
			shown = append(shown, a.Msg.Index)
		}
	}
	if len(shown) != 1 {
		t.Fatalf("revealed %v at connect, want one piece", shown)
	}
	haves := func(acts []engine.Action) (out []uint32) {
		for _, a := range acts {
			if a.Kind == engine.Send && a.Msg.Type == wire.Have {
				out = append(out, a.Msg.Index)
			}
		}
		return out
	}
	if more := haves(recv(e, wire.Message{Type: wire.HaveNone})); len(more) != 0 {
		t.Fatalf("revealed %v more on the peer's have none; the first is still unfinished", more)
	}
	acts = recv(e, wire.Message{Type: wire.Have, Index: shown[0]})
	var next []uint32
	for _, a := range acts {
		if a.Kind == engine.Send && a.Msg.Type == wire.Have {
			next = append(next, a.Msg.Index)
		}
	}
	if len(next) != 1 || next[0] == shown[0] {
		t.Fatalf("after the peer got piece %d, revealed %v; want one other piece", shown[0], next)
	}
}

// TestPickerSeesCurrentPeers: the peers a picker is shown follow joins,
// departures and closes, though the list is rebuilt only when it changes.
func TestPickerSeesCurrentPeers(t *testing.T) {
	var seen []int
	rec := picker.Func(func(v *picker.View, p picker.Peer) (int, bool) {
		seen = append(seen, len(v.Peers))
		return picker.Rarest{}.Pick(v, p)
	})
	e, err := engine.New(engine.Config{Layout: engine.Layout{PieceLength: 16 << 10, TotalLength: 64 * 16 << 10},
		Picker: rec, Choker: choker.NewTitForTat(), Rand: rand.New(rand.NewPCG(1, 1)), Fast: true})
	if err != nil {
		t.Fatal(err)
	}
	// toOne collects the requests sent to peer 1, which answers them later.
	var toOne []wire.Message
	drain := func() {
		for _, a := range e.Actions(nil) {
			if a.Kind == engine.Send && a.Conn == 1 && a.Msg.Type == wire.Request {
				toOne = append(toOne, a.Msg)
			}
		}
	}
	have := bitfield.Full(64).AppendWire(nil)
	join := func(c engine.ConnID) {
		e.AddPeer(c, engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true)}, time.Second)
		for _, m := range []wire.Message{{Type: wire.Bitfield, Bitfield: have}, {Type: wire.Unchoke}} {
			e.Receive(c, &m, time.Second)
		}
		drain()
	}
	last := func() int { return seen[len(seen)-1] }
	join(1)
	if last() != 1 {
		t.Fatalf("first pick saw %d peers, want 1", last())
	}
	join(2)
	join(3)
	if last() != 3 {
		t.Fatalf("after three joins a pick saw %d peers", last())
	}
	e.RemovePeer(2, 2*time.Second)
	drain()
	// A peer that sends an out-of-range have is closed; picks must not
	// see it either.
	bad := wire.Message{Type: wire.Have, Index: 999}
	e.Receive(3, &bad, 2*time.Second)
	drain()
	// Peer 1 answers its requests until the engine has to start new
	// pieces, which makes it pick again.
	n := len(seen)
	for len(toOne) > 0 && len(seen) == n {
		r := toOne[0]
		toOne = toOne[1:]
		m := wire.Message{Type: wire.Piece, Index: r.Index, Begin: r.Begin, Block: make([]byte, r.Length)}
		e.Receive(1, &m, 3*time.Second)
		drain()
	}
	if len(seen) == n {
		t.Fatal("no pick after the departure: the test proves nothing")
	}
	if last() != 1 {
		t.Fatalf("after a departure and a close a pick saw %d peers, want 1", last())
	}
}

func TestTickInterval(t *testing.T) {
	cfg := engine.Config{Layout: smallLayout, Picker: picker.Rarest{}, Choker: choker.NewTitForTat(), Rand: rand.New(rand.NewPCG(1, 1))}
	plain, _ := engine.New(cfg)
	cfg.Gossip = &engine.GossipConfig{Interval: 50 * time.Millisecond}
	gossip, _ := engine.New(cfg)
	for _, tc := range []struct {
		e            *engine.Torrent
		driver, want time.Duration
	}{
		{plain, time.Second, time.Second},
		{gossip, time.Second, 50 * time.Millisecond},
		{gossip, 10 * time.Millisecond, 10 * time.Millisecond},
	} {
		if got := tc.e.TickInterval(tc.driver); got != tc.want {
			t.Errorf("TickInterval(%v) = %v, want %v", tc.driver, got, tc.want)
		}
	}
}

// MinRechokeGap (1 s by default) holds back a rechoke after one that
// changed someone's choke state; a rechoke that changed nothing must not.
// A seed's rechoke when a peer connects, a moment before the peer says it
// is interested, is such a round: it kept every new downloader of our
// seed choked for a second.
func TestRechokeGapCountsOnlyRoundsThatChangedSomething(t *testing.T) {
	const a, b engine.ConnID = 1, 2
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	interested := wire.Message{Type: wire.Interested}
	info := engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true).WithExtensions(true)}
	unchokedAt := func(e *engine.Torrent, c engine.ConnID, from, to time.Duration) time.Duration {
		t.Helper()
		for now := from; now <= to; now += ms(100) {
			e.Tick(now)
			for _, act := range e.Actions(nil) {
				if act.Kind == engine.Send && act.Msg.Type == wire.Unchoke && act.Conn == c {
					return now
				}
			}
		}
		return -1
	}
	tests := []struct {
		name string
		// before runs between the seed's first round (at 100 ms) and
		// peer b connecting at 5 s.
		before func(e *engine.Torrent)
		// b must be unchoked at the first tick from wantB on.
		wantB time.Duration
	}{
		{"nothing else happened", func(*engine.Torrent) {}, ms(5200)},
		{"a was unchoked 0.4 s before", func(e *engine.Torrent) {
			e.AddPeer(a, info, ms(4550))
			e.Receive(a, &interested, ms(4560))
			if at := unchokedAt(e, a, ms(4600), ms(4600)); at != ms(4600) {
				t.Fatalf("a unchoked at %v, want 4.6s", at)
			}
		}, ms(5600)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEngine(t, true)
			for now := ms(100); now <= ms(4500); now += ms(100) {
				e.Tick(now)
			}
			e.Actions(nil)
			tt.before(e)
			e.AddPeer(b, info, ms(5000))
			e.Actions(nil)
			// The tick at 5.1 s rechokes for the newcomer, which is
			// not interested yet; it says so just after.
			if at := unchokedAt(e, b, ms(5100), ms(5100)); at != -1 {
				t.Fatalf("b unchoked at %v before it was interested", at)
			}
			e.Receive(b, &interested, ms(5150))
			e.Actions(nil)
			if at := unchokedAt(e, b, ms(5200), ms(8000)); at != tt.wantB {
				t.Errorf("b unchoked at %v, want %v", at, tt.wantB)
			}
		})
	}
}

// Torrents sharing an ActionBuffer share its rechoke scratch too; one
// torrent's rechoke must not leak into the next one's.
func TestSharedBufferRechokesStayApart(t *testing.T) {
	var shared engine.ActionBuffer
	newSeed := func() *engine.Torrent {
		e, err := engine.New(engine.Config{
			Layout: smallLayout, Have: bitfield.Full(smallLayout.NumPieces()), Picker: picker.Rarest{},
			Choker: choker.NewTitForTat(), Rand: rand.New(rand.NewPCG(1, 1)), Fast: true, Actions: &shared,
		})
		if err != nil {
			t.Fatal(err)
		}
		return e
	}
	info := engine.PeerInfo{Reserved: wire.Reserved{}.WithFast(true)}
	interested := wire.Message{Type: wire.Interested}
	a, b := newSeed(), newSeed()
	for c := range engine.ConnID(3) {
		a.AddPeer(c+1, info, 0)
		a.Receive(c+1, &interested, 0)
		a.Actions(nil)
	}
	b.AddPeer(9, info, 0) // connected, never interested
	b.Actions(nil)
	for now := time.Second; now <= 3*time.Second; now += time.Second {
		a.Tick(now)
		gotA := a.Actions(nil)
		b.Tick(now)
		gotB := b.Actions(nil)
		unchoked := 0
		for _, act := range gotA {
			if act.Kind == engine.Send && act.Msg.Type == wire.Unchoke {
				unchoked++
			}
		}
		if now == time.Second && unchoked != 3 {
			t.Errorf("a unchoked %d of its 3 interested peers: %v", unchoked, gotA)
		}
		if u := find(gotB, engine.Send, wire.Unchoke); u != nil {
			t.Fatalf("at %v b unchoked conn %d, which is not interested", now, u.Conn)
		}
	}
}

// ignoringPicker is a picker that says it never reads View.Peers.
type ignoringPicker struct{ picker.Func }

func (ignoringPicker) IgnoresPeers() bool { return true }

// The engine lists the peers in the picker's view unless the picker says
// it ignores them (picker.PeersIgnorer).
func TestViewPeersOnlyForPickersThatReadThem(t *testing.T) {
	for _, tc := range []struct {
		name      string
		wrap      func(picker.Func) picker.Picker
		wantPeers bool
	}{
		{"a picker that may read them", func(f picker.Func) picker.Picker { return f }, true},
		{"a picker that ignores them", func(f picker.Func) picker.Picker { return ignoringPicker{f} }, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			picks, seen := 0, 0
			f := picker.Func(func(v *picker.View, p picker.Peer) (int, bool) {
				picks++
				seen = len(v.Peers)
				return picker.Rarest{}.Pick(v, p)
			})
			e, err := engine.New(engine.Config{
				Layout: smallLayout, Picker: tc.wrap(f), Choker: choker.NewTitForTat(),
				Rand: rand.New(rand.NewPCG(1, 1)), Fast: true,
			})
			if err != nil {
				t.Fatal(err)
			}
			addPeer(e, true)
			recv(e, wire.Message{Type: wire.Bitfield, Bitfield: []byte{0xf0}}, wire.Message{Type: wire.Unchoke})
			if picks == 0 {
				t.Fatal("the picker was never asked")
			}
			if got := seen > 0; got != tc.wantPeers {
				t.Errorf("the view listed %d peers; want peers listed: %v", seen, tc.wantPeers)
			}
		})
	}
}

// TestRemovedPeerGetsNothing: once the driver reports a connection gone,
// the engine sends it nothing more. It used to cancel the requests it
// had out there, to a connection that no longer existed (found by
// FuzzEngine).
func TestRemovedPeerGetsNothing(t *testing.T) {
	e := newEngine(t, false)
	addPeer(e, true)
	acts := recv(e, wire.Message{Type: wire.HaveAll}, wire.Message{Type: wire.Unchoke})
	if find(acts, engine.Send, wire.Request) == nil {
		t.Fatal("no request went out to remove")
	}
	e.RemovePeer(conn, 2*time.Second)
	for _, a := range e.Actions(nil) {
		if a.Conn == conn {
			t.Errorf("after RemovePeer: %v %v", a.Kind, a.Msg.Type)
		}
	}
}
