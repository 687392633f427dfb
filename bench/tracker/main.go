// Command tracker loads swarmlab's tracker and opentracker with the same
// announces, side by side, and prints their throughput over UDP and HTTP
// with the ratio, then the memory swarmlab's tracker takes per peer.
//
// Both trackers run as processes bound to 127.0.0.1 and are given the same
// whitelist (Debian's opentracker is built to require one). Both are first
// filled with the whole peer population, so that every measured run sees
// the same steady swarms; then each run measures one tracker and one
// protocol at a time with the closed-loop generator of
// github.com/swarmlab/swarmlab/tracker/loadgen (what `swarmlab bench
// tracker` runs), alternating the trackers so that drift in machine load
// hits both alike, and the median of the runs is reported. The generator
// runs in this process on the same CPUs as the tracker under test, which
// the output states.
//
// Memory is measured on a fresh swarmlab tracker (in-memory store): its
// resident set before and after announcing -mem-peers distinct peers once
// each, divided by the peers, extrapolated to a million.
//
// Usage (from bench/): go run ./tracker [-runs 3] [-duration 10s] [-peers 100000] [-mem-peers 200000]
package main

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/swarmlab/swarmlab/bench/internal/benchkit"
	"github.com/swarmlab/swarmlab/tracker/loadgen"
)

type options struct {
	runs                   int
	duration, warmup       time.Duration
	hashes, peers, numWant int
	udpInFlight, udpConns  int
	httpInFlight, httpConn int
	memPeers               int
	timeout                time.Duration
	store                  string
	swarmlab, opentracker  string
}

func main() {
	var o options
	flag.IntVar(&o.runs, "runs", 3, "measured runs per tracker and protocol (the median is reported)")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "length of each measured run")
	flag.DurationVar(&o.warmup, "warmup", 2*time.Second, "load before each run, not counted")
	flag.IntVar(&o.hashes, "hashes", 1000, "info hashes")
	flag.IntVar(&o.peers, "peers", 100_000, "simulated peers, spread over the info hashes")
	flag.IntVar(&o.numWant, "numwant", 50, "peers asked for in each announce")
	flag.IntVar(&o.udpInFlight, "udp-inflight", 256, "UDP announces in flight")
	flag.IntVar(&o.udpConns, "udp-sockets", 4, "UDP sockets")
	flag.IntVar(&o.httpInFlight, "http-inflight", 256, "HTTP announces in flight")
	flag.IntVar(&o.httpConn, "http-conns", 16, "HTTP connections (the rest pipelined where the tracker keeps connections open)")
	flag.IntVar(&o.memPeers, "mem-peers", 200_000, "peers to announce for the memory measurement (0: skip it)")
	// Short, because a lost UDP announce idles its slot until the timeout:
	// opentracker's one socket overflows its receive buffer now and then
	// at this load, and a long timeout would turn each loss into seconds
	// of lower concurrency rather than one error.
	flag.DurationVar(&o.timeout, "timeout", 500*time.Millisecond, "count an announce unanswered for this long as lost and send another")
	flag.StringVar(&o.store, "store", "memory", "swarmlab tracker --store for the throughput runs (memory or redis://...)")
	benchkit.SwarmlabFlag(&o.swarmlab)
	flag.StringVar(&o.opentracker, "opentracker", "opentracker", "opentracker binary")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, &o); err != nil {
		fmt.Fprintln(os.Stderr, "tracker bench:", err)
		stop()
		os.Exit(1)
	}
}

// proc is a tracker process.
type proc struct {
	name     string
	cmd      *exec.Cmd
	udp      string // host:port
	http     string // announce URL
	finished chan struct{}
}

func (p *proc) stop() {
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.finished:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-p.finished
	}
}

// rss is the process's resident set size in bytes, from /proc.
func (p *proc) rss() (int64, error) {
	return benchkit.ProcStatusBytes(p.cmd.Process.Pid, "VmRSS")
}

