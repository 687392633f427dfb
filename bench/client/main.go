// Command client measures how fast our client downloads a large torrent on
// loopback, next to libtorrent doing the same, and how much memory ours
// takes while it does.
//
// It generates a single file once from a seeded PRNG (cached between runs,
// 1 GiB by default) and a torrent of it, starts a libtorrent seed (the
// Python binding, through interop/testdata/ltpeer.py) and a seed of ours,
// and then downloads the torrent, each time into a fresh directory beside
// the cache:
//
//	ours <- libtorrent   `swarmlab download --peer` from the libtorrent seed
//	lt <- libtorrent     a libtorrent downloader told the seed with connect_peer
//	ours <- ours         `swarmlab download --peer` from our seed
//
// The three alternate within each round, so drift in machine load hits all
// alike. Every download is compared byte for byte with the source after it
// is timed.
//
// The time is from starting the downloader's process to the moment it
// reports the last piece verified: our "complete in" log line, libtorrent's
// torrent_finished_alert. Both include process start-up and connecting;
// neither includes flushing to disk (ours fsyncs its files on exit, which
// the "exit s" column includes; libtorrent leaves that to the kernel).
// Peak RSS is the downloader process's ru_maxrss; for the libtorrent
// downloader it includes the Python interpreter.
//
// Why times from the libtorrent seed spread: libtorrent sizes a peer's
// send buffer from what it uploaded to that peer in the last second
// (peer_connection::fill_send_buffer: send_buffer_watermark_factor times
// that, no less than send_buffer_low_watermark), and that figure is first
// set at the peer's first one-second tick. Until then it keeps one block
// in flight, which here is about 125 MB/s, for a random 0-1 s after the
// connection. Every downloader meets it; it weighs most on the fastest.
// Traced at 100 ms steps (pieces verified), ours ran 49-62 pieces a step
// for 0.3-0.8 s and then 200-300, or 200-300 from the start.
// -lt-seed-preset high_performance_seed starts the seed from libtorrent's
// preset of that name instead (a 1 MiB low watermark among others), which
// takes that start away for both downloaders; the downloaders keep
// libtorrent's defaults either way.
//
// Every client listens on 127.0.0.1 only, with DHT, LSD, UPnP, NAT-PMP and
// peer exchange off; the torrent's tracker is 127.0.0.1:1, where nothing
// listens.
//
// With -cpuprofile DIR, each of our downloads also writes a CPU profile
// (swarmlab download's hidden --cpuprofile) to DIR, named after its case
// and run, for `go tool pprof`.
//
// Usage (from bench/): go run ./client [-size BYTES] [-piece BYTES] [-runs N] [-cpuprofile DIR]
// [-lt-seed-preset default|high_performance_seed]
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/swarmlab/swarmlab/bench/internal/benchkit"
)

// seed fixes the content of the generated file.
const seed = 20240602

// Goals from the issue, printed next to the measurements.
const (
	goalTimeRatio = 0.5      // ours ≤ half of libtorrent's time
	goalRSS       = 64 << 20 // ours' peak RSS, bytes
)

// runTimeout bounds one download; hitting it is an error, not a result.
const runTimeout = 10 * time.Minute

type config struct {
	size, piece int64
	runs        int
	cache       string
	bin, python string
	profileDir  string
	seedPreset  string
}

func main() {
	var c config
	flag.Int64Var(&c.size, "size", 1<<30, "size of the file to download, bytes")
	flag.Int64Var(&c.piece, "piece", 256<<10, "piece length, bytes")
	flag.IntVar(&c.runs, "runs", 3, "downloads per case")
	flag.StringVar(&c.cache, "cache", filepath.Join(os.TempDir(), "swarmlab-bench-client"), "directory for the generated file, the torrent and the downloads")
	benchkit.SwarmlabFlag(&c.bin)
	flag.StringVar(&c.python, "python", "", "python3 that can import libtorrent (default: python3 on PATH, then /usr/bin/python3)")
	flag.StringVar(&c.seedPreset, "lt-seed-preset", "default", "libtorrent settings preset for the seed: default or high_performance_seed")
	flag.StringVar(&c.profileDir, "cpuprofile", "", "write a CPU profile of each of our downloads into `DIR`")
	flag.Parse()
	if c.seedPreset != "default" && c.seedPreset != "high_performance_seed" {
		fmt.Fprintf(os.Stderr, "client bench: -lt-seed-preset %q: want default or high_performance_seed\n", c.seedPreset)
		os.Exit(2)
	}
	if err := run(c); err != nil {
		fmt.Fprintln(os.Stderr, "client bench:", err)
		os.Exit(1)
	}
}

