package engine

import (
	"bytes"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/bitfield"
	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/wire"
)

// FuzzEngine drives one torrent through a script the fuzzer writes: up
// to four peers connect and leave, send any message the wire reader can
// deliver (unknown types, indexes past the end, blocks nobody asked for,
// bitfields of the wrong size), answer our requests with good or
// corrupt data, and ask us for blocks; time passes, hash checks and
// uploads complete in any order. The driver does what the actions say,
// as the live client would, and after every step checks what must hold
// whatever the peers send:
//
//   - the engine does not panic;
//   - a piece counts as ours only if what was written for it is the
//     true data, and nothing is written over a piece we have;
//   - we upload only pieces we have, and ask only for blocks that exist
//     and that we lack, of connections that are open;
//   - the piece counts match the neighbours' bitfields, each
//     neighbour's count of pieces we want matches its bitfield, and we
//     are interested exactly in the neighbours that have one;
//   - the requested-block count and the bytes left agree with a recount.
func FuzzEngine(f *testing.F) {
	for _, s := range fuzzEngineSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, script []byte) {
		d := newFuzzDriver(t, script)
		d.run()
	})
}

// fuzzLayouts are the torrents a script can choose: five pieces of two
// blocks, the last 20,000 bytes (a full block and a short one); three
// pieces of four blocks, the last two and a half, where more peers share
// a piece and the end game has more to do.
var fuzzLayouts = [2]Layout{
	{PieceLength: 2 * BlockSize, TotalLength: 4*2*BlockSize + 20000},
	{PieceLength: 4 * BlockSize, TotalLength: 2*4*BlockSize + 40000},
}

// fuzzMaxConns is how many connections a script can have at once.
const fuzzMaxConns = 4

// The script's operations, one byte each (modulo fuzzOps), followed by
// their operands.
const (
	opAdd      = iota // connection, reserved bits
	opRemove          // connection: the driver saw it close
	opMessage         // connection, then a message of any kind
	opProgress        // connection, kind: a well-formed message that moves things on
	opServe           // connection, which request, how: answer one of our requests
	opAsk             // connection, piece, block, how: ask us for a block, or cancel
	opTick            // time step
	opVerify          // which check: report a hash check Verify asked for
	opUploaded        // connection: report an Upload done
	fuzzOps
)

// fuzzScript reads operands; past its end every read is zero.
type fuzzScript struct{ b []byte }

func (s *fuzzScript) next() byte {
	if len(s.b) == 0 {
		return 0
	}
	v := s.b[0]
	s.b = s.b[1:]
	return v
}

func (s *fuzzScript) take(n int) []byte {
	n = min(n, len(s.b))
	v := s.b[:n:n]
	s.b = s.b[n:]
	return v
}

// number is usually small, and up to limit (one past the valid range
// included); a first byte of 0xf0 or more reads any 32-bit value.
func (s *fuzzScript) number(limit uint32) uint32 {
	b := s.next()
	if b < 0xf0 {
		return uint32(b) % (limit + 1)
	}
	v := uint32(s.next())<<24 | uint32(s.next())<<16 | uint32(s.next())<<8 | uint32(s.next())
	return v
}

// blockLength is the length of l's block of piece that starts at begin,
// and whether there is one.
func blockLength(l Layout, piece, begin uint32) (uint32, bool) {
	if int(piece) >= l.NumPieces() || begin%BlockSize != 0 {
		return 0, false
	}
	rest := l.PieceSize(int(piece)) - int64(begin)
	if rest <= 0 {
		return 0, false
	}
	return uint32(min(int64(BlockSize), rest)), true
}

// length reads a block length for (piece, begin): the true one (a full
// block where there is none), a full block, a small one, or any 32-bit
// value.
func (s *fuzzScript) length(l Layout, piece, begin uint32) uint32 {
	switch s.next() % 4 {
	case 0:
		if n, ok := blockLength(l, piece, begin); ok {
			return n
		}
		return BlockSize
	case 1:
		return BlockSize
	case 2:
		return uint32(s.next())
	}
	return s.number(0)
}

// fuzzConn is the driver's record of one open connection.
type fuzzConn struct {
	// uploads holds the lengths of Upload actions not yet reported done.
	uploads []int
}