// cpu is the CPU time the process has used, user and system, from
// /proc/PID/stat (in clock ticks of 1/100 s, USER_HZ on Linux).
func (p *proc) cpu() (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(p.cmd.Process.Pid) + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name, field 2, is parenthesised and may hold spaces;
	// utime and stime are fields 14 and 15, the 12th and 13th after it.
	rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
	f := strings.Fields(rest)
	if len(f) < 13 {
		return 0, errors.New("short /proc stat")
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err := errors.Join(err1, err2); err != nil {
		return 0, err
	}
	return time.Duration(ut+st) * 10 * time.Millisecond, nil
}

// measure runs c against p and also reports the CPU time p used per
// announce during the measured period, sampled when it starts and ends.
// It is the figure least disturbed by other load on the machine: time
// the tracker was not scheduled costs it announces but not CPU.
func measure(ctx context.Context, p *proc, c loadgen.Config) (*loadgen.Result, time.Duration, error) {
	type sample struct {
		d   time.Duration
		err error
	}
	from, to := make(chan sample, 1), make(chan sample, 1)
	take := func(ch chan sample) func() {
		return func() { d, err := p.cpu(); ch <- sample{d, err} }
	}
	t1 := time.AfterFunc(c.Warmup, take(from))
	t2 := time.AfterFunc(c.Warmup+c.Duration, take(to))
	defer t1.Stop()
	defer t2.Stop()
	r, err := loadgen.Run(ctx, c)
	if err != nil {
		return nil, 0, err
	}
	a, b := <-from, <-to
	if err := errors.Join(a.err, b.err); err != nil {
		return nil, 0, err
	}
	if r.Announces == 0 {
		return r, 0, nil
	}
	return r, (b.d - a.d) / time.Duration(r.Announces), nil
}

func start(name string, cmd *exec.Cmd) (*proc, error) {
	p := &proc{name: name, cmd: cmd, finished: make(chan struct{})}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	go func() { _ = cmd.Wait(); close(p.finished) }()
	return p, nil
}

var listening = regexp.MustCompile(`^tracker listening http=(\S+) udp=(\S+)`)

func startSwarmlab(ctx context.Context, bin string, args ...string) (*proc, error) {
	cmd := exec.Command(bin, append([]string{"tracker", "--http", "127.0.0.1:0", "--udp", "127.0.0.1:0"}, args...)...)
	// Its stderr holds only "interrupted" when it is stopped; errors that
	// matter show as failed announces.
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	p, err := start("swarmlab", cmd)
	if err != nil {
		return nil, err
	}
	line := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		sc.Scan()
		line <- sc.Text()
		_, _ = io.Copy(io.Discard, out)
	}()
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	select {
	case l := <-line:
		m := listening.FindStringSubmatch(l)
		if m == nil {
			p.stop()
			return nil, fmt.Errorf("swarmlab tracker did not report its addresses: %q", l)
		}
		p.http, p.udp = "http://"+m[1]+"/announce", m[2]
		return p, nil
	case <-ctx.Done():
		p.stop()
		return nil, errors.New("swarmlab tracker did not start")
	}
}

func startOpentracker(ctx context.Context, bin, dir string) (*proc, error) {
	port, err := freeTCPUDPPort()
	if err != nil {
		return nil, err
	}
	ps := strconv.Itoa(port)
	// -d chroots opentracker there (as root it also drops to nobody), so
	// the whitelist is named relative to it.
	cmd := exec.Command(bin, "-i", "127.0.0.1", "-p", ps, "-P", ps, "-d", dir, "-w", "whitelist")
	cmd.Dir = dir
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	p, err := start("opentracker", cmd)
	if err != nil {
		return nil, err
	}
	p.udp, p.http = "127.0.0.1:"+ps, "http://127.0.0.1:"+ps+"/announce"
	// Ready when it accepts a connection; checked every 50 ms for 10 s.
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(10 * time.Second)
	for {
		if c, err := net.Dial("tcp", "127.0.0.1:"+ps); err == nil {
			c.Close()
			return p, nil
		}
		select {
		case <-tick.C:
		case <-deadline:
			p.stop()
			return nil, errors.New("opentracker did not start listening")
		case <-ctx.Done():
			p.stop()
			return nil, ctx.Err()
		}
	}
}

