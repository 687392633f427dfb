package live

import (
	"bytes"
	"errors"
	"io"
	"math/rand/v2"
	"net"
	"reflect"
	"testing"
	"testing/iotest"

	"github.com/swarmlab/swarmlab/wire"
)

// frameStream encodes msgs as one byte stream.
func frameStream(msgs ...wire.Message) []byte {
	var out []byte
	for i := range msgs {
		out = wire.AppendMessage(out, &msgs[i])
	}
	return out
}

// mixedFrames has a frame of every kind the reader treats apart: runs of
// pieces, empty and odd-sized blocks, small messages between them, a
// bitfield (piece-sized but not a piece) and an extended message longer
// than the read-ahead.
func mixedFrames() []wire.Message {
	rng := rand.New(rand.NewPCG(1, 2))
	block := func(n int) []byte {
		b := make([]byte, n)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		return b
	}
	var msgs []wire.Message
	for i := range 40 {
		msgs = append(msgs, wire.Message{Type: wire.Piece, Index: uint32(i / 16), Begin: uint32(i%16) * wire.BlockSize, Block: block(wire.BlockSize)})
		switch i % 10 {
		case 3:
			msgs = append(msgs, wire.Message{Type: wire.Have, Index: uint32(i)}, wire.Message{KeepAlive: true})
		case 5:
			msgs = append(msgs, wire.Message{Type: wire.Piece, Index: 9, Begin: 0, Block: block(1)},
				wire.Message{Type: wire.Piece, Index: 9, Begin: 1, Block: []byte{}})
		case 7:
			msgs = append(msgs, wire.Message{Type: wire.Bitfield, Bitfield: block(125)},
				wire.Message{Type: wire.Extended, ExtendedID: 3, Payload: block(100 << 10)})
		case 8:
			msgs = append(msgs, wire.Message{Type: wire.Request, Index: 1, Begin: 2, Length: 3})
		}
	}
	return msgs
}

// readFrames reads src to the end with a frameReader, copying what the
// reader's buffer holds, and returns the messages and the error that
// ended them.
func readFrames(r *frameReader) ([]wire.Message, error) {
	var msgs []wire.Message
	for {
		m, err := r.next(func(n int) ([]byte, bool) { return make([]byte, n), true })
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, cloneMessage(m))
	}
}

// readWire does the same with wire.Reader, the reference.
func readWire(data []byte, lim wire.Limits) ([]wire.Message, error) {
	r := wire.NewReader(bytes.NewReader(data), lim)
	var msgs []wire.Message
	for {
		m, err := r.ReadMessage()
		if err != nil {
			return msgs, err
		}
		msgs = append(msgs, cloneMessage(m))
	}
}

func cloneMessage(m wire.Message) wire.Message {
	clone := func(b []byte) []byte {
		if b == nil {
			return nil
		}
		return append([]byte{}, b...)
	}
	m.Block, m.Bitfield, m.Payload = clone(m.Block), clone(m.Bitfield), clone(m.Payload)
	return m
}

func TestFrameReaderMatchesWireReader(t *testing.T) {
	data := frameStream(mixedFrames()...)
	lim := wire.Limits{NumPieces: 1000}
	want, err := readWire(data, lim)
	if err != io.EOF || len(want) == 0 {
		t.Fatalf("reference read %d messages, ending %v", len(want), err)
	}
	for name, src := range map[string]func() io.Reader{
		"whole":    func() io.Reader { return bytes.NewReader(data) },
		"one byte": func() io.Reader { return iotest.OneByteReader(bytes.NewReader(data)) },
		"halves":   func() io.Reader { return iotest.HalfReader(bytes.NewReader(data)) },
	} {
		for _, size := range []int{pieceFrameHeader, 100, frameBuffer} {
			got, err := readFrames(newFrameReaderSize(src(), lim, size))
			if err != io.EOF {
				t.Errorf("%s, buffer %d: ended with %v, want EOF", name, size, err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("%s, buffer %d: %d messages differ from the reference's %d", name, size, len(got), len(want))
			}
		}
	}
}

// loopbackPair returns both ends of a TCP connection on 127.0.0.1.
func loopbackPair(t *testing.T) (client, server net.Conn) {
	t.Helper()
	addr, accepted := acceptOnce(t)
	client, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	server = <-accepted
	if server == nil {
		t.Fatal("accept failed")
	}
	t.Cleanup(func() { client.Close(); server.Close() })
	return client, server
}

// acceptOnce listens on 127.0.0.1 and accepts one connection, which it
// sends on the channel (nil if the accept failed). The listener closes
// once it has accepted, or when the test ends.
func acceptOnce(t *testing.T) (addr string, accepted <-chan net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	ch := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		ln.Close()
		ch <- c
	}()
	return ln.Addr().String(), ch
}