// fuzzDriver plays the driver's part for FuzzEngine: it keeps the
// torrent's "disk", hashes pieces when asked (by comparing them with the
// true content), and records what each connection is owed.
type fuzzDriver struct {
	t         *testing.T
	e         *Torrent
	layout    Layout
	s         fuzzScript
	truth     []byte // the torrent's content
	disk      []byte // what Write actions stored
	now       time.Duration
	conns     map[ConnID]*fuzzConn
	verifying []int // pieces Verify asked for, not yet reported
	completed bool
	banned    []ConnID // connections closed with a ban
	// batch: take actions whole with TakeActions, as the simulator does,
	// and spell out each SendEach here; otherwise with Actions.
	batch bool
	acts  []Action
	taken ActionBatch
}

func newFuzzDriver(t *testing.T, script []byte) *fuzzDriver {
	s := fuzzScript{b: script}
	d := &fuzzDriver{t: t, conns: map[ConnID]*fuzzConn{}}
	// The first two bytes choose the configuration. mode: bit 0 starts
	// with the pieces whose bits the third byte sets, bit 3 chooses the
	// layout, bit 7 takes actions with TakeActions, and the picker and
	// choker come from bits 1-2 and 4-6. opts: the fast extension,
	// extensions, SkipRedundantHave, super-seeding (with every piece),
	// gossip and its mode, and the upload capacity, from bit 0 up.
	mode, opts := s.next(), s.next()
	d.layout = fuzzLayouts[mode>>3&1]
	d.truth = make([]byte, d.layout.TotalLength)
	for i := range d.truth {
		d.truth[i] = byte(i*31 + i>>9)
	}
	d.disk = make([]byte, len(d.truth))

	n := d.layout.NumPieces()
	have := bitfield.New(n)
	if mode&1 != 0 { // start with some pieces, from byte 3
		bits := s.next()
		for i := range n {
			if bits&(1<<i) != 0 {
				have.Set(i)
				d.copyPiece(i)
			}
		}
	}
	pickers, chokers := picker.Names(), choker.Names()
	pk, err := picker.New(pickers[int(mode>>1)%len(pickers)])
	if err != nil {
		t.Fatal(err)
	}
	ck, err := choker.New(chokers[int(mode>>4)%len(chokers)])
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{
		Layout: d.layout, Have: have, Picker: pk, Choker: ck,
		Rand:       rand.New(rand.NewPCG(uint64(mode), uint64(opts))),
		Fast:       opts&1 != 0,
		Extensions: opts&2 != 0,
		// Small limits, so that scripts reach them.
		MinQueue: 2, MaxQueue: 4, MaxIncoming: 6, UploadWindow: 2,
		BanAfter: 2, MaxUnrequested: 3,
		SkipRedundantHave: opts&4 != 0,
		SuperSeed:         opts&8 != 0 && have.All(),
		UploadCapacity:    float64(opts>>6) * 100e3,
	}
	if opts&16 != 0 {
		cfg.Gossip = &GossipConfig{Mode: GossipMode(1 + int(opts>>5)%3)}
	}
	d.batch = mode&0x80 != 0
	d.e, err = New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	d.s = s
	return d
}

func (d *fuzzDriver) pieceRange(piece int) (int64, int64) {
	begin := int64(piece) * d.layout.PieceLength
	return begin, begin + d.layout.PieceSize(piece)
}

func (d *fuzzDriver) copyPiece(piece int) {
	b, e := d.pieceRange(piece)
	copy(d.disk[b:e], d.truth[b:e])
}

// conn reads a connection id, and returns its record if it is open.
func (d *fuzzDriver) conn() (ConnID, *fuzzConn) {
	c := ConnID(d.s.next()%fuzzMaxConns + 1)
	return c, d.conns[c]
}

// run plays the script, checking the engine after every step.
func (d *fuzzDriver) run() {
	d.settle()
	for steps := 0; len(d.s.b) > 0 && steps < 400; steps++ {
		d.step()
		d.settle()
		d.check()
	}
}

