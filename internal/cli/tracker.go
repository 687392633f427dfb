package cli

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/tracker/server"
	"github.com/swarmlab/swarmlab/tracker/store"
)

type trackerFlags struct {
	httpAddr, udpAddr, metricsAddr string
	storeURL                       string
	interval, minInterval, peerTTL seconds
	numWant, maxNumWant            int
	whitelist, keys                string
	maxSwarms, maxPeers, maxPerSw  int
	udpSockets                     int
	maxConns                       int
	allowIP                        bool
	verbose                        bool
}

func newTrackerCommand() *cobra.Command {
	f := trackerFlags{interval: seconds(server.DefaultInterval)}
	cmd := &cobra.Command{
		Use:   "tracker [flags]",
		Short: "Run a BitTorrent tracker (HTTP and UDP)",
		Long: `Tracker serves HTTP announce and scrape (BEP 3, 23, 7, 48) and UDP
(BEP 15) until interrupted. Once listening it prints one line,

  tracker listening http=ADDR udp=ADDR metrics=ADDR

with "-" for a frontend that is off, so that a script that asked for port 0
can find the ports.

Peers that stop announcing are dropped after --peer-ttl (default twice the
interval). --whitelist limits the tracker to the info hashes in FILE (40 hex
digits or 32 base32 characters per line, '#' comments); --keys makes it
private, each line of FILE a user key that goes first in the announce path
(http://HOST/KEY/announce, and in BEP 41 URL data over UDP).

Memory is bounded by --max-swarms, --max-peers and --max-peers-per-swarm
(about 75 bytes a peer and 150 a swarm in memory) and --max-conns for HTTP.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTracker(cmd.Context(), cmd.OutOrStdout(), cmd.ErrOrStderr(), &f)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&f.httpAddr, "http", "127.0.0.1:6969", "serve HTTP announce and scrape on `ADDR` (\"\" for none)")
	fl.StringVar(&f.udpAddr, "udp", "127.0.0.1:6969", "serve UDP (BEP 15) on `ADDR` (\"\" for none)")
	fl.StringVar(&f.metricsAddr, "metrics", "", "serve Prometheus /metrics on `ADDR`")
	fl.StringVar(&f.storeURL, "store", "memory", "swarm store: memory, or redis://HOST:PORT/DB to share swarms between trackers")
	fl.Var(&f.interval, "interval", "announce interval, in seconds or as a duration (30, 5m)")
	fl.Var(&f.minInterval, "min-interval", "min interval told to clients (default half the interval)")
	fl.Var(&f.peerTTL, "peer-ttl", "drop a peer this long after its last announce (default 2 intervals)")
	fl.IntVar(&f.numWant, "numwant", server.DefaultNumWant, "peers given when a client does not say how many")
	fl.IntVar(&f.maxNumWant, "max-numwant", server.DefaultMaxNumWant, "most peers given to one announce")
	fl.StringVar(&f.whitelist, "whitelist", "", "serve only the info hashes listed in `FILE`")
	fl.StringVar(&f.keys, "keys", "", "private mode: user keys from `FILE`, one per line")
	fl.IntVar(&f.maxSwarms, "max-swarms", store.DefaultMaxSwarms, "most swarms kept")
	fl.IntVar(&f.maxPeers, "max-peers", store.DefaultMaxPeers, "most peers kept across all swarms")
	fl.IntVar(&f.maxPerSw, "max-peers-per-swarm", store.DefaultMaxPeersPerSwarm, "most peers kept in one swarm")
	fl.IntVar(&f.udpSockets, "udp-sockets", 0, "UDP sockets sharing the port, one read loop each (default one per CPU)")
	fl.IntVar(&f.maxConns, "max-conns", server.DefaultMaxHTTPConns, "most open HTTP connections")
	fl.BoolVar(&f.allowIP, "allow-ip", false, "record peers at the \"ip\" they name instead of their source address")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "log expiry sweeps and store errors to stderr")
	return cmd
}

func runTracker(ctx context.Context, stdout, stderr io.Writer, f *trackerFlags) error {
	if f.httpAddr == "" && f.udpAddr == "" {
		return usagef("tracker: --http and --udp are both off")
	}
	cfg := server.Config{
		Interval:        time.Duration(f.interval),
		MinInterval:     time.Duration(f.minInterval),
		PeerTTL:         time.Duration(f.peerTTL),
		NumWant:         f.numWant,
		MaxNumWant:      f.maxNumWant,
		AllowIPOverride: f.allowIP,
		MaxHTTPConns:    f.maxConns,
		StoreLimits:     store.Limits{MaxSwarms: f.maxSwarms, MaxPeers: f.maxPeers, MaxPeersPerSwarm: f.maxPerSw},
	}
	if f.verbose {
		cfg.Logger = slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if f.whitelist != "" {
		lines, err := readListFile(f.whitelist)
		if err != nil {
			return err
		}
		cfg.Whitelist = []metainfo.Hash{}
		for _, l := range lines {
			h, err := metainfo.ParseHash(l.text)
			if err != nil {
				return fmt.Errorf("%s:%d: %w", f.whitelist, l.n, err)
			}
			cfg.Whitelist = append(cfg.Whitelist, h)
		}
	}
	if f.keys != "" {
		lines, err := readListFile(f.keys)
		if err != nil {
			return err
		}
		cfg.Keys = []string{}
		for _, l := range lines {
			cfg.Keys = append(cfg.Keys, l.text)
		}
	}
	switch {
	case f.storeURL == "memory":
	case strings.HasPrefix(f.storeURL, "redis://"):
		st, err := store.OpenRedis(ctx, f.storeURL, store.Options{Limits: cfg.StoreLimits})
		if err != nil {
			return fmt.Errorf("tracker: store: %w", err)
		}
		defer st.Close()
		cfg.Store = st
	default:
		return usagef("tracker: --store %q: want memory or redis://HOST:PORT/DB", f.storeURL)
	}
	srv, err := server.New(cfg)
	if err != nil {
		return usagef("tracker: %v", err)
	}
	defer srv.Close()
	l, err := server.Listen(ctx, server.ListenConfig{
		HTTP: f.httpAddr, UDP: f.udpAddr, Metrics: f.metricsAddr, UDPSockets: f.udpSockets,
	})
	if err != nil {
		return fmt.Errorf("tracker: %w", err)
	}
	fmt.Fprintf(stdout, "tracker listening http=%s udp=%s metrics=%s\n",
		addrString(l.HTTPAddr()), addrString(l.UDPAddr()), addrString(l.MetricsAddr()))
	err = srv.Serve(ctx, l)
	if ctx.Err() != nil {
		return ctx.Err() // interrupted: Run reports it as such
	}
	return err
}

func addrString(a net.Addr) string {
	if a == nil {
		return "-"
	}
	return a.String()
}

type listLine struct {
	n    int
	text string
}

// readListFile reads the non-empty, non-comment lines of a list file.
func readListFile(path string) ([]listLine, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer fh.Close()
	var out []listLine
	sc := bufio.NewScanner(fh)
	for n := 1; sc.Scan(); n++ {
		text := sc.Text()
		if i := strings.IndexByte(text, '#'); i >= 0 {
			text = text[:i]
		}
		if text = strings.TrimSpace(text); text != "" {
			out = append(out, listLine{n, text})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return out, nil
}

// seconds is a duration flag that also takes a bare number of seconds, as
// tracker intervals are usually given.
type seconds time.Duration

func (s *seconds) String() string {
	if *s == 0 {
		return ""
	}
	return time.Duration(*s).String()
}

func (s *seconds) Set(v string) error {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		if f < 0 || f > 1e9 {
			return errors.New("out of range")
		}
		*s = seconds(f * float64(time.Second))
		return nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		return fmt.Errorf("%q is neither seconds nor a duration", v)
	}
	*s = seconds(d)
	return nil
}

func (s *seconds) Type() string { return "S" }
