package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
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

// Helpers that run real BitTorrent clients and trackers as subprocesses for
// the tracker and client interop tests: a libtorrent peer steered over its
// standard streams (testdata/ltpeer.py), aria2c, transmission-daemon,
// opentracker and `swarmlab tracker`. Every one is bound to 127.0.0.1 with
// DHT, LSD, UPnP, NAT-PMP and peer exchange off, and is stopped when its
// test ends.

// pollEvery is how often a condition on an external process is checked.
// Polling is the only way to learn, say, a Transmission download's
// progress; every poll has a deadline that fails the test.
const pollEvery = 100 * time.Millisecond

// poll calls cond until it reports true, and fails the test when ctx ends
// first, with what was being waited for and cond's last error.
func poll(t *testing.T, ctx context.Context, what string, cond func() (bool, error)) {
	t.Helper()
	tick := time.NewTicker(pollEvery)
	defer tick.Stop()
	var last error
	for {
		ok, err := cond()
		if ok {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s (last error: %v)", what, last)
		case <-tick.C:
		}
	}
}

// freePort returns a TCP port on 127.0.0.1 that was free a moment ago, for
// tools that cannot be told to pick one and report it. Another process
// could take it in between; on this test machine that does not happen.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// freeTCPUDPPort returns a port free for both TCP and UDP on 127.0.0.1,
// for servers that bind both on one port (opentracker, Transmission).
func freeTCPUDPPort(t *testing.T) int {
	t.Helper()
	for range 20 {
		p := freePort(t)
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(p))
		if err == nil {
			u.Close()
			return p
		}
	}
	t.Fatal("no port free for both TCP and UDP on 127.0.0.1")
	return 0
}

// loopback is the address of port on 127.0.0.1, as --peer takes it.
func loopback(port int) string { return "127.0.0.1:" + strconv.Itoa(port) }

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

// proc is a process whose output the test can wait on line by line.
type proc struct {
	name string
	cmd  *exec.Cmd
	out  *lineLog
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, valid once done is closed
}