// step plays one operation of the script.
func (d *fuzzDriver) step() {
	s, e := &d.s, d.e
	switch s.next() % fuzzOps {
	case opAdd:
		c, fc := d.conn()
		r := s.next()
		if fc != nil {
			return
		}
		d.conns[c] = &fuzzConn{}
		info := PeerInfo{ID: [20]byte{byte(c)}, Reserved: wire.Reserved{}.WithFast(r&1 != 0).WithExtensions(r&2 != 0)}
		e.AddPeer(c, info, d.now)
	case opRemove:
		c, fc := d.conn()
		if fc != nil {
			delete(d.conns, c)
			e.RemovePeer(c, d.now)
		}
	case opMessage:
		c, fc := d.conn()
		m := d.anyMessage()
		if fc != nil {
			e.Receive(c, &m, d.now)
		}
	case opProgress:
		c, fc := d.conn()
		m := d.progressMessage()
		if fc != nil {
			e.Receive(c, &m, d.now)
		}
	case opServe:
		c, fc := d.conn()
		k, how := int(s.next()), s.next()
		p := e.byConn.get(c)
		if fc == nil || p == nil || len(p.out) == 0 {
			return
		}
		// One of the blocks the engine expects from it: asked for, or
		// in a gossip pull, announced.
		a := p.out[k%len(p.out)]
		length := e.askLength(a)
		m := wire.Message{Type: wire.Piece, Index: a.piece, Begin: a.begin}
		if how%4 == 3 {
			m = wire.Message{Type: wire.Reject, Index: a.piece, Begin: a.begin, Length: length}
		} else {
			b, _ := d.pieceRange(int(a.piece))
			m.Block = slices.Clone(d.truth[b+int64(a.begin) : b+int64(a.begin)+int64(length)])
			if how%4 == 2 {
				m.Block[int(how)%len(m.Block)] ^= 0x55 // corrupt
			}
		}
		e.Receive(c, &m, d.now)
	case opAsk:
		c, fc := d.conn()
		// Up to one block past the last of the larger layout's pieces.
		piece, block, how := s.number(uint32(d.layout.NumPieces())), s.next()%5, s.next()
		begin := uint32(block) * BlockSize
		length, ok := blockLength(d.layout, piece, begin)
		if how&1 != 0 || !ok {
			length = s.length(d.layout, piece, begin)
		}
		typ := wire.Request
		if how&2 != 0 {
			typ = wire.Cancel
		}
		if fc != nil {
			e.Receive(c, &wire.Message{Type: typ, Index: piece, Begin: begin, Length: length}, d.now)
		}
	case opTick:
		d.now += time.Duration(s.next()) * 100 * time.Millisecond
		e.Tick(d.now)
	case opVerify:
		k := int(s.next())
		if len(d.verifying) == 0 {
			return
		}
		k %= len(d.verifying)
		piece := d.verifying[k]
		d.verifying = slices.Delete(d.verifying, k, k+1)
		b, end := d.pieceRange(piece)
		ok := bytes.Equal(d.disk[b:end], d.truth[b:end])
		if !ok {
			e.FailedPiece(piece, slices.Clone(d.disk[b:end]))
		}
		e.PieceVerified(piece, ok, d.now)
	case opUploaded:
		c, fc := d.conn()
		if fc == nil || len(fc.uploads) == 0 {
			return
		}
		n := fc.uploads[0]
		fc.uploads = fc.uploads[1:]
		e.UploadDone(c, n, d.now)
	}
}

// anyMessage is a message of any type, with any fields: what a hostile
// peer can make the wire reader deliver.
func (d *fuzzDriver) anyMessage() wire.Message {
	s := &d.s
	kind := s.next()
	if kind == 0xff {
		return wire.Message{KeepAlive: true}
	}
	m := wire.Message{Type: wire.Type(kind)}
	n := uint32(d.layout.NumPieces())
	m.Index = s.number(n)
	m.Begin = s.number(3) * BlockSize / 2
	m.Length = s.length(d.layout, m.Index, m.Begin)
	switch m.Type {
	case wire.Bitfield:
		m.Bitfield = slices.Clone(s.take(int(s.next() % 3)))
	case wire.Piece:
		m.Block = make([]byte, min(int(m.Length), wire.DefaultMaxBlock))
		if s.next()&1 != 0 && int(m.Index) < int(n) {
			// The true bytes at that place, where there are any.
			b, end := d.pieceRange(int(m.Index))
			if at := b + int64(m.Begin); at < end {
				copy(m.Block, d.truth[at:end])
			}
		}
	case wire.Extended:
		m.ExtendedID = s.next() % 9
		m.Payload = slices.Clone(s.take(int(s.next() % 64)))
	default:
		m.Payload = slices.Clone(s.take(int(s.next() % 8)))
	}
	return m
}