// result is one timed download.
type result struct {
	complete time.Duration // process start to last piece verified
	exit     time.Duration // process start to exit (ours only)
	cpu      time.Duration // user + system
	maxRSS   int64         // bytes
}

func run(c config) error {
	modDir, err := benchkit.ModuleDir()
	if err != nil {
		return err
	}
	ltpeer := filepath.Join(modDir, "interop", "testdata", "ltpeer.py")
	if c.python, err = findPython(c.python); err != nil {
		return err
	}
	if err := os.MkdirAll(c.cache, 0o755); err != nil {
		return err
	}
	if c.bin, err = benchkit.Swarmlab(c.bin, c.cache); err != nil {
		return err
	}
	contentDir := filepath.Join(c.cache, "content")
	data, err := benchkit.EnsureData(contentDir, seed, c.size)
	if err != nil {
		return err
	}
	torrent := filepath.Join(c.cache, fmt.Sprintf("data-%d-%d-%d.torrent", seed, c.size, c.piece))
	if _, err := os.Stat(torrent); err != nil {
		// --no-date: the same content always makes the same torrent.
		if out, err := exec.Command(c.bin, "create", "--no-date", "--force", "-o", torrent,
			"-t", "http://127.0.0.1:1/announce", "--piece-size", strconv.FormatInt(c.piece, 10), data).CombinedOutput(); err != nil {
			return fmt.Errorf("swarmlab create: %v\n%s", err, out)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	fmt.Printf("machine: %d CPUs, %s/%s; file %d bytes, %d-byte pieces, %d runs per case\n",
		runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, c.size, c.piece, c.runs)
	fmt.Println("starting the libtorrent seed (it hash-checks the file first)...")
	ltSeed, err := startLtPeer(ctx, c.python, ltpeer, torrent, contentDir, true, "--preset", c.seedPreset)
	if err != nil {
		return fmt.Errorf("libtorrent seed: %w", err)
	}
	defer ltSeed.stop()
	if _, _, err := ltSeed.waitEvent("finished", runTimeout); err != nil {
		return fmt.Errorf("libtorrent seed: %w", err)
	}
	ltSeed.drain()
	fmt.Println("starting our seed (it verifies the file first)...")
	ourSeed, ourSeedAddr, err := startOurSeed(ctx, c.bin, torrent, contentDir)
	if err != nil {
		return err
	}
	defer ourSeed.stop()

	if c.profileDir != "" {
		if err := os.MkdirAll(c.profileDir, 0o755); err != nil {
			return err
		}
	}
	// profile returns our downloader's extra arguments for a run.
	profile := func(name string, run int) []string {
		if c.profileDir == "" {
			return nil
		}
		return []string{"--cpuprofile", filepath.Join(c.profileDir, fmt.Sprintf("%s-run%d.pprof", name, run))}
	}
	cases := []struct {
		name string
		run  func(dir string, run int) (result, error)
	}{
		{"ours <- libtorrent", func(dir string, run int) (result, error) {
			return ourDownload(ctx, c.bin, torrent, dir, fmt.Sprintf("127.0.0.1:%d", ltSeed.port), profile("ours-from-libtorrent", run)...)
		}},
		{"libtorrent <- libtorrent", func(dir string, run int) (result, error) {
			return ltDownload(ctx, c.python, ltpeer, torrent, dir, ltSeed.port)
		}},
		{"ours <- ours", func(dir string, run int) (result, error) {
			return ourDownload(ctx, c.bin, torrent, dir, ourSeedAddr, profile("ours-from-ours", run)...)
		}},
	}
	results := make([][]result, len(cases))
	for r := range c.runs {
		for i, cs := range cases {
			dir := filepath.Join(c.cache, "download")
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			res, err := cs.run(dir, r+1)
			if err != nil {
				return fmt.Errorf("%s, run %d: %w", cs.name, r+1, err)
			}
			if err := sameContent(filepath.Join(dir, filepath.Base(data)), data); err != nil {
				return fmt.Errorf("%s, run %d: %w", cs.name, r+1, err)
			}
			if err := os.RemoveAll(dir); err != nil {
				return err
			}
			fmt.Printf("  %-26s run %d: %6.2f s  %7.1f MB/s  peak RSS %6.1f MiB\n", cs.name, r+1,
				res.complete.Seconds(), mbps(c.size, res.complete), mib(res.maxRSS))
			results[i] = append(results[i], res)
		}
	}
	seedHWM, _ := benchkit.ProcStatusBytes(ourSeed.cmd.Process.Pid, "VmHWM")

	tw := tabwriter.NewWriter(os.Stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\ncase\truns (s)\tmedian s\tMB/s\texit s\tCPU s\tpeak RSS MiB\t")
	medians := make([]time.Duration, len(cases))
	var oursPeak int64
	for i, cs := range cases {
		rs := results[i]
		var times []string
		for _, r := range rs {
			times = append(times, fmt.Sprintf("%.2f", r.complete.Seconds()))
		}
		med := median(rs, func(r result) time.Duration { return r.complete })
		medians[i] = med
		exit := "-"
		if e := median(rs, func(r result) time.Duration { return r.exit }); e > 0 {
			exit = fmt.Sprintf("%.2f", e.Seconds())
		}
		peak := slices.MaxFunc(rs, func(a, b result) int { return int(a.maxRSS - b.maxRSS) }).maxRSS
		if strings.HasPrefix(cs.name, "ours") {
			oursPeak = max(oursPeak, peak)
		}
		fmt.Fprintf(tw, "%s\t%s\t%.2f\t%.1f\t%s\t%.2f\t%.1f\t\n", cs.name, strings.Join(times, " "),
			med.Seconds(), mbps(c.size, med), exit,
			median(rs, func(r result) time.Duration { return r.cpu }).Seconds(), mib(peak))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	ratio := medians[0].Seconds() / medians[1].Seconds()
	fmt.Printf("\nours/libtorrent time (median, from the same libtorrent seed): %.2f   goal <= %.2f   %s\n",
		ratio, goalTimeRatio, verdict(ratio <= goalTimeRatio))
	fmt.Printf("our downloader's peak RSS: %.1f MiB   goal <= %d MiB   %s\n",
		mib(oursPeak), goalRSS>>20, verdict(oursPeak <= goalRSS))
	if seedHWM > 0 {
		fmt.Printf("our seed's peak RSS over all its uploads: %.1f MiB\n", mib(seedHWM))
	}
	return nil
}

func verdict(ok bool) string {
	if ok {
		return "met"
	}
	return "NOT met"
}

func median(rs []result, f func(result) time.Duration) time.Duration {
	ds := make([]float64, len(rs))
	for i, r := range rs {
		ds[i] = float64(f(r))
	}
	return time.Duration(benchkit.Median(ds))
}

func mbps(size int64, d time.Duration) float64 { return float64(size) / d.Seconds() / 1e6 }

func mib(n int64) float64 { return float64(n) / (1 << 20) }

// process is a running client whose output lines arrive, timestamped, on
// lines.
type process struct {
	cmd   *exec.Cmd
	start time.Time
	lines chan line // closed when the output ends
	done  chan struct{}
	err   error // Wait's result, once done is closed
	stdin io.WriteCloser
	port  int // ltpeer's listening port, from its "listening" event
}

type line struct {
	at   time.Time
	text string
}

// start runs cmd with its stdout (or stderr, if fromStderr) read line by
// line; the other stream is kept for error messages.
func start(cmd *exec.Cmd, fromStderr bool) (*process, *bytes.Buffer, error) {
	p := &process{cmd: cmd, lines: make(chan line, 1024), done: make(chan struct{})}
	var other bytes.Buffer
	var r io.ReadCloser
	var err error
	if fromStderr {
		cmd.Stdout = &other
		r, err = cmd.StderrPipe()
	} else {
		cmd.Stderr = &other
		r, err = cmd.StdoutPipe()
	}
	if err != nil {
		return nil, nil, err
	}
	p.start = time.Now()
	if err := cmd.Start(); err != nil {
		return nil, nil, err
	}
	go func() {
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			p.lines <- line{time.Now(), sc.Text()}
		}
		close(p.lines)
		// Wait only after the pipe is drained, as exec requires.
		p.err = cmd.Wait()
		close(p.done)
	}()
	return p, &other, nil
}

// waitFor returns the first line match accepts, or match's error. The
// output ending first, or timeout passing, is an error that names what
// was awaited.
func (p *process) waitFor(what string, timeout time.Duration, match func(text string) (bool, error)) (line, error) {
	deadline := time.After(timeout)
	for {
		select {
		case l, ok := <-p.lines:
			if !ok {
				<-p.done
				return line{}, fmt.Errorf("exited (%v) before %s", p.err, what)
			}
			if ok, err := match(l.text); ok || err != nil {
				return l, err
			}
		case <-deadline:
			return line{}, fmt.Errorf("no %s within %v", what, timeout)
		}
	}
}

// waitLine returns the first line matching re.
func (p *process) waitLine(re *regexp.Regexp, timeout time.Duration) (line, error) {
	return p.waitFor(fmt.Sprintf("line matching %q", re), timeout,
		func(text string) (bool, error) { return re.MatchString(text), nil })
}

// drain discards the rest of the output, so the process never blocks on
// a full pipe.
func (p *process) drain() {
	go func() {
		for range p.lines {
		}
	}()
}

func (p *process) wait(timeout time.Duration) error {
	select {
	case <-p.done:
		return p.err
	case <-time.After(timeout):
		return fmt.Errorf("did not exit within %v", timeout)
	}
}

// stop ends a process the bench started and waits for it.
func (p *process) stop() {
	if p.stdin != nil {
		p.stdin.Close()
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	if p.wait(10*time.Second) != nil {
		_ = p.cmd.Process.Kill()
		<-p.done
	}
}

func rusage(p *process) (cpu time.Duration, maxRSS int64) {
	ps := p.cmd.ProcessState
	if ru, ok := ps.SysUsage().(*syscall.Rusage); ok {
		maxRSS = ru.Maxrss << 10 // kilobytes on Linux
	}
	return ps.UserTime() + ps.SystemTime(), maxRSS
}

var (
	ourListening = regexp.MustCompile(`listening on (\S+)$`)
	ourComplete  = regexp.MustCompile(`: complete in `)
)

func startOurSeed(ctx context.Context, bin, torrent, dataDir string) (*process, string, error) {
	p, _, err := start(exec.CommandContext(ctx, bin, "seed", "--no-trackers", "--listen", "127.0.0.1:0", torrent, dataDir), true)
	if err != nil {
		return nil, "", err
	}
	l, err := p.waitLine(ourListening, runTimeout)
	if err != nil {
		p.stop()
		return nil, "", fmt.Errorf("swarmlab seed: %w", err)
	}
	p.drain()
	return p, ourListening.FindStringSubmatch(l.text)[1], nil
}

func ourDownload(ctx context.Context, bin, torrent, dir, seedAddr string, extra ...string) (result, error) {
	stats := dir + ".stats.json"
	defer os.Remove(stats)
	args := append([]string{"download", "--no-trackers", "--listen", "127.0.0.1:0",
		"--peer", seedAddr, "--stats", stats, "-o", dir}, extra...)
	p, stdout, err := start(exec.CommandContext(ctx, bin, append(args, torrent)...), true)
	if err != nil {
		return result{}, err
	}
	var log bytes.Buffer
	var done line
	for l := range p.lines {
		log.WriteString(l.text + "\n")
		if done.at.IsZero() && ourComplete.MatchString(l.text) {
			done = l
		}
	}
	if err := p.wait(runTimeout); err != nil {
		return result{}, fmt.Errorf("swarmlab download: %v\n%s%s", err, stdout, log.Bytes())
	}
	if done.at.IsZero() {
		return result{}, fmt.Errorf("swarmlab download exited without reporting completion:\n%s", log.Bytes())
	}
	var st struct {
		Complete  bool `json:"complete"`
		HashFails int  `json:"hash_fails"`
	}
	b, err := os.ReadFile(stats)
	if err != nil {
		return result{}, err
	}
	if err := json.Unmarshal(b, &st); err != nil || !st.Complete {
		return result{}, fmt.Errorf("stats: complete=%v, err %v: %s", st.Complete, err, b)
	}
	cpu, rss := rusage(p)
	return result{complete: done.at.Sub(p.start), exit: time.Since(p.start), cpu: cpu, maxRSS: rss}, nil
}

// ltEvent is one line from ltpeer.py.
type ltEvent struct {
	Event   string `json:"event"`
	Port    int    `json:"port"`
	Message string `json:"message"`
}

// startLtPeer runs ltpeer.py; extra are more of its arguments.
func startLtPeer(ctx context.Context, python, ltpeer, torrent, dir string, seed bool, extra ...string) (*process, error) {
	args := append([]string{ltpeer, torrent, dir}, extra...)
	if seed {
		args = append(args, "--seed")
	}
	cmd := exec.CommandContext(ctx, python, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	p, _, err := start(cmd, false)
	if err != nil {
		return nil, err
	}
	p.stdin = stdin
	_, ev, err := p.waitEvent("listening", time.Minute)
	if err != nil {
		p.stop()
		return nil, err
	}
	p.port = ev.Port
	return p, nil
}

// waitEvent returns the line, and the event in it, where ltpeer reports
// the named event; an "error" event is an error.
func (p *process) waitEvent(name string, timeout time.Duration) (line, ltEvent, error) {
	var ev ltEvent
	l, err := p.waitFor(fmt.Sprintf("ltpeer event %q", name), timeout, func(text string) (bool, error) {
		ev = ltEvent{}
		if err := json.Unmarshal([]byte(text), &ev); err != nil {
			return false, fmt.Errorf("ltpeer: bad line %q", text)
		}
		if ev.Event == "error" {
			return false, fmt.Errorf("ltpeer: %s", ev.Message)
		}
		return ev.Event == name, nil
	})
	return l, ev, err
}

func ltDownload(ctx context.Context, python, ltpeer, torrent, dir string, seedPort int) (result, error) {
	p, err := startLtPeer(ctx, python, ltpeer, torrent, dir, false)
	if err != nil {
		return result{}, err
	}
	cmd, _ := json.Marshal(map[string]any{"cmd": "connect", "ip": "127.0.0.1", "port": seedPort})
	if _, err := p.stdin.Write(append(cmd, '\n')); err != nil {
		p.stop()
		return result{}, err
	}
	done, _, err := p.waitEvent("finished", runTimeout)
	if err != nil {
		p.stop()
		return result{}, err
	}
	// EOF on stdin asks ltpeer to quit.
	p.stdin.Close()
	p.drain()
	if err := p.wait(time.Minute); err != nil {
		return result{}, fmt.Errorf("ltpeer downloader: %w", err)
	}
	cpu, rss := rusage(p)
	return result{complete: done.at.Sub(p.start), cpu: cpu, maxRSS: rss}, nil
}

// sameContent compares two files chunk by chunk.
func sameContent(got, want string) error {
	g, err := os.Open(got)
	if err != nil {
		return err
	}
	defer g.Close()
	w, err := os.Open(want)
	if err != nil {
		return err
	}
	defer w.Close()
	gb, wb := make([]byte, 4<<20), make([]byte, 4<<20)
	for off := int64(0); ; {
		n, gerr := io.ReadFull(g, gb)
		m, werr := io.ReadFull(w, wb)
		if n != m || !bytes.Equal(gb[:n], wb[:m]) {
			return fmt.Errorf("%s differs from %s near byte %d", got, want, off)
		}
		off += int64(n)
		if gerr != nil || werr != nil {
			if (gerr == io.EOF || gerr == io.ErrUnexpectedEOF) && (werr == io.EOF || werr == io.ErrUnexpectedEOF) {
				return nil
			}
			return errors.Join(gerr, werr)
		}
	}
}

// findPython returns a python3 that can import libtorrent. Debian's
// python3-libtorrent installs only for /usr/bin/python3, which pyenv and
// virtualenvs often shadow on PATH.
func findPython(flagValue string) (string, error) {
	candidates := []string{flagValue}
	if flagValue == "" {
		candidates = []string{"python3", "/usr/bin/python3"}
	}
	for _, c := range candidates {
		if exec.Command(c, "-c", "import libtorrent").Run() == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("no python3 among %v can import libtorrent (apt-get install python3-libtorrent)", candidates)
}