func freeTCPUDPPort() (int, error) {
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l.Close()
		if u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port)); err == nil {
			u.Close()
			return port, nil
		}
	}
	return 0, errors.New("no port free for both TCP and UDP")
}

func run(ctx context.Context, o *options) error {
	dir, err := os.MkdirTemp("", "swarmlab-bench-tracker-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	// opentracker drops to nobody after chrooting here.
	if err := os.Chmod(dir, 0o755); err != nil {
		return err
	}
	if o.swarmlab, err = benchkit.Swarmlab(o.swarmlab, dir); err != nil {
		return err
	}
	var wl strings.Builder
	for _, h := range loadgen.Hashes(o.hashes, 0) {
		wl.WriteString(hex.EncodeToString(h[:]) + "\n")
	}
	whitelist := filepath.Join(dir, "whitelist")
	if err := os.WriteFile(whitelist, []byte(wl.String()), 0o644); err != nil {
		return err
	}

	ours, err := startSwarmlab(ctx, o.swarmlab, "--whitelist", whitelist, "--store", o.store)
	if err != nil {
		return err
	}
	defer ours.stop()
	ot, err := startOpentracker(ctx, o.opentracker, dir)
	if err != nil {
		return err
	}
	defer ot.stop()

	base := loadgen.Config{Hashes: o.hashes, Peers: o.peers, NumWant: o.numWant, Timeout: o.timeout}
	cfgFor := func(p *proc, proto string) loadgen.Config {
		c := base
		if proto == "udp" {
			c.UDP, c.InFlight, c.Conns = p.udp, o.udpInFlight, o.udpConns
		} else {
			c.HTTP, c.InFlight, c.Conns = p.http, o.httpInFlight, o.httpConn
		}
		return c
	}
	fmt.Printf("machine: %d CPUs, shared by the load generator (this process) and the tracker under test\n", runtime.NumCPU())
	fmt.Printf("load: %d info hashes, %d peers (%d per swarm), numwant %d; UDP %d in flight over %d sockets; HTTP %d in flight over %d connections\n",
		o.hashes, o.peers, o.peers/o.hashes, o.numWant, o.udpInFlight, o.udpConns, o.httpInFlight, o.httpConn)
	fmt.Printf("swarmlab tracker --store %s; both trackers whitelist the %d hashes; an announce unanswered for %v counts as an error and is replaced\n",
		o.store, o.hashes, o.timeout)

	// Fill both with every peer, so measured runs see full swarms.
	for _, p := range []*proc{ours, ot} {
		c := cfgFor(p, "udp")
		c.Fill = true
		r, err := loadgen.Run(ctx, c)
		if err != nil {
			return fmt.Errorf("filling %s: %w", p.name, err)
		}
		// A fill resends lost announces; all that matters is that every
		// peer got in.
		if r.Announces != int64(o.peers) {
			return fmt.Errorf("filling %s: %d of %d peers announced, errors %v (%q)",
				p.name, r.Announces, o.peers, r.Errors, r.FirstFailure)
		}
	}

	type key struct{ tracker, proto string }
	rates := map[key][]float64{}
	cpus := map[key][]float64{} // µs of tracker CPU per announce
	errs := map[key]int64{}
	keepAlive := map[key]bool{}
	for i := range o.runs {
		for _, proto := range []string{"udp", "http"} {
			order := []*proc{ours, ot}
			if i%2 == 1 {
				order = []*proc{ot, ours}
			}
			for _, p := range order {
				c := cfgFor(p, proto)
				c.Duration, c.Warmup = o.duration, o.warmup
				r, cpu, err := measure(ctx, p, c)
				if err != nil {
					return fmt.Errorf("%s %s: %w", p.name, proto, err)
				}
				k := key{p.name, proto}
				rates[k] = append(rates[k], r.Rate())
				us := float64(cpu) / float64(time.Microsecond)
				cpus[k] = append(cpus[k], us)
				errs[k] += r.ErrorCount()
				keepAlive[k] = r.KeepAlive
				fmt.Printf("  run %d %-4s %-11s %9.0f/s  %5.2f µs CPU/announce  errors %d  p50 %v p99 %v\n",
					i+1, proto, p.name, r.Rate(), us, r.ErrorCount(), r.Latency.P50, r.Latency.P99)
			}
		}
	}

	fmt.Printf("\nmedian of %d runs of %v each (after %v warm-up):\n", o.runs, o.duration, o.warmup)
	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "proto\tswarmlab/s\topentracker/s\tratio\tgoal\tCPU µs/announce (ours/theirs)\terrors (ours/theirs)\t")
	goals := map[string]float64{"udp": 1.2, "http": 1.5}
	for _, proto := range []string{"udp", "http"} {
		ko, kt := key{"swarmlab", proto}, key{"opentracker", proto}
		a, b := benchkit.Median(rates[ko]), benchkit.Median(rates[kt])
		fmt.Fprintf(tw, "%s\t%.0f\t%.0f\t%.2f×\t≥%.1f×\t%.2f/%.2f\t%d/%d\t\n", proto, a, b, a/b, goals[proto],
			benchkit.Median(cpus[ko]), benchkit.Median(cpus[kt]), errs[ko], errs[kt])
	}
	tw.Flush()
	fmt.Println("CPU µs/announce is the tracker process's user+system time over the measured period per")
	fmt.Println("announce answered (kernel work for its sockets included); it is the figure least moved by")
	fmt.Println("other load on the machine.")
	if !keepAlive[key{"opentracker", "http"}] {
		fmt.Println("opentracker closes each HTTP connection after one response, so it gets one announce per connection;")
		fmt.Println("swarmlab keeps connections open and takes pipelined requests.")
	}

	if o.memPeers > 0 {
		if err := measureMemory(ctx, o); err != nil {
			return err
		}
	}
	return nil
}