// writeChunks writes data to w in pieces of random size, then closes it.
func writeChunks(w io.WriteCloser, data []byte, seed uint64) {
	rng := rand.New(rand.NewPCG(seed, 0))
	for len(data) > 0 {
		n := min(len(data), 1+rng.IntN(40000))
		if _, err := w.Write(data[:n]); err != nil {
			break
		}
		data = data[n:]
	}
	w.Close()
}

func TestFrameReaderOverTCP(t *testing.T) {
	data := frameStream(mixedFrames()...)
	lim := wire.Limits{NumPieces: 1000}
	want, _ := readWire(data, lim)
	client, server := loopbackPair(t)
	go writeChunks(server, data, 7)
	r := newFrameReader(client, lim)
	if r.vec == nil {
		t.Fatal("a TCP connection was not read vectored")
	}
	got, err := readFrames(r)
	if err != io.EOF {
		t.Fatalf("ended with %v, want EOF", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("%d messages differ from the reference's %d", len(got), len(want))
	}
}

// TestFrameReaderReadsBlocksInPlace checks the point of the reader: in a
// run of pieces, blocks are read straight into their buffers, so at most
// the first read-ahead's worth of block bytes is ever copied, however
// the sender's writes fall.
func TestFrameReaderReadsBlocksInPlace(t *testing.T) {
	var msgs []wire.Message
	for i := range 256 {
		msgs = append(msgs, wire.Message{Type: wire.Piece, Index: uint32(i), Block: make([]byte, wire.BlockSize)})
	}
	data := frameStream(msgs...)
	for _, seed := range []uint64{1, 2, 3} {
		client, server := loopbackPair(t)
		go writeChunks(server, data, seed)
		r := newFrameReader(client, wire.Limits{})
		got, err := readFrames(r)
		if err != io.EOF || len(got) != len(msgs) {
			t.Fatalf("read %d of %d pieces, ending %v", len(got), len(msgs), err)
		}
		if r.copied > frameBuffer {
			t.Errorf("seed %d: %d of %d block bytes copied out of the read-ahead, want at most %d",
				seed, r.copied, len(msgs)*wire.BlockSize, frameBuffer)
		}
	}
}

func TestFrameReaderTruncated(t *testing.T) {
	data := frameStream(wire.Message{Type: wire.Piece, Index: 1, Block: make([]byte, 100)})
	for cut := 1; cut < len(data); cut++ {
		_, err := readFrames(newFrameReaderSize(bytes.NewReader(data[:cut]), wire.Limits{}, 32))
		if !errors.Is(err, io.ErrUnexpectedEOF) {
			t.Fatalf("cut at %d of %d: %v, want unexpected EOF", cut, len(data), err)
		}
	}
}

// FuzzFrameReader checks the frameReader against wire.Reader on any
// input, read in chunks of any size through a read-ahead of any size:
// the same messages, and an error at the same place.
func FuzzFrameReader(f *testing.F) {
	f.Add(frameStream(wire.Message{Type: wire.Piece, Index: 2, Begin: 16, Block: []byte("block")},
		wire.Message{Type: wire.Have, Index: 3}, wire.Message{KeepAlive: true}), uint8(3), uint8(13))
	f.Add(frameStream(wire.Message{Type: wire.Bitfield, Bitfield: []byte{0xff, 0xc0}},
		wire.Message{Type: wire.Extended, ExtendedID: 1, Payload: bytes.Repeat([]byte("x"), 90)}), uint8(0), uint8(20))
	f.Add([]byte{0, 0, 0, 9, 7, 0, 0, 0, 1}, uint8(1), uint8(0))
	f.Add([]byte{0, 0, 0, 5, 7, 0, 0, 0, 1}, uint8(2), uint8(0))
	f.Add([]byte{0, 1, 0, 0, 7}, uint8(0), uint8(0))
	f.Fuzz(func(t *testing.T, data []byte, chunk, size uint8) {
		lim := wire.Limits{NumPieces: 10, MaxBlock: 64, MaxExtended: 100}
		want, wantErr := readWire(data, lim)
		var src io.Reader = bytes.NewReader(data)
		if chunk > 0 {
			src = &chunkReader{data: data, n: int(chunk)}
		}
		got, err := readFrames(newFrameReaderSize(src, lim, int(size)))
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("messages %+v, want %+v", got, want)
		}
		if (err == io.EOF) != (wantErr == io.EOF) {
			t.Fatalf("ended with %v, want %v", err, wantErr)
		}
	})
}

// chunkReader returns at most n bytes per Read.
type chunkReader struct {
	data []byte
	n    int
}

func (c *chunkReader) Read(p []byte) (int, error) {
	if len(c.data) == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), c.n)], c.data)
	c.data = c.data[k:]
	return k, nil
}
