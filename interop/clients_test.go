package interop

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
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
)

// Helpers that run real BitTorrent clients and trackers as subprocesses for
// the tracker interop tests: a libtorrent peer steered over its standard
// streams (testdata/ltpeer.py), aria2c, transmission-daemon, opentracker
// and `swarmlab tracker`. Every one is bound to 127.0.0.1 with DHT, LSD,
// UPnP, NAT-PMP and peer exchange off, and is stopped when its test ends.

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

// startProcess starts cmd, with its stderr (and stdout, if not already
// taken) kept for the failure message, and stops it when the test ends:
// SIGTERM, then SIGKILL if it has not exited within a few seconds.
func startProcess(t *testing.T, cmd *exec.Cmd) {
	t.Helper()
	var logs syncBuffer
	if cmd.Stdout == nil {
		cmd.Stdout = &logs
	}
	cmd.Stderr = &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", cmd.Path, err)
	}
	done := make(chan struct{})
	go func() {
		_ = cmd.Wait()
		close(done)
	}()
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
		if t.Failed() {
			t.Logf("output of %s:\n%s", strings.Join(cmd.Args, " "), logs.String())
		}
	})
}

// syncBuffer is a bytes.Buffer safe for a process's two output streams.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
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
	cmd := exec.Command(swarmlabBin, args...)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	startProcess(t, cmd)
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		if sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
		_, _ = io.Copy(io.Discard, out)
	}()
	select {
	case line, ok := <-lines:
		m := listeningLine.FindStringSubmatch(line)
		if !ok || m == nil {
			t.Fatalf("swarmlab tracker did not report its addresses; first line %q", line)
		}
		return trackerAddrs{http: m[1], udp: m[2]}
	case <-ctx.Done():
		t.Fatalf("swarmlab tracker did not start listening")
	}
	return trackerAddrs{}
}

// startOpentracker runs opentracker on 127.0.0.1 serving the info hashes
// given (Debian's build is whitelist-only), HTTP and UDP on one port.
func startOpentracker(t *testing.T, ctx context.Context, infoHashes ...string) trackerAddrs {
	t.Helper()
	bin, err := exec.LookPath("opentracker")
	if err != nil {
		missingTool(t, "opentracker not found (apt-get install opentracker)")
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "whitelist"), []byte(strings.Join(infoHashes, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := strconv.Itoa(freeTCPUDPPort(t))
	// -d: opentracker chroots there (as root it also drops to nobody), so
	// the whitelist is named relative to it.
	cmd := exec.Command(bin, "-i", "127.0.0.1", "-p", port, "-P", port, "-d", dir, "-w", "whitelist")
	cmd.Dir = dir
	startProcess(t, cmd)
	addr := "127.0.0.1:" + port
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
// torrent, which learns peers only from the torrent's tracker.
type ltPeer struct {
	name   string
	stdin  io.WriteCloser
	events chan ltEvent
	port   int // where it accepts peer connections
}

func startLtPeer(t *testing.T, ctx context.Context, name, torrent, dir string, seed bool) *ltPeer {
	t.Helper()
	py := needLibtorrent(t)
	args := []string{filepath.Join("testdata", "ltpeer.py"), torrent, dir}
	if seed {
		args = append(args, "--seed")
	}
	cmd := exec.Command(py, args...)
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
	// before startProcess's cleanup, which registered first and so runs
	// later, signals it.
	startProcess(t, cmd)
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
	p.port = p.wait(t, ctx, "listening", func(ev ltEvent) bool { return ev.Event == "listening" }).Port
	return p
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
	for {
		select {
		case ev, ok := <-p.events:
			switch {
			case !ok:
				t.Fatalf("%s exited while waiting for %s", p.name, what)
			case ev.Event == "error":
				t.Fatalf("%s: %s", p.name, ev.Message)
			case match(ev):
				return ev
			}
		case <-ctx.Done():
			t.Fatalf("timed out waiting for %s to report %s", p.name, what)
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

// runAria2 downloads torrent into dir with aria2c, which exits once it has
// the whole torrent (--seed-time=0). aria2 finds peers only through the
// tracker here: DHT, LSD and peer exchange are off. It has no UDP tracker
// client without DHT, so it is only ever given HTTP trackers.
func runAria2(t *testing.T, ctx context.Context, torrent, dir string) {
	t.Helper()
	bin, err := exec.LookPath("aria2c")
	if err != nil {
		missingTool(t, "aria2c not found (apt-get install aria2)")
	}
	cmd := exec.CommandContext(ctx, bin,
		"--no-conf=true",
		"--dir="+dir,
		"--interface=127.0.0.1",
		"--disable-ipv6=true",
		"--listen-port="+strconv.Itoa(freePort(t)),
		"--enable-dht=false", "--enable-dht6=false",
		"--bt-enable-lpd=false",
		"--enable-peer-exchange=false",
		"--seed-time=0",
		"--file-allocation=none",
		"--summary-interval=0",
		"--console-log-level=warn",
		torrent)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("aria2c: %v (context: %v)\n%s", err, ctx.Err(), out)
	}
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
	daemon, err := exec.LookPath("transmission-daemon")
	if err != nil {
		missingTool(t, "transmission-daemon not found (apt-get install transmission-daemon)")
	}
	remote, err := exec.LookPath("transmission-remote")
	if err != nil {
		missingTool(t, "transmission-remote not found (apt-get install transmission-cli)")
	}
	base := t.TempDir()
	tr := &transmission{
		rpc:      "127.0.0.1:" + strconv.Itoa(freePort(t)),
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
	_, rpcPort, _ := net.SplitHostPort(tr.rpc)
	rp, _ := strconv.Atoi(rpcPort)
	settings := map[string]any{
		"bind-address-ipv4":           "127.0.0.1",
		"bind-address-ipv6":           "::1",
		"rpc-bind-address":            "127.0.0.1",
		"rpc-port":                    rp,
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
	startProcess(t, exec.Command(daemon, "--foreground", "--config-dir", conf))
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

func (tr *transmission) run(t *testing.T, ctx context.Context, args ...string) string {
	t.Helper()
	out, err := tr.tryRemote(ctx, args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

var percentDone = regexp.MustCompile(`Percent Done:\s*([0-9.]+)%`)

// percent reports how much of the torrent with this info hash the daemon
// has, from transmission-remote's info output.
func (tr *transmission) percent(ctx context.Context, infoHash string) (float64, error) {
	out, err := tr.tryRemote(ctx, "--torrent", infoHash, "--info")
	if err != nil {
		return 0, err
	}
	m := percentDone.FindStringSubmatch(out)
	if m == nil {
		return 0, fmt.Errorf("no Percent Done in %q", out)
	}
	return strconv.ParseFloat(m[1], 64)
}

// sameFile fails the test unless the files at got and want hold the same
// bytes.
func sameFile(t *testing.T, got, want string) {
	t.Helper()
	g, err := os.ReadFile(got)
	if err != nil {
		t.Fatalf("downloaded file: %v", err)
	}
	w, err := os.ReadFile(want)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(g, w) {
		t.Fatalf("%s differs from the source %s (%d and %d bytes)", got, want, len(g), len(w))
	}
}