// measureMemory fills a fresh swarmlab tracker (memory store) with
// o.memPeers peers and reports the growth of its resident set.
func measureMemory(ctx context.Context, o *options) error {
	p, err := startSwarmlab(ctx, o.swarmlab, "--store", "memory")
	if err != nil {
		return err
	}
	defer p.stop()
	before, err := p.rss()
	if err != nil {
		return err
	}
	c := loadgen.Config{UDP: p.udp, Hashes: o.hashes, Peers: o.memPeers, NumWant: o.numWant, Fill: true, Seed: 99}
	r, err := loadgen.Run(ctx, c)
	if err != nil {
		return err
	}
	if r.Announces != int64(o.memPeers) {
		return fmt.Errorf("memory fill: %d of %d peers announced, errors %v (%q)",
			r.Announces, o.memPeers, r.Errors, r.FirstFailure)
	}
	after, err := p.rss()
	if err != nil {
		return err
	}
	per := float64(after-before) / float64(o.memPeers)
	fmt.Printf("\nmemory (swarmlab tracker, memory store): RSS %.1f MB idle, %.1f MB with %d peers in %d swarms\n",
		mb(before), mb(after), o.memPeers, o.hashes)
	fmt.Printf("  = %.0f bytes per peer, about %.0f MB per 1M peers (extrapolated from %d; RSS includes the Go heap's GC headroom)\n",
		per, mb(int64(per*1e6)), o.memPeers)
	return nil
}

func mb(b int64) float64 { return float64(b) / 1e6 }