// progressMessage is a well-formed message of the kinds that move a
// download on, so that scripts reach the states past the handshake.
func (d *fuzzDriver) progressMessage() wire.Message {
	s := &d.s
	n := d.layout.NumPieces()
	bare := [...]wire.Type{wire.Unchoke, wire.Interested, wire.NotInterested, wire.Choke, wire.HaveAll, wire.HaveNone}
	kind := int(s.next() % 11)
	if kind < len(bare) {
		return wire.Message{Type: bare[kind]}
	}
	switch kind {
	case 6:
		// A bitfield from the script's bits, spare bits cleared.
		return wire.Message{Type: wire.Bitfield, Bitfield: []byte{s.next() &^ (1<<(8-n) - 1)}}
	case 7:
		return wire.Message{Type: wire.AllowedFast, Index: uint32(s.next()) % uint32(n)}
	case 8:
		// A BEP 10 handshake offering the gossip extension, or upload only.
		payload := fmt.Sprintf("d1:md15:swarmlab_gossipi%dee4:reqqi%de11:upload_onlyi%dee", s.next()%8, s.next()%8, s.next()%2)
		return wire.Message{Type: wire.Extended, Payload: []byte(payload)}
	case 9:
		// A gossip message (push, pull or none) under the id we ask for.
		payload := fmt.Sprintf("d1:pi%de1:ti%dee", s.next()%byte(n+1), s.next()%4)
		return wire.Message{Type: wire.Extended, ExtendedID: gossipOurID, Payload: []byte(payload)}
	}
	return wire.Message{Type: wire.Have, Index: uint32(s.next()) % uint32(n)}
}

// settle carries out the engine's actions, and those they lead to, as a
// driver would.
func (d *fuzzDriver) settle() {
	for range 100 {
		d.take()
		if len(d.acts) == 0 {
			return
		}
		var closed []ConnID
		for i := range d.acts {
			if c, ok := d.apply(&d.acts[i]); ok {
				closed = append(closed, c)
			}
		}
		// The driver closes the connections and reports them gone.
		for _, c := range closed {
			if d.conns[c] != nil {
				delete(d.conns, c)
				d.e.RemovePeer(c, d.now)
			}
		}
	}
	d.t.Fatalf("actions did not settle:\n%s", d.e.Describe())
}

// take puts the engine's actions in d.acts.
func (d *fuzzDriver) take() {
	if !d.batch {
		d.acts = d.e.Actions(d.acts[:0])
		return
	}
	d.e.TakeActions(&d.taken)
	d.acts = d.acts[:0]
	for _, a := range d.taken.Acts {
		if a.Kind != SendEach {
			d.acts = append(d.acts, a)
			continue
		}
		if len(a.Conns) == 0 {
			d.t.Fatalf("SendEach of %v to no connection", a.Msg.Type)
		}
		for _, c := range a.Conns {
			d.acts = append(d.acts, Action{Kind: Send, Conn: c, Msg: a.Msg})
		}
	}
}

