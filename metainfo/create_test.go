package metainfo

import (
	"bytes"
	"context"
	"crypto/sha1"
	"errors"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// crRandom returns n pseudo-random bytes, different for each seed, so that
// a piece hash computed over the wrong bytes cannot match by accident.
func crRandom(seed uint64, n int) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// crWrite creates dir/rel (with parent directories) holding data.
func crWrite(t testing.TB, dir, rel string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, filepath.FromSlash(rel))
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// crWantPieces is the straightforward reference: SHA-1 of each
// pieceLength chunk of the concatenated content.
func crWantPieces(content []byte, pieceLength int) []byte {
	var out []byte
	for off := 0; off < len(content); off += pieceLength {
		sum := sha1.Sum(content[off:min(off+pieceLength, len(content))])
		out = append(out, sum[:]...)
	}
	return out
}

func TestCreateSingleFile(t *testing.T) {
	dir := t.TempDir()
	content := crRandom(1, 5*16384+1234) // 6 pieces, the last one short
	p := crWrite(t, dir, "movie.bin", content)
	date := time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)

	m, err := Create(context.Background(), p, CreateOptions{
		PieceLength:  16384,
		Trackers:     []string{"http://127.0.0.1:6969/announce"},
		WebSeeds:     []string{"http://127.0.0.1:8080/files/"},
		Comment:      "test",
		CreatedBy:    "swarmlab/test",
		CreationDate: date,
		Private:      true,
		Workers:      3,
	})
	if err != nil {
		t.Fatal(err)
	}
	in := m.Info
	if in.Name != "movie.bin" || in.Length != int64(len(content)) || in.Files != nil {
		t.Errorf("info = name %q length %d files %v; want single file movie.bin of %d bytes", in.Name, in.Length, in.Files, len(content))
	}
	if in.PieceLength != 16384 || !in.Private {
		t.Errorf("piece length %d private %v, want 16384 true", in.PieceLength, in.Private)
	}
	if want := crWantPieces(content, 16384); !bytes.Equal(in.Pieces, want) {
		t.Errorf("piece hashes differ from the reference (%d vs %d bytes)", len(in.Pieces), len(want))
	}
	if m.InfoHash != sha1.Sum(m.InfoBytes) {
		t.Error("InfoHash is not the SHA-1 of InfoBytes")
	}
	if m.Announce != "http://127.0.0.1:6969/announce" || m.AnnounceList != nil {
		t.Errorf("announce %q list %v; one tracker gives announce only", m.Announce, m.AnnounceList)
	}
	if !slices.Equal(m.URLList, []string{"http://127.0.0.1:8080/files/"}) {
		t.Errorf("url-list = %v", m.URLList)
	}
	if m.Comment != "test" || m.CreatedBy != "swarmlab/test" || m.CreationDate != date.Unix() {
		t.Errorf("comment %q created by %q date %d", m.Comment, m.CreatedBy, m.CreationDate)
	}
}

