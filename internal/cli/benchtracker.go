package cli

import (
	"encoding/hex"
	"fmt"
	"io"
	"runtime"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmlab/swarmlab/tracker/loadgen"
)

type benchTrackerFlags struct {
	cfg         loadgen.Config
	asJSON      bool
	printHashes bool
}

func newBenchTrackerCommand() *cobra.Command {
	var f benchTrackerFlags
	cmd := &cobra.Command{
		Use:   "tracker --udp ADDR | --http URL [flags]",
		Short: "Load a tracker with announces and report throughput and latency",
		Long: `Bench tracker is a closed-loop load generator: it keeps --inflight announces
outstanding against a tracker, sending the next the moment a reply arrives,
and reports announces per second, errors and latency percentiles.

The announces come from --peers simulated peers spread over --hashes info
hashes (each peer has its own id and port; a fifth are seeds). Over UDP they
are spread over --conns sockets, each renewing its connection id every 50 s;
over HTTP over --conns persistent connections with the rest pipelined. A
tracker that closes each HTTP connection after one response (opentracker)
gets one request per connection.

--fill announces every peer once and stops: the way to load a tracker with a
known number of peers before measuring its memory. --print-hashes prints the
info hashes in hex, one a line, for a tracker's whitelist; the same --seed
and --hashes give the same hashes.

The generator competes with the tracker for CPU when both run on one
machine; the output says how many CPUs it saw.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runBenchTracker(cmd, &f)
		},
	}
	fl := cmd.Flags()
	c := &f.cfg
	fl.StringVar(&c.UDP, "udp", "", "tracker UDP `ADDR` (host:port)")
	fl.StringVar(&c.HTTP, "http", "", "tracker announce `URL` (http://host:port/announce)")
	fl.IntVar(&c.Hashes, "hashes", loadgen.DefaultHashes, "info hashes the peers are spread over")
	fl.IntVar(&c.Peers, "peers", loadgen.DefaultPeers, "simulated peers")
	fl.IntVar(&c.InFlight, "inflight", loadgen.DefaultInFlight, "announces outstanding at once")
	fl.IntVar(&c.Conns, "conns", 0, "UDP sockets or HTTP connections (default 4 sockets, or inflight/16 connections)")
	fl.IntVar(&c.NumWant, "numwant", loadgen.DefaultNumWant, "peers asked for in each announce")
	fl.DurationVar(&c.Duration, "duration", 10*time.Second, "how long to measure")
	fl.DurationVar(&c.Warmup, "warmup", time.Second, "load before measuring, not counted")
	fl.Int64Var(&c.Requests, "requests", 0, "stop after this many announces instead of after --duration")
	fl.BoolVar(&c.Fill, "fill", false, "announce each peer once (event=started), then stop")
	fl.DurationVar(&c.Timeout, "timeout", loadgen.DefaultTimeout, "count an announce unanswered for this long as an error")
	fl.Uint64Var(&c.Seed, "seed", 0, "seed for the info hashes and peer ids")
	fl.BoolVar(&f.asJSON, "json", false, "print the result as JSON")
	fl.BoolVar(&f.printHashes, "print-hashes", false, "print the info hashes in hex and exit")
	return cmd
}

func runBenchTracker(cmd *cobra.Command, f *benchTrackerFlags) error {
	out := cmd.OutOrStdout()
	if f.printHashes {
		if f.cfg.Hashes < 1 {
			return usagef("bench tracker: --hashes %d: want at least 1", f.cfg.Hashes)
		}
		var b strings.Builder
		for _, h := range loadgen.Hashes(f.cfg.Hashes, f.cfg.Seed) {
			b.WriteString(hex.EncodeToString(h[:]))
			b.WriteByte('\n')
		}
		_, err := io.WriteString(out, b.String())
		return err
	}
	if (f.cfg.UDP == "") == (f.cfg.HTTP == "") {
		return usagef("bench tracker: give exactly one of --udp and --http")
	}
	// A count or a fill ends the run; --duration (which has a default)
	// then does not apply.
	if f.cfg.Fill || f.cfg.Requests > 0 {
		f.cfg.Duration, f.cfg.Warmup = 0, 0
	}
	res, err := loadgen.Run(cmd.Context(), f.cfg)
	if err != nil {
		if cmd.Context().Err() != nil {
			return cmd.Context().Err()
		}
		return err
	}
	if f.asJSON {
		return writeJSON(out, benchJSON(&f.cfg, res))
	}
	return writeBenchText(out, &f.cfg, res)
}

// benchResultJSON is `bench tracker --json`'s output; rates are per second,
// durations in seconds.
type benchResultJSON struct {
	Proto        string             `json:"proto"`
	Target       string             `json:"target"`
	Hashes       int                `json:"hashes"`
	Peers        int                `json:"peers"`
	InFlight     int                `json:"inflight"`
	Conns        int                `json:"conns"`
	NumWant      int                `json:"numwant"`
	CPUs         int                `json:"cpus"`
	Announces    int64              `json:"announces"`
	Seconds      float64            `json:"seconds"`
	Rate         float64            `json:"rate"`
	Errors       map[string]int64   `json:"errors"`
	FirstFailure string             `json:"first_failure"`
	Latency      map[string]float64 `json:"latency_seconds"`
	KeepAlive    bool               `json:"keep_alive"`
	Reconnects   int64              `json:"reconnects"`
	Connects     int64              `json:"connects"`
}

func benchJSON(cfg *loadgen.Config, r *loadgen.Result) benchResultJSON {
	v := benchResultJSON{
		Proto: r.Proto, Target: cfg.UDP + cfg.HTTP,
		Hashes: r.Config.Hashes, Peers: r.Config.Peers, InFlight: r.Config.InFlight,
		Conns: r.Config.Conns, NumWant: r.Config.NumWant, CPUs: runtime.NumCPU(),
		Announces: r.Announces, Seconds: r.Elapsed.Seconds(), Rate: r.Rate(),
		Errors: map[string]int64{}, FirstFailure: r.FirstFailure,
		Latency: map[string]float64{
			"p50": r.Latency.P50.Seconds(), "p90": r.Latency.P90.Seconds(), "p99": r.Latency.P99.Seconds(),
			"p99.9": r.Latency.P999.Seconds(), "max": r.Latency.Max.Seconds(),
		},
		KeepAlive: r.KeepAlive, Reconnects: r.Reconnects, Connects: r.Connects,
	}
	for k, n := range r.Errors {
		v.Errors[loadgen.ErrorKind(k).String()] = n
	}
	return v
}

func writeBenchText(w io.Writer, cfg *loadgen.Config, r *loadgen.Result) error {
	c := r.Config
	target, over := cfg.UDP, "sockets"
	if r.Proto == "http" {
		target, over = cfg.HTTP, "connections"
	}
	var b strings.Builder
	fmt.Fprintf(&b, "target     %s %s\n", r.Proto, target)
	fmt.Fprintf(&b, "load       %d info hashes, %d peers, numwant %d; %d in flight over %d %s\n",
		c.Hashes, c.Peers, c.NumWant, c.InFlight, c.Conns, over)
	fmt.Fprintf(&b, "machine    %d CPUs, shared by this generator and anything else running here\n", runtime.NumCPU())
	fmt.Fprintf(&b, "announces  %d in %.2fs = %.0f/s\n", r.Announces, r.Elapsed.Seconds(), r.Rate())
	var errs []string
	for k, n := range r.Errors {
		errs = append(errs, fmt.Sprintf("%s %d", loadgen.ErrorKind(k), n))
	}
	fmt.Fprintf(&b, "errors     %d (%s)\n", r.ErrorCount(), strings.Join(errs, ", "))
	if r.FirstFailure != "" {
		fmt.Fprintf(&b, "first      %q\n", r.FirstFailure)
	}
	l := r.Latency
	fmt.Fprintf(&b, "latency    p50 %v  p90 %v  p99 %v  p99.9 %v  max %v\n",
		round(l.P50), round(l.P90), round(l.P99), round(l.P999), round(l.Max))
	if r.Proto == "http" {
		ka := "no: one request per connection"
		if r.KeepAlive {
			ka = "yes"
		}
		fmt.Fprintf(&b, "keep-alive %s (%d connections closed by the tracker)\n", ka, r.Reconnects)
	} else {
		fmt.Fprintf(&b, "connects   %d\n", r.Connects)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// round keeps three significant figures of a latency, enough to read.
func round(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(time.Millisecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	default:
		return d.Round(time.Microsecond)
	}
}
