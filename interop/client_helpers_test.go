package interop

import (
	"bytes"
	"context"
	"fmt"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker"
	"github.com/swarmlab/swarmlab/tracker/client"
)

// Helpers for the client interop tests (client_*_test.go): our client
// (`swarmlab seed` and `swarmlab download`) exchanging data with
// libtorrent, aria2 and Transmission. The tracker tests' helpers in
// clients_test.go and tracker_test.go start those clients and trackers;
// what is here is what they lack: content with awkward sizes, watching a
// process's log lines, and aria2 runs whose listen port is known.

// clientDeadline bounds one transfer test from start to finish. A
// transfer here is a few megabytes on loopback and takes a second or two;
// the bound is far above that, and low enough that a transfer that has
// stalled for good fails the run without holding it up for minutes.
const clientDeadline = 30 * time.Second

// transmissionDeadline replaces clientDeadline for Transmission, which
// spends up to ten seconds deciding it is interested in a new peer (it
// re-evaluates interest on its rechoke timer) and then downloads slowly
// on loopback.
const transmissionDeadline = 90 * time.Second

// clientData is generated content shared by a seed, and the torrent
// layout it is cut into.
type clientData struct {
	dir       string // the parent of the content: a seed's save path or DATA_DIR
	name      string // the torrent's name: the file, or the top directory
	files     []fileSpec
	multi     bool
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
		files: multiFiles, multi: true, pieceSize: 64 << 10}
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
		rel := d.name
		if d.multi {
			rel = filepath.Join(d.name, filepath.FromSlash(f.path))
		}
		got, err := os.ReadFile(filepath.Join(saveDir, rel))
		if err != nil {
			return fmt.Errorf("downloaded file: %w", err)
		}
		want, err := os.ReadFile(filepath.Join(d.dir, rel))
		if err != nil {
			return err
		}
		if !bytes.Equal(got, want) {
			return fmt.Errorf("%s differs from the source (%d and %d bytes)", filepath.Join(saveDir, rel), len(got), len(want))
		}
	}
	return nil
}

// lineLog keeps a process's output and wakes whoever waits for a line.
// Waiting on it is waiting on an event (the process wrote something), not
// on time.
type lineLog struct {
	mu      sync.Mutex
	buf     []byte
	changed chan struct{} // closed and replaced on every write
}

func newLineLog() *lineLog { return &lineLog{changed: make(chan struct{})} }

func (l *lineLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.buf = append(l.buf, p...)
	close(l.changed)
	l.changed = make(chan struct{})
	return len(p), nil
}

// snapshot returns the complete lines so far and a channel closed at the
// next write.
func (l *lineLog) snapshot() ([]string, <-chan struct{}) {
	l.mu.Lock()
	defer l.mu.Unlock()
	s := string(l.buf)
	if i := strings.LastIndexByte(s, '\n'); i >= 0 {
		s = s[:i]
	} else {
		s = ""
	}
	var lines []string
	if s != "" {
		lines = strings.Split(s, "\n")
	}
	return lines, l.changed
}

func (l *lineLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return string(l.buf)
}

// proc is a process whose output (stdout and stderr together) the test
// can wait on line by line.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lineLog
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid once done is closed
}

// startProc starts cmd and, when the test ends, stops it if it still runs
// (SIGTERM, then SIGKILL after a few seconds) and logs its output if the
// test failed.
func startProc(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, out: newLineLog(), done: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.out, p.out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	go func() {
		p.err = cmd.Wait()
		close(p.done)
	}()
	t.Cleanup(func() {
		select {
		case <-p.done:
		default:
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-p.done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-p.done
			}
		}
		if t.Failed() {
			t.Logf("output of %s (%s):\n%s", name, strings.Join(cmd.Args, " "), p.out.String())
		}
	})
	return p
}

// waitLine returns the submatches of the first output line matching re.
// The process exiting first, or ctx ending, fails the test.
func (p *proc) waitLine(t *testing.T, ctx context.Context, re *regexp.Regexp) []string {
	t.Helper()
	for {
		lines, changed := p.out.snapshot()
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		select {
		case <-changed:
		case <-p.done:
			// Output written just before the exit is in the log by now.
			lines, _ := p.out.snapshot()
			for _, l := range lines {
				if m := re.FindStringSubmatch(l); m != nil {
					return m
				}
			}
			t.Fatalf("%s exited (%v) before printing a line matching %q", p.name, p.err, re)
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s to print a line matching %q", p.name, re)
		}
	}
}

// wait waits for the process to exit and fails the test unless it exited
// with status 0.
func (p *proc) wait(t *testing.T, ctx context.Context) {
	t.Helper()
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("%s: %v\n%s", p.name, p.err, p.out.String())
		}
	case <-ctx.Done():
		t.Fatalf("timed out waiting for %s to exit", p.name)
	}
}

var listeningOn = regexp.MustCompile(`listening on (\S+)$`)

// startOurSeed runs `swarmlab seed` and returns once it is listening,
// which it reports only after verifying the data, with its address.
func startOurSeed(t *testing.T, ctx context.Context, torrent, dataDir string, extra ...string) (*proc, netip.AddrPort) {
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
	return p, addr
}