func TestCreateMultiFile(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "album")
	// Sizes chosen so pieces straddle file boundaries, one file is smaller
	// than a piece and one is empty. Names are chosen so that component-wise
	// order differs from plain string order of the joined paths:
	// "a/z" < "a.txt" as components ("a" < "a.txt") but "a.txt" < "a/z" as
	// strings ('.' < '/').
	files := []struct {
		rel  string
		size int
	}{
		{"a.txt", 20000},
		{"a/z", 40000},
		{"a/b/c.bin", 3000},
		{"empty", 0},
		{"B-upper", 16384},
		{".hidden", 7},
	}
	for i, f := range files {
		crWrite(t, dir, f.rel, crRandom(uint64(10+i), f.size))
	}
	if err := os.MkdirAll(filepath.Join(dir, "emptydir", "deeper"), 0o755); err != nil {
		t.Fatal(err)
	}
	wantOrder := []string{".hidden", "B-upper", "a/b/c.bin", "a/z", "a.txt", "empty"}

	m, err := Create(context.Background(), dir, CreateOptions{PieceLength: 16384, Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	in := m.Info
	if in.Name != "album" || in.Length != 0 {
		t.Errorf("name %q length %d, want album 0", in.Name, in.Length)
	}
	var got []string
	var content []byte
	var off int64
	for _, f := range in.Files {
		rel := strings.Join(f.Path, "/")
		got = append(got, rel)
		data, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		if int64(len(data)) != f.Length || f.Offset != off {
			t.Errorf("%s: length %d offset %d, want %d %d", rel, f.Length, f.Offset, len(data), off)
		}
		off += f.Length
		content = append(content, data...)
	}
	if !slices.Equal(got, wantOrder) {
		t.Errorf("file order = %q, want %q", got, wantOrder)
	}
	if want := crWantPieces(content, 16384); !bytes.Equal(in.Pieces, want) {
		t.Errorf("piece hashes differ from the reference (%d vs %d bytes)", len(in.Pieces), len(want))
	}
}

func TestCreateTrackerTiers(t *testing.T) {
	p := crWrite(t, t.TempDir(), "f", crRandom(2, 100))
	trackers := []string{"http://127.0.0.1:1/a", "udp://127.0.0.1:2", "http://127.0.0.1:3/a"}
	m, err := Create(context.Background(), p, CreateOptions{Trackers: trackers})
	if err != nil {
		t.Fatal(err)
	}
	if m.Announce != trackers[0] {
		t.Errorf("announce = %q", m.Announce)
	}
	want := [][]string{{trackers[0]}, {trackers[1]}, {trackers[2]}}
	if !slices.EqualFunc(m.AnnounceList, want, slices.Equal) {
		t.Errorf("announce-list = %q, want one tier per tracker %q", m.AnnounceList, want)
	}
	if m.CreationDate != 0 || m.Info.Private {
		t.Errorf("zero options gave date %d private %v", m.CreationDate, m.Info.Private)
	}
	if m.Info.PieceLength != MinPieceLength {
		t.Errorf("automatic piece length for 100 bytes = %d", m.Info.PieceLength)
	}
}

func TestCreateRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "rt")
	crWrite(t, dir, "x/one", crRandom(3, 50000))
	crWrite(t, dir, "two", crRandom(4, 1))
	m, err := Create(context.Background(), dir, CreateOptions{
		Trackers:     []string{"http://127.0.0.1:6969/announce", "http://127.0.0.1:6970/announce"},
		WebSeeds:     []string{"http://127.0.0.1:8080/"},
		Comment:      "round trip",
		CreationDate: time.Unix(1700000000, 0),
		Private:      true,
	})
	if err != nil {
		t.Fatal(err)
	}
	data, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if back.InfoHash != m.InfoHash {
		t.Errorf("info hash after Encode/Parse = %s, want %s", back.InfoHash, m.InfoHash)
	}
	if len(back.Warnings) != 0 {
		t.Errorf("parsing a created torrent warned: %q", back.Warnings)
	}
	if !bytes.Equal(back.Info.Pieces, m.Info.Pieces) || back.Info.Name != "rt" || len(back.Info.Files) != 2 ||
		!back.Info.Private || back.Comment != "round trip" || back.CreationDate != 1700000000 ||
		!slices.EqualFunc(back.AnnounceList, m.AnnounceList, slices.Equal) || !slices.Equal(back.URLList, m.URLList) {
		t.Errorf("parsed torrent differs from the created one:\n got %+v\nwant %+v", back, m)
	}
}

