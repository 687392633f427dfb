package interop

import (
	"context"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"
)

// Helpers for the client interop tests (client_*_test.go): our client
// (`swarmlab seed` and `swarmlab download`) exchanging data with
// libtorrent, aria2 and Transmission, which clients_test.go starts. What
// is here is the content, with awkward sizes, and running our client.

// clientDeadline bounds one transfer test from start to finish. A
// transfer here is a few megabytes on loopback; the subtests, setup
// included, took 0.2 to 5.3 s each on a 2-core VM. The bound is far above
// that, and low enough that a transfer that has stalled for good fails
// the run without holding it up for minutes.
const clientDeadline = 30 * time.Second

// transmissionDeadline replaces clientDeadline for Transmission, which
// spends up to ten seconds deciding it is interested in a new peer (it
// re-evaluates interest on its rechoke timer) and then downloads slowly
// on loopback: its subtests took 17 to 19 s each on a 2-core VM.
const transmissionDeadline = 90 * time.Second

// clientData is generated content shared by a seed, and the torrent
// layout it is cut into.
type clientData struct {
	dir       string // the parent of the content: a seed's save path or DATA_DIR
	name      string // the torrent's name: the file, or the top directory
	files     []fileSpec
	pieceSize int64
}

// multiFiles are three files whose sizes are neither powers of two nor
// multiples of any piece size used here, so pieces straddle file
// boundaries at odd offsets, and the files nest in directories.
var multiFiles = []fileSpec{
	{"a/one.bin", 1_000_003},
	{"b.bin", 777_777},
	{"c/d/e.bin", 2_345_678},
}

// newMultiData writes multiFiles under a directory named "multi", to be
// cut into 64 KiB pieces: 63 of them, the last 60,226 bytes long.
func newMultiData(t *testing.T) *clientData {
	t.Helper()
	d := &clientData{dir: filepath.Join(t.TempDir(), "seed"), name: "multi",
		files: multiFiles, pieceSize: 64 << 10}
	genData(t, filepath.Join(d.dir, d.name), 31, d.files)
	return d
}

// newSingleData writes one file of size bytes named single.bin, to be cut
// into pieceSize pieces.
func newSingleData(t *testing.T, size, pieceSize int64) *clientData {
	t.Helper()
	d := &clientData{dir: filepath.Join(t.TempDir(), "seed"), name: "single.bin",
		files: []fileSpec{{"", size}}, pieceSize: pieceSize}
	genData(t, filepath.Join(d.dir, d.name), 32, d.files)
	return d
}

// torrent makes a torrent of the content announcing to announce, next to
// the content, and checks it has the shape the tests rely on: a last piece
// shorter than the others.
func (d *clientData) torrent(t *testing.T, file, announce string) (path string, info inspectOut) {
	t.Helper()
	needSwarmlab(t)
	path = filepath.Join(filepath.Dir(d.dir), file)
	run(t, swarmlabBin, "create", "--no-date", "-o", path, "-t", announce,
		"--piece-size", strconv.FormatInt(d.pieceSize, 10), filepath.Join(d.dir, d.name))
	info = inspect(t, path)
	total := totalSize(d.files)
	if info.TotalLength != total || info.Pieces != piecesFor(total, d.pieceSize) || total%d.pieceSize == 0 {
		t.Fatalf("torrent %s: %d bytes in %d pieces of %d; want %d bytes with a short last piece",
			path, info.TotalLength, info.Pieces, info.PieceLength, total)
	}
	return path, info
}

// check fails the test unless saveDir holds the content byte for byte, as
// a client saving the torrent under saveDir lays it out.
func (d *clientData) check(t *testing.T, saveDir string) {
	t.Helper()
	if err := d.compare(saveDir); err != nil {
		t.Fatal(err)
	}
}

// compare reports the first file under saveDir that differs from the
// content.
func (d *clientData) compare(saveDir string) error {
	for _, f := range d.files {
		rel := filepath.Join(d.name, filepath.FromSlash(f.path))
		if err := diffFile(filepath.Join(saveDir, rel), filepath.Join(d.dir, rel)); err != nil {
			return err
		}
	}
	return nil
}

var listeningOn = regexp.MustCompile(`listening on (\S+)$`)

// startOurSeed runs `swarmlab seed` and returns its address once it is
// listening, which it reports only after verifying the data.
func startOurSeed(t *testing.T, ctx context.Context, torrent, dataDir string, extra ...string) netip.AddrPort {
	t.Helper()
	needSwarmlab(t)
	args := append([]string{"seed", "--listen", "127.0.0.1:0"}, extra...)
	args = append(args, torrent, dataDir)
	p := startProc(t, "swarmlab seed", exec.Command(swarmlabBin, args...))
	m := p.waitLine(t, ctx, listeningOn)
	addr, err := netip.ParseAddrPort(m[1])
	if err != nil {
		t.Fatalf("swarmlab seed: listening address %q: %v", m[1], err)
	}
	return addr
}

// startOurDownload starts `swarmlab download` of torrent into outDir.
func startOurDownload(t *testing.T, name, torrent, outDir string, extra ...string) *proc {
	t.Helper()
	needSwarmlab(t)
	args := append([]string{"download", "--listen", "127.0.0.1:0", "-o", outDir}, extra...)
	args = append(args, torrent)
	return startProc(t, name, exec.Command(swarmlabBin, args...))
}

// runOurDownload runs `swarmlab download` into outDir and fails the test
// unless it exits 0, which it does once every piece is verified.
func runOurDownload(t *testing.T, ctx context.Context, torrent, outDir string, extra ...string) {
	t.Helper()
	startOurDownload(t, "swarmlab download", torrent, outDir, extra...).wait(t, ctx)
}