// apply carries out one action and checks it; it reports a connection
// to close.
func (d *fuzzDriver) apply(a *Action) (ConnID, bool) {
	t, n := d.t, d.layout.NumPieces()
	validBlock := func(piece, begin, length uint32) bool {
		want, ok := blockLength(d.layout, piece, begin)
		return ok && length == want
	}
	switch a.Kind {
	case Send:
		if d.conns[a.Conn] == nil {
			t.Fatalf("send %v to connection %d, which is not open", a.Msg.Type, a.Conn)
		}
		m := &a.Msg
		switch m.Type {
		case wire.Request:
			if !validBlock(m.Index, m.Begin, m.Length) {
				t.Fatalf("request for a block that does not exist: %d/%d+%d", m.Index, m.Begin, m.Length)
			}
			if d.e.have.Has(int(m.Index)) {
				t.Fatalf("request for piece %d, which we have", m.Index)
			}
		case wire.Have:
			if !d.e.have.Has(int(m.Index)) {
				t.Fatalf("HAVE %d for a piece we lack", m.Index)
			}
		}
	case Upload:
		fc := d.conns[a.Conn]
		if fc == nil {
			t.Fatalf("upload to connection %d, which is not open", a.Conn)
		}
		// A peer may ask for any part of a piece, not only our blocks.
		if int(a.Piece) >= n || a.Length == 0 || a.Length > maxRequestLength ||
			int64(a.Begin)+int64(a.Length) > d.layout.PieceSize(int(a.Piece)) {
			t.Fatalf("upload of bytes outside the torrent: %d/%d+%d", a.Piece, a.Begin, a.Length)
		}
		if !d.e.have.Has(int(a.Piece)) {
			t.Fatalf("upload of piece %d, which we do not have", a.Piece)
		}
		fc.uploads = append(fc.uploads, int(a.Length))
	case Write:
		if int(a.Piece) >= n || !validBlock(a.Piece, a.Begin, uint32(len(a.Data))) {
			t.Fatalf("write of %d bytes at %d/%d", len(a.Data), a.Piece, a.Begin)
		}
		if d.e.have.Has(int(a.Piece)) {
			t.Fatalf("write over piece %d, which we have", a.Piece)
		}
		b, _ := d.pieceRange(int(a.Piece))
		copy(d.disk[b+int64(a.Begin):], a.Data)
	case Verify:
		if int(a.Piece) >= n || d.e.have.Has(int(a.Piece)) || slices.Contains(d.verifying, int(a.Piece)) {
			t.Fatalf("verify of piece %d (have %v, already verifying %v)", a.Piece, d.e.have.Has(int(a.Piece)), d.verifying)
		}
		d.verifying = append(d.verifying, int(a.Piece))
	case Close:
		if d.conns[a.Conn] == nil {
			t.Fatalf("close of connection %d, which is not open", a.Conn)
		}
		if a.Ban {
			d.banned = append(d.banned, a.Conn)
		}
		return a.Conn, true
	case Completed:
		if d.completed || !d.e.have.All() {
			t.Fatalf("completed twice (%v) or without every piece (%d)", d.completed, d.e.have.Count())
		}
		d.completed = true
	case Shape:
		if d.conns[a.Conn] == nil || a.Rate < 0 || math.IsNaN(a.Rate) {
			t.Fatalf("shape of connection %d to %v", a.Conn, a.Rate)
		}
	default:
		t.Fatalf("action %v from Actions", a.Kind)
	}
	return 0, false
}

// check tests the engine's state against the driver's and against
// itself.
func (d *fuzzDriver) check() {
	t, e := d.t, d.e
	n := d.layout.NumPieces()
	var left int64
	for i := range n {
		if !e.have.Has(i) {
			left += d.layout.PieceSize(i)
			continue
		}
		if b, end := d.pieceRange(i); !bytes.Equal(d.disk[b:end], d.truth[b:end]) {
			t.Fatalf("piece %d counts as ours, but its data is wrong", i)
		}
	}
	if st := e.Stats(); st.Left != left || st.Have != e.have.Count() {
		t.Fatalf("stats say %d left, %d had; the bitfield %d, %d", st.Left, st.Have, left, e.have.Count())
	}
	for i := range n {
		holders := 0
		for _, p := range e.peers {
			if p.counted && p.has.Has(i) {
				holders++
			}
		}
		if got := e.avail.Count(i); got != holders {
			t.Fatalf("piece %d: count %d, but %d neighbours have it\n%s", i, got, holders, e.Describe())
		}
	}
	for _, p := range e.peers {
		if p.closing {
			continue
		}
		if d.conns[p.id] == nil {
			t.Fatalf("the engine holds connection %d, which the driver removed", p.id)
		}
		if want := int32(p.has.CountAndNot(&e.have)); p.wanted != want {
			t.Fatalf("connection %d: wanted %d, but it has %d pieces we lack", p.id, p.wanted, want)
		}
		if e.gossiping() {
			continue
		}
		if p.amInterested != (p.wanted > 0) {
			t.Fatalf("connection %d: interested %v with %d pieces wanted", p.id, p.amInterested, p.wanted)
		}
	}
	if kept, counted := e.RequestedRecount(); kept != counted {
		t.Fatalf("requested blocks: kept %d, recounted %d", kept, counted)
	}
}