// runOurDownload runs `swarmlab download` into outDir and fails the test
// unless it exits 0, which it does once every piece is verified.
func runOurDownload(t *testing.T, ctx context.Context, torrent, outDir string, extra ...string) *proc {
	t.Helper()
	needSwarmlab(t)
	args := append([]string{"download", "--listen", "127.0.0.1:0", "-o", outDir}, extra...)
	args = append(args, torrent)
	p := startProc(t, "swarmlab download", exec.Command(swarmlabBin, args...))
	p.wait(t, ctx)
	return p
}

// aria2Listening is aria2's notice that its peer listener is up; as a
// seed it prints it only after the data has passed its check.
var aria2Listening = regexp.MustCompile(`IPv4 BitTorrent: listening on TCP port (\d+)`)

// startAria2 runs aria2c on torrent, saving under dir and accepting peers
// on port, and returns once it is listening. With seed it checks the data
// already under dir and then seeds until stopped; otherwise it downloads
// and exits when complete. runAria2 (clients_test.go) cannot serve here:
// it blocks until aria2 exits and hides the port, and the direct tests
// must have our client dial aria2 while it runs.
func startAria2(t *testing.T, ctx context.Context, torrent, dir string, port int, seed bool) *proc {
	t.Helper()
	bin, err := exec.LookPath("aria2c")
	if err != nil {
		missingTool(t, "aria2c not found (apt-get install aria2)")
	}
	logFile := filepath.Join(t.TempDir(), "aria2.log")
	args := []string{
		"--no-conf=true",
		"--dir=" + dir,
		"--interface=127.0.0.1",
		"--disable-ipv6=true",
		"--listen-port=" + strconv.Itoa(port),
		"--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false",
		"--enable-peer-exchange=false",
		"--file-allocation=none",
		"--summary-interval=0",
		// Notices carry the "listening" line waited for.
		"--console-log-level=notice",
		// The peer messages, for the failure report.
		"--log=" + logFile, "--log-level=info",
	}
	if seed {
		// Ratio 0 means no ratio goal: seed until the test stops it.
		args = append(args, "--check-integrity=true", "--seed-ratio=0.0")
	} else {
		args = append(args, "--seed-time=0")
	}
	args = append(args, torrent)
	p := startProc(t, "aria2c", exec.Command(bin, args...))
	// Registered after startProc's cleanup, so it runs first, while
	// aria2 may still be running; the log so far is what matters.
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("aria2c's log of its peer connections (requests and blocks left out):\n%s", aria2PeerLog(logFile))
		}
	})
	p.waitLine(t, ctx, aria2Listening)
	return p
}

// aria2PeerLog is the tail of an aria2 info log without the block-by-block
// traffic, which would bury how a connection went.
func aria2PeerLog(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return err.Error()
	}
	var keep []string
	for _, l := range strings.Split(string(b), "\n") {
		if strings.Contains(l, "request index=") || strings.Contains(l, "piece index=") ||
			strings.Contains(l, "we got new piece") || strings.Contains(l, "have index=") ||
			strings.Contains(l, "allowed fast index=") {
			continue
		}
		keep = append(keep, l)
	}
	return strings.Join(keep[max(0, len(keep)-40):], "\n")
}

// waitListed waits until the tracker hands out 127.0.0.1:port, that is,
// until the peer there has announced. The probe announces as a leecher
// (so it is given seeds too; probeAnnounce asks as a seed) at a port no
// client uses, then as stopped, so it leaves nothing in the swarm.
func waitListed(t *testing.T, ctx context.Context, addrs trackerAddrs, proto, infoHash string, port int, who string) {
	t.Helper()
	ih, err := metainfo.ParseHash(infoHash)
	if err != nil {
		t.Fatal(err)
	}
	want := netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), uint16(port))
	c := client.New(client.Config{Timeout: 5 * time.Second})
	defer c.Close()
	u := addrs.announceURL(proto)
	poll(t, ctx, fmt.Sprintf("the tracker to list %s at %v", who, want), func() (bool, error) {
		req := tracker.AnnounceRequest{InfoHash: ih, Port: 9, Left: 1, Event: tracker.EventStarted, NumWant: 200}
		copy(req.PeerID[:], "-SLPROBE-clienttest0")
		resp, err := c.Announce(ctx, u, req)
		if err != nil {
			return false, err
		}
		req.Event, req.NumWant = tracker.EventStopped, 0
		if _, err := c.Announce(ctx, u, req); err != nil {
			return false, fmt.Errorf("stopped announce: %w", err)
		}
		for _, p := range resp.Peers {
			if p.Addr == want {
				return true, nil
			}
		}
		return false, fmt.Errorf("peers %v", resp.Peers)
	})
}

// needClientTools checks every tool the client tests use before any is
// started, so a missing one skips (or fails) the test at once.
func needClientTools(t *testing.T, tools ...string) {
	t.Helper()
	needSwarmlab(t)
	pkgs := map[string]string{
		"aria2c":              "aria2",
		"transmission-daemon": "transmission-daemon",
		"transmission-remote": "transmission-cli",
	}
	for _, tool := range tools {
		if tool == "libtorrent" {
			needLibtorrent(t)
			continue
		}
		if _, err := exec.LookPath(tool); err != nil {
			missingTool(t, "%s not found (apt-get install %s)", tool, pkgs[tool])
		}
	}
}