// startProc starts cmd with its output kept in p.out: stdout and stderr
// together, or stderr alone when the caller has taken stdout (with
// StdoutPipe, say). When the test ends it stops the process if it still
// runs (SIGTERM, then SIGKILL after a few seconds) and logs its output if
// the test failed.
func startProc(t *testing.T, name string, cmd *exec.Cmd) *proc {
	t.Helper()
	p := &proc{name: name, cmd: cmd, out: newLineLog(), done: make(chan struct{})}
	if cmd.Stdout == nil {
		cmd.Stdout = p.out
	}
	cmd.Stderr = p.out
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
	for exited := false; ; {
		lines, changed := p.out.snapshot()
		for _, l := range lines {
			if m := re.FindStringSubmatch(l); m != nil {
				return m
			}
		}
		if exited {
			t.Fatalf("%s exited (%v) before printing a line matching %q", p.name, p.err, re)
		}
		select {
		case <-changed:
		case <-p.done:
			// Output written before the exit is in the log by now (Wait
			// returns only then); look through it once more.
			exited = true
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

// trackerAddrs are where a tracker under test listens.
type trackerAddrs struct {
	http, udp string // host:port
}

func (a trackerAddrs) announceURL(proto string) string {
	if proto == "udp" {
		return "udp://" + a.udp + "/announce"
	}
	return "http://" + a.http + "/announce"
}

var listeningLine = regexp.MustCompile(`^tracker listening http=(\S+) udp=(\S+)`)

// startSwarmlabTracker runs `swarmlab tracker` on ports of its choosing on
// 127.0.0.1 and returns the addresses it prints once listening.
func startSwarmlabTracker(t *testing.T, ctx context.Context, extra ...string) trackerAddrs {
	t.Helper()
	needSwarmlab(t)
	args := append([]string{"tracker", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0"}, extra...)
	p := startProc(t, "swarmlab tracker", exec.Command(swarmlabBin, args...))
	m := p.waitLine(t, ctx, listeningLine)
	return trackerAddrs{http: m[1], udp: m[2]}
}

// startOpentracker runs opentracker on 127.0.0.1 serving the info hashes
// given (Debian's build is whitelist-only), HTTP and UDP on one port.
func startOpentracker(t *testing.T, ctx context.Context, infoHashes ...string) trackerAddrs {
	t.Helper()
	bin := needTool(t, "opentracker")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "whitelist"), []byte(strings.Join(infoHashes, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freeTCPUDPPort(t)
	ps := strconv.Itoa(port)
	// -d: opentracker chroots there (as root it also drops to nobody), so
	// the whitelist is named relative to it.
	cmd := exec.Command(bin, "-i", "127.0.0.1", "-p", ps, "-P", ps, "-d", dir, "-w", "whitelist")
	cmd.Dir = dir
	startProc(t, "opentracker", cmd)
	addr := loopback(port)
	poll(t, ctx, "opentracker to accept connections", func() (bool, error) {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			return false, err
		}
		c.Close()
		return true, nil
	})
	return trackerAddrs{http: addr, udp: addr}
}

// waitListed waits until the tracker hands out 127.0.0.1:port for the
// torrent, that is, until the peer there has announced. The probe uses the
// project's tracker client and announces as a leecher (so it is given
// seeds and leechers alike) at a port no client uses, then as stopped, so
// it leaves nothing in the swarm.
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
		copy(req.PeerID[:], "-SLPROBE-interoptest")
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

// ltEvent is one line from testdata/ltpeer.py.
type ltEvent struct {
	Event     string       `json:"event"`
	Port      int          `json:"port"`
	Message   string       `json:"message"`
	URL       string       `json:"url"`
	NumPeers  int          `json:"num_peers"`
	State     string       `json:"state"`
	Progress  float64      `json:"progress"`
	IsSeeding bool         `json:"is_seeding"`
	Peers     []ltPeerInfo `json:"peers"`
}

type ltPeerInfo struct {
	IP            string `json:"ip"`
	Port          int    `json:"port"`
	Client        string `json:"client"`
	Seed          bool   `json:"seed"`
	SourceTracker bool   `json:"source_tracker"`
}

// ltPeer is a running testdata/ltpeer.py: a libtorrent session with one
// torrent, which learns peers only from the torrent's tracker, or from a
// "connect" command.
type ltPeer struct {
	name   string
	proc   *proc
	stdin  io.WriteCloser
	events chan ltEvent
	port   int // where it accepts peer connections
}

func startLtPeer(t *testing.T, ctx context.Context, name, torrent, dir string, seed bool) *ltPeer {
	t.Helper()
	args := []string{filepath.Join("testdata", "ltpeer.py"), torrent, dir}
	if seed {
		args = append(args, "--seed")
	}
	p, err := launchLtPeer(t, ctx, name, args)
	if crashedAtStart(err) {
		// The Python binding of libtorrent 2.0 (Debian's) now and then
		// dies of a segmentation fault as its session starts, before it
		// has heard of any peer or tracker: 1 start in 2,100 under
		// parallel load, with the torrent's tracker unreachable. Once is
		// its bug; twice in a row is worth a failure.
		t.Logf("%s: %v as it started; starting it again", name, err)
		p, err = launchLtPeer(t, ctx, name, args)
	}
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return p
}

// launchLtPeer starts testdata/ltpeer.py with args and waits for it to
// listen.
func launchLtPeer(t *testing.T, ctx context.Context, name string, args []string) (*ltPeer, error) {
	t.Helper()
	cmd := exec.Command(needLibtorrent(t), args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &ltPeer{name: name, stdin: stdin, events: make(chan ltEvent, 1024)}
	// Closing stdin asks the peer to quit (announcing "stopped"); it runs
	// before startProc's cleanup, which registered first and so runs
	// later, signals it.
	p.proc = startProc(t, name, cmd)
	t.Cleanup(func() { stdin.Close() })
	go func() {
		defer close(p.events)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev ltEvent
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				ev = ltEvent{Event: "error", Message: fmt.Sprintf("bad line %q: %v", sc.Text(), err)}
			}
			p.events <- ev
		}
	}()
	ev, err := p.next(ctx, "listening", func(ev ltEvent) bool { return ev.Event == "listening" })
	p.port = ev.Port
	return p, err
}

// errExited is next's error when the peer exits first; errors.As finds
// the process's exit error in it.
type errExited struct {
	what string
	err  error
}

func (e *errExited) Error() string {
	return fmt.Sprintf("exited (%v) while waiting for %s", e.err, e.what)
}
func (e *errExited) Unwrap() error { return e.err }

// crashedAtStart reports whether err says the peer died of a signal.
func crashedAtStart(err error) bool {
	var exited *errExited
	var ee *exec.ExitError
	if !errors.As(err, &exited) || !errors.As(err, &ee) {
		return false
	}
	ws, ok := ee.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled()
}

// send writes one command to the peer.
func (p *ltPeer) send(t *testing.T, cmd map[string]any) {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("%s: sending %s: %v", p.name, b, err)
	}
}

// wait returns the first event that satisfies match. An "error" event, or
// the peer exiting, fails the test.
func (p *ltPeer) wait(t *testing.T, ctx context.Context, what string, match func(ltEvent) bool) ltEvent {
	t.Helper()
	ev, err := p.next(ctx, what, match)
	if err != nil {
		t.Fatalf("%s: %v", p.name, err)
	}
	return ev
}

// next returns the first event that satisfies match, or an error for an
// "error" event, the peer exiting (an *errExited) or ctx ending.
func (p *ltPeer) next(ctx context.Context, what string, match func(ltEvent) bool) (ltEvent, error) {
	for {
		select {
		case ev, ok := <-p.events:
			switch {
			case !ok:
				// Its output is in the log; how it ended is not, and
				// a crash prints nothing.
				select {
				case <-p.proc.done:
					return ltEvent{}, &errExited{what: what, err: p.proc.err}
				case <-ctx.Done():
					return ltEvent{}, fmt.Errorf("closed its output while waiting for %s", what)
				}
			case ev.Event == "error":
				return ltEvent{}, errors.New(ev.Message)
			case match(ev):
				return ev, nil
			}
		case <-ctx.Done():
			return ltEvent{}, fmt.Errorf("timed out waiting to report %s", what)
		}
	}
}

// waitAll waits until the peer has reported each of the named events, in
// any order.
func (p *ltPeer) waitAll(t *testing.T, ctx context.Context, names ...string) {
	t.Helper()
	left := map[string]bool{}
	for _, n := range names {
		left[n] = true
	}
	for len(left) > 0 {
		ev := p.wait(t, ctx, fmt.Sprint(names), func(ev ltEvent) bool { return left[ev.Event] })
		delete(left, ev.Event)
	}
}

// quit asks the peer to leave the swarm and waits for it to exit.
func (p *ltPeer) quit(t *testing.T, ctx context.Context) {
	t.Helper()
	p.send(t, map[string]any{"cmd": "quit"})
	for {
		select {
		case _, ok := <-p.events:
			if !ok {
				return
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s to exit", p.name)
		}
	}
}

// status asks the peer for its status and returns it.
func (p *ltPeer) status(t *testing.T, ctx context.Context) ltEvent {
	t.Helper()
	p.send(t, map[string]any{"cmd": "status"})
	return p.wait(t, ctx, "status", func(ev ltEvent) bool { return ev.Event == "status" })
}

// aria2Listening is aria2's notice that its peer listener is up; as a
// seed it prints it only after the data has passed its check.
var aria2Listening = regexp.MustCompile(`IPv4 BitTorrent: listening on TCP port (\d+)`)

// startAria2 runs aria2c on torrent, saving under dir and accepting peers
// on port, and returns once it is listening. With seed it checks the data
// already under dir and then seeds until stopped; otherwise it downloads
// and exits when complete. aria2 finds peers only through the tracker, or
// by being dialled: DHT, LSD and peer exchange are off. It has no UDP
// tracker client without DHT, so it is only ever given HTTP trackers.
func startAria2(t *testing.T, ctx context.Context, torrent, dir string, port int, seed bool) *proc {
	t.Helper()
	bin := needTool(t, "aria2c")
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

// runAria2 downloads torrent into dir with aria2c, which exits once it has
// the whole torrent, and fails the test unless it exits 0.
func runAria2(t *testing.T, ctx context.Context, torrent, dir string) {
	t.Helper()
	startAria2(t, ctx, torrent, dir, freePort(t), false).wait(t, ctx)
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

// transmission is a running transmission-daemon, driven with
// transmission-remote.
type transmission struct {
	rpc      string // host:port of its RPC server
	peerPort int
	dir      string // download directory
	remote   string // transmission-remote binary
}

func startTransmission(t *testing.T, ctx context.Context) *transmission {
	t.Helper()
	daemon := needTool(t, "transmission-daemon")
	remote := needTool(t, "transmission-remote")
	base := t.TempDir()
	rpcPort := freePort(t)
	tr := &transmission{
		rpc:      loopback(rpcPort),
		peerPort: freeTCPUDPPort(t),
		dir:      filepath.Join(base, "downloads"),
		remote:   remote,
	}
	conf := filepath.Join(base, "config")
	for _, d := range []string{conf, tr.dir} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	settings := map[string]any{
		"bind-address-ipv4":           "127.0.0.1",
		"bind-address-ipv6":           "::1",
		"rpc-bind-address":            "127.0.0.1",
		"rpc-port":                    rpcPort,
		"rpc-authentication-required": false,
		"rpc-whitelist-enabled":       true,
		"rpc-whitelist":               "127.0.0.1",
		"rpc-host-whitelist-enabled":  false,
		"peer-port":                   tr.peerPort,
		"peer-port-random-on-start":   false,
		"port-forwarding-enabled":     false,
		"dht-enabled":                 false,
		"lpd-enabled":                 false,
		"pex-enabled":                 false,
		"utp-enabled":                 false,
		"blocklist-enabled":           false,
		"download-dir":                tr.dir,
		"incomplete-dir-enabled":      false,
		"start-added-torrents":        true,
		"message-level":               2,
	}
	b, _ := json.MarshalIndent(settings, "", "  ")
	if err := os.WriteFile(filepath.Join(conf, "settings.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	startProc(t, "transmission-daemon", exec.Command(daemon, "--foreground", "--config-dir", conf))
	poll(t, ctx, "transmission-daemon's RPC server", func() (bool, error) {
		_, err := tr.tryRemote(ctx, "--list")
		return err == nil, err
	})
	return tr
}

func (tr *transmission) tryRemote(ctx context.Context, args ...string) (string, error) {
	cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(cctx, tr.remote, append([]string{tr.rpc}, args...)...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("transmission-remote %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// add adds the torrent, whose info hash is infoHash, to download into
// tr.dir. If the test fails, what Transmission then says about the torrent,
// its peers and its trackers is logged.
func (tr *transmission) add(t *testing.T, ctx context.Context, torrent, infoHash string) {
	t.Helper()
	if _, err := tr.tryRemote(ctx, "--add", torrent, "--download-dir", tr.dir); err != nil {
		t.Fatal(err)
	}
	// Registered after the daemon's cleanup, so it runs first, while the
	// daemon still answers.
	t.Cleanup(func() {
		if !t.Failed() {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out, _ := tr.tryRemote(ctx, "--torrent", infoHash, "--info", "--info-peers", "--info-trackers")
		t.Logf("transmission-remote --info:\n%s", out)
	})
}

// infoField is the first submatch of re in transmission-remote's --info
// output for the torrent with this info hash.
func (tr *transmission) infoField(ctx context.Context, infoHash string, re *regexp.Regexp) (string, error) {
	out, err := tr.tryRemote(ctx, "--torrent", infoHash, "--info")
	if err != nil {
		return "", err
	}
	m := re.FindStringSubmatch(out)
	if m == nil {
		return "", fmt.Errorf("no %q in %q", re, out)
	}
	return m[1], nil
}

var (
	percentDone  = regexp.MustCompile(`Percent Done:\s*([0-9.]+)%`)
	torrentState = regexp.MustCompile(`State:\s*(\w+)`)
)

// percent reports how much of the torrent the daemon has.
func (tr *transmission) percent(ctx context.Context, infoHash string) (float64, error) {
	s, err := tr.infoField(ctx, infoHash, percentDone)
	if err != nil {
		return 0, err
	}
	return strconv.ParseFloat(s, 64)
}

// state is the torrent's state word ("Verifying", "Idle", "Downloading",
// ...).
func (tr *transmission) state(ctx context.Context, infoHash string) (string, error) {
	return tr.infoField(ctx, infoHash, torrentState)
}

// waitComplete waits until the daemon has verified every piece of the
// torrent.
func (tr *transmission) waitComplete(t *testing.T, ctx context.Context, infoHash string) {
	t.Helper()
	poll(t, ctx, "Transmission to finish the download", func() (bool, error) {
		pct, err := tr.percent(ctx, infoHash)
		return pct >= 100, err
	})
}

// diffFile reports how the file at got differs from the one at want, or
// nil when both hold the same bytes.
func diffFile(got, want string) error {
	g, err := os.ReadFile(got)
	if err != nil {
		return fmt.Errorf("downloaded file: %w", err)
	}
	w, err := os.ReadFile(want)
	if err != nil {
		return err
	}
	if !bytes.Equal(g, w) {
		return fmt.Errorf("%s differs from the source %s (%d and %d bytes)", got, want, len(g), len(w))
	}
	return nil
}

// TestCrashedAtStart: only a peer that died of a signal counts as the
// binding's start-up crash, not one that exited with an error, nor any
// other failure.
func TestCrashedAtStart(t *testing.T) {
	exitErr := func(script string) error {
		err := exec.Command("sh", "-c", script).Run()
		if err == nil {
			t.Fatalf("sh -c %q succeeded", script)
		}
		return &errExited{what: "listening", err: err}
	}
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"segmentation fault", exitErr("kill -SEGV $$"), true},
		{"exit status 1", exitErr("exit 1"), false},
		{"an error event", errors.New("listen failed"), false},
		{"no error", nil, false},
	} {
		if got := crashedAtStart(tc.err); got != tc.want {
			t.Errorf("%s (%v): crashedAtStart %v, want %v", tc.name, tc.err, got, tc.want)
		}
	}
}