// fuzzEngineSeeds are scripts that reach the states worth mutating: a
// download from one seed with good, corrupt and rejected blocks, and
// uploads to a leecher.
func fuzzEngineSeeds() [][]byte {
	download := []byte{0, 3} // rarest, tit-for-tat; fast and extensions
	for c := range byte(2) { // two seeds, connections 1 and 2
		download = append(download,
			opAdd, c, 3, // fast and extensions
			opProgress, c, 4, // have all
			opProgress, c, 0, // unchoke
		)
	}
	for i := range 16 {
		how := byte(0)
		if i == 2 {
			how = 2 // connection 2 sends a corrupt block
		}
		download = append(download, opServe, 0, 0, 0, opServe, 1, 0, how, opVerify, 0, opVerify, 0, opTick, 3)
	}
	download = append(download, opServe, 0, 0, 3) // a reject, if any request is left
	upload := []byte{1, 3, 0x1f}                  // start with every piece
	upload = append(upload,
		opAdd, 1, 3,
		opProgress, 1, 5, // have none
		opProgress, 1, 1, // interested
		opAsk, 1, 0, 0, 0, // a request while choked: rejected
		opTick, 50, // a rechoke unchokes it
		opAsk, 1, 1, 0, 0, opAsk, 1, 1, 0, 2, // a request, then its cancel
	)
	for i := range 12 {
		upload = append(upload, opAsk, 1, byte(i%5), byte(i%2), 0, opUploaded, 1, opTick, 2)
	}
	// Four-block pieces from three seeds, the second of which sends one
	// corrupt block: the piece fails with several senders, is fetched
	// again from one, and the block digests then convict the liar.
	shared := []byte{8, 3} // the four-block layout
	for c := range byte(3) {
		shared = append(shared, opAdd, c, 3, opProgress, c, 4, opProgress, c, 0)
	}
	for i := range 20 {
		how := byte(0)
		if i == 1 {
			how = 2
		}
		shared = append(shared, opServe, 0, 0, 0, opServe, 1, 0, how, opServe, 2, 0, 0,
			opVerify, 0, opTick, 2)
	}
	// Push-pull gossip with a seed that offers it (extension id 3).
	gossip := []byte{0x80, 3 | 16 | 2<<5} // TakeActions; gossip, push-pull
	gossip = append(gossip,
		opAdd, 0, 3,
		opProgress, 0, 8, 3, 0, 0, // extended handshake: gossip as 3
		opProgress, 0, 4, // have all
	)
	for range 12 {
		gossip = append(gossip, opTick, 10, opServe, 0, 0, 0, opVerify, 0)
	}
	hostile := []byte{0, 1, opAdd, 2, 1, opMessage, 2, 5, 7, 2, 0xff, 0xff, opMessage, 2, 7, 9, 1, 1, 0, 0}
	return [][]byte{download, upload, gossip, shared, hostile}
}

// TestFuzzEngineSeedsReachTheirStates checks that the seed scripts do
// what they are there for, so that the fuzzer starts past the
// handshake: the download gets pieces and fails one, the upload sends
// blocks, the gossip pulls pieces, the shared pieces convict the one
// peer that lied.
func TestFuzzEngineSeedsReachTheirStates(t *testing.T) {
	seeds := fuzzEngineSeeds()
	d := newFuzzDriver(t, seeds[0])
	d.run()
	if st := d.e.Stats(); !d.completed || st.HashFails == 0 {
		t.Errorf("download script: completed %v, %d of %d pieces, %d hash failures\n%s",
			d.completed, st.Have, d.layout.NumPieces(), st.HashFails, d.e.Describe())
	}
	d = newFuzzDriver(t, seeds[1])
	d.run()
	if st := d.e.Stats(); st.Uploaded == 0 {
		t.Errorf("upload script: nothing uploaded\n%s", d.e.Describe())
	}
	d = newFuzzDriver(t, seeds[2])
	d.run()
	if st := d.e.Stats(); st.Pulls == 0 || st.Have == 0 {
		t.Errorf("gossip script: %d pulls, %d pieces\n%s", st.Pulls, st.Have, d.e.Describe())
	}
	d = newFuzzDriver(t, seeds[3])
	d.run()
	if st := d.e.Stats(); !d.completed || st.HashFails == 0 || !slices.Equal(d.banned, []ConnID{2}) {
		t.Errorf("shared-piece script: completed %v, %d hash failures, banned %v (want [2])\n%s",
			d.completed, st.HashFails, d.banned, d.e.Describe())
	}
}