func TestCreateRejects(t *testing.T) {
	tmp := t.TempDir()
	emptyDir := filepath.Join(tmp, "empty")
	if err := os.MkdirAll(filepath.Join(emptyDir, "sub"), 0o755); err != nil {
		t.Fatal(err)
	}
	zeroDir := filepath.Join(tmp, "zeros")
	crWrite(t, zeroDir, "a", nil)
	crWrite(t, zeroDir, "b/c", nil)
	zeroFile := crWrite(t, tmp, "zero.bin", nil)

	linkDir := filepath.Join(tmp, "links")
	crWrite(t, linkDir, "real", []byte("data"))
	if err := os.Symlink("real", filepath.Join(linkDir, "alias")); err != nil {
		t.Fatal(err)
	}
	badName := filepath.Join(tmp, "badname")
	crWrite(t, badName, "ok", []byte("x"))
	crWrite(t, badName, "sub/nul.txt", []byte("x")) // a Windows device name
	badUTF8 := filepath.Join(tmp, "badutf8")
	crWrite(t, badUTF8, "caf\xe9", []byte("x"))
	fine := crWrite(t, tmp, "fine", []byte("x"))

	cases := []struct {
		name string
		root string
		opts CreateOptions
		want string
	}{
		{"missing", filepath.Join(tmp, "nope"), CreateOptions{}, "no such file"},
		{"empty directory", emptyDir, CreateOptions{}, "no regular files"},
		{"zero-length files", zeroDir, CreateOptions{}, "total length is 0"},
		{"zero-length file", zeroFile, CreateOptions{}, "total length is 0"},
		{"symlink below root", linkDir, CreateOptions{}, "symbolic link"},
		{"device name", badName, CreateOptions{}, "device name"},
		{"invalid UTF-8", badUTF8, CreateOptions{}, "UTF-8"},
		{"piece length too small", fine, CreateOptions{PieceLength: 8192}, "power of two"},
		{"piece length not a power of two", fine, CreateOptions{PieceLength: 3 << 14}, "power of two"},
		{"piece length too large", fine, CreateOptions{PieceLength: 2 * MaxPieceLength}, "power of two"},
		{"empty tracker", fine, CreateOptions{Trackers: []string{""}}, "empty tracker"},
		{"empty web seed", fine, CreateOptions{WebSeeds: []string{""}}, "empty web seed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			m, err := Create(context.Background(), c.root, c.opts)
			if err == nil {
				t.Fatalf("Create succeeded (%d files), want error containing %q", len(m.Info.FileList()), c.want)
			}
			if !strings.Contains(err.Error(), c.want) {
				t.Errorf("error %q does not contain %q", err, c.want)
			}
		})
	}
}

func TestCreateFollowsRootSymlink(t *testing.T) {
	tmp := t.TempDir()
	target := filepath.Join(tmp, "target")
	crWrite(t, target, "f", crRandom(5, 300))
	link := filepath.Join(tmp, "linked")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	m, err := Create(context.Background(), link, CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if m.Info.Name != "linked" || len(m.Info.Files) != 1 || m.Info.Files[0].Path[0] != "f" {
		t.Errorf("name %q files %+v; want the link's name and the target's files", m.Info.Name, m.Info.Files)
	}
}

func TestAutoPieceLength(t *testing.T) {
	const (
		kib = int64(1) << 10
		mib = int64(1) << 20
		gib = int64(1) << 30
	)
	cases := []struct{ total, want int64 }{
		{-1, 16 * kib},
		{0, 16 * kib},
		{1, 16 * kib},
		{2000 * 16 * kib, 16 * kib},     // exactly 2,000 pieces
		{2000*16*kib + 1, 32 * kib},     // 2,001 would be too many
		{100 * mib, 64 * kib},           // 1,600 pieces
		{1 * gib, 1 * mib},              // 1,024 pieces
		{4*gib + 1, 4 * mib},            // 1,025 pieces
		{20 * gib, 16 * mib},            // 1,280 pieces
		{32000 * mib, 16 * mib},         // exactly 2,000 pieces
		{100 * gib, MaxAutoPieceLength}, // capped: 6,400 pieces
	}
	for _, c := range cases {
		got := AutoPieceLength(c.total)
		if got != c.want {
			t.Errorf("AutoPieceLength(%d) = %d, want %d", c.total, got, c.want)
		}
		if got&(got-1) != 0 || got < MinPieceLength || got > MaxAutoPieceLength {
			t.Errorf("AutoPieceLength(%d) = %d, not a power of two in range", c.total, got)
		}
		if pieces := (c.total + got - 1) / got; c.total > 0 && got < MaxAutoPieceLength && pieces > 2000 {
			t.Errorf("AutoPieceLength(%d) = %d gives %d pieces", c.total, got, pieces)
		}
	}
}

// hookCtx is a context whose Err runs hook with the number of the call.
// Workers poll Err once per piece, so with one worker the hook runs at a
// known point of the hashing: the tests below use it to cancel, or to
// change a file, exactly between two pieces, with no timing involved.
type hookCtx struct {
	context.Context
	calls atomic.Int64
	hook  func(call int64) error
}

func (c *hookCtx) Err() error { return c.hook(c.calls.Add(1)) }

func TestCreateCancel(t *testing.T) {
	p := crWrite(t, t.TempDir(), "f", crRandom(6, 10*16384))

	t.Run("before start", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := Create(ctx, p, CreateOptions{}); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
	t.Run("while hashing", func(t *testing.T) {
		// Call 1 is Create's own check; calls 2 and 3 precede pieces 0 and
		// 1; call 4 cancels before piece 2.
		ctx := &hookCtx{Context: context.Background(), hook: func(call int64) error {
			if call >= 4 {
				return context.Canceled
			}
			return nil
		}}
		var last atomic.Int64
		_, err := Create(ctx, p, CreateOptions{PieceLength: 16384, Workers: 1, Progress: func(hashed, total int64) {
			last.Store(hashed)
		}})
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
		if got := last.Load(); got == 10*16384 {
			t.Error("progress reported completion of a cancelled run")
		}
		if got := ctx.calls.Load(); got != 4 {
			t.Errorf("context polled %d times; hashing did not stop at the cancellation", got)
		}
	})
}

func TestCreateDetectsChanges(t *testing.T) {
	const pl = 16384
	cases := []struct {
		name   string
		change func(t *testing.T, p string)
		want   string
	}{
		{"shrunk", func(t *testing.T, p string) {
			if err := os.Truncate(p, pl+100); err != nil {
				t.Error(err)
			}
		}, "shrank"},
		{"grown", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			f.Write([]byte("more"))
			f.Close()
		}, "changed"},
		{"rewritten in place", func(t *testing.T, p string) {
			f, err := os.OpenFile(p, os.O_WRONLY, 0)
			if err != nil {
				t.Error(err)
				return
			}
			f.WriteAt([]byte("edit"), 0)
			f.Close()
			// Make the modification visible even on a coarse clock.
			later := time.Now().Add(time.Hour)
			if err := os.Chtimes(p, later, later); err != nil {
				t.Error(err)
			}
		}, "changed"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := crWrite(t, t.TempDir(), "f", crRandom(7, 4*pl))
			// Change the file between pieces 0 and 1 (before poll 3).
			ctx := &hookCtx{Context: context.Background(), hook: func(call int64) error {
				if call == 3 {
					c.change(t, p)
				}
				return nil
			}}
			_, err := Create(ctx, p, CreateOptions{PieceLength: pl, Workers: 1})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
		})
	}
}

func TestCreateProgress(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "d")
	crWrite(t, dir, "a", crRandom(8, 70000))
	crWrite(t, dir, "b", crRandom(9, 30000))
	var calls []int64 // the callback runs on one goroutine at a time
	var total int64
	_, err := Create(context.Background(), dir, CreateOptions{Progress: func(h, tot int64) {
		calls = append(calls, h)
		total = tot
	}})
	if err != nil {
		t.Fatal(err)
	}
	if total != 100000 || len(calls) == 0 || calls[len(calls)-1] != total {
		t.Fatalf("progress calls %v total %d; want the last call to report all 100000 bytes", calls, total)
	}
	if !slices.IsSorted(calls) {
		t.Errorf("progress went backwards: %v", calls)
	}
}

// BenchmarkCreate measures hashing throughput on a 256 MiB file that is in
// the page cache after the first iteration, so it shows the CPU-bound rate
// (SHA-1 on all cores) rather than the disk's.
func BenchmarkCreate(b *testing.B) {
	const size = 256 << 20
	p := filepath.Join(b.TempDir(), "big")
	f, err := os.Create(p)
	if err != nil {
		b.Fatal(err)
	}
	chunk := crRandom(11, 1<<20)
	for range size / len(chunk) {
		if _, err := f.Write(chunk); err != nil {
			b.Fatal(err)
		}
	}
	if err := f.Close(); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(size)
	for b.Loop() {
		if _, err := Create(context.Background(), p, CreateOptions{}); err != nil {
			b.Fatal(err)
		}
	}
}
