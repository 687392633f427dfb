package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"runtime/pprof"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"
	"github.com/spf13/cobra"

	"github.com/swarmlab/swarmlab/choker"
	"github.com/swarmlab/swarmlab/engine"
	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/live"
	"github.com/swarmlab/swarmlab/metainfo"
	"github.com/swarmlab/swarmlab/picker"
	"github.com/swarmlab/swarmlab/storage"
	"github.com/swarmlab/swarmlab/tracker/client"
)

// transferFlags are the flags download and seed share.
type transferFlags struct {
	listen         string
	peers          []string
	maxUp, maxDown string
	picker, choker string
	stats          string
	noTrackers     bool
	superSeed      bool
	sparse         bool // download only
	cpuProfile     string
}

func (f *transferFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:0", "address to accept peers on (use :6881 to accept peers from the network)")
	fl.StringArrayVar(&f.peers, "peer", nil, "connect to this peer `HOST:PORT` (repeatable), besides the torrent's trackers; redialed while not connected")
	fl.StringVar(&f.maxUp, "max-up", "", "upload limit in bytes/s, e.g. 512KiB or 1MiB/s")
	fl.StringVar(&f.maxDown, "max-down", "", "download limit in bytes/s")
	fl.StringVar(&f.picker, "picker", "rarest", "piece picker: "+strings.Join(picker.Names(), ", "))
	fl.StringVar(&f.choker, "choker", "tft", "choker: "+strings.Join(choker.Names(), ", "))
	fl.StringVar(&f.stats, "stats", "", "write a JSON summary to `FILE` at exit")
	fl.BoolVar(&f.noTrackers, "no-trackers", false, "do not announce to the torrent's trackers")
	fl.BoolVar(&f.superSeed, "super-seed", false, "as a seed, reveal pieces one at a time (BEP 16): for an initial seed with a slow uplink and many peers")
	// Hidden: a tool for working on the client's speed (bench/client
	// passes it through), not something a user needs to see in --help.
	fl.StringVar(&f.cpuProfile, "cpuprofile", "", "write a CPU profile (pprof) of the whole run to `FILE`")
	_ = fl.MarkHidden("cpuprofile")
}

func newDownloadCommand() *cobra.Command {
	var f transferFlags
	var out string
	var keepSeeding bool
	cmd := &cobra.Command{
		Use:   "download [-o DIR] [--peer HOST:PORT]... [--listen ADDR] [--seed] FILE.torrent",
		Short: "Download a torrent, verify it, and exit when complete",
		Args:  exactArgs("torrent file"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTransfer(cmd, args[0], out, !keepSeeding, &f)
		},
	}
	cmd.Flags().StringVarP(&out, "output", "o", ".", "download into `DIR`")
	cmd.Flags().BoolVar(&keepSeeding, "seed", false, "keep seeding after the download completes, until interrupted")
	cmd.Flags().BoolVar(&f.sparse, "sparse", false, "leave new files sparse, taking disk space as pieces arrive, instead of reserving it at the start")
	f.register(cmd)
	return cmd
}

func newSeedCommand() *cobra.Command {
	var f transferFlags
	cmd := &cobra.Command{
		Use:   "seed [--listen ADDR] FILE.torrent DATA_DIR",
		Short: "Verify a torrent's data and seed it until interrupted",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return usagef("seed: want FILE.torrent and DATA_DIR, got %d arguments", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runTransfer(cmd, args[0], args[1], false, &f)
		},
	}
	f.register(cmd)
	return cmd
}

// runTransfer downloads and/or seeds one torrent. With exitWhenDone it
// returns once every piece is verified; otherwise it runs until ctx ends.
func runTransfer(cmd *cobra.Command, torrentPath, dir string, exitWhenDone bool, f *transferFlags) (err error) {
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	if f.cpuProfile != "" {
		stop, err := startCPUProfile(f.cpuProfile)
		if err != nil {
			return err
		}
		defer func() {
			if perr := stop(); err == nil {
				err = perr
			}
		}()
	}
	maxUp, err := parseRate("--max-up", f.maxUp)
	if err != nil {
		return err
	}
	maxDown, err := parseRate("--max-down", f.maxDown)
	if err != nil {
		return err
	}
	pk, err := picker.New(f.picker)
	if err != nil {
		return usagef("--picker: %v", err)
	}
	ck, err := choker.New(f.choker)
	if err != nil {
		return usagef("--choker: %v", err)
	}
	direct, err := resolvePeers(f.peers)
	if err != nil {
		return err
	}
	mi, err := metainfo.Load(torrentPath)
	if err != nil {
		return fmt.Errorf("%s: %w", torrentPath, err)
	}
	// Pieces are checked from the bytes received, so what is written
	// need not stay in the page cache (see FileOptions.DirectWrites).
	// Reserving the files' space fails a download early on a full disk
	// and makes the direct writes cheaper (FileOptions.Preallocate).
	st, err := storage.OpenFiles(dir, &mi.Info, storage.FileOptions{DirectWrites: true, Preallocate: !f.sparse})
	if err != nil {
		return err
	}
	defer st.Close()

	// Resume: whatever verified pieces are on disk already count.
	have, err := storage.Verify(ctx, st, &mi.Info, 0, nil)
	if err != nil {
		return fmt.Errorf("verifying existing data: %w", err)
	}
	nhave := 0
	for _, h := range have {
		if h {
			nhave++
		}
	}
	logf(stderr, "%s: %d of %d pieces already verified", mi.Info.Name, nhave, len(have))

	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	c, err := live.NewClient(live.Config{ListenAddr: f.listen, ClientName: "swarmlab/" + Version,
		MaxUp: maxUp, MaxDown: maxDown, Logger: logger})
	if err != nil {
		return err
	}
	defer c.Close()
	t, err := c.AddTorrent(live.TorrentConfig{Meta: mi, Storage: st, Have: have, Picker: pk, Choker: ck,
		Seed: rand.Uint64(), SuperSeed: f.superSeed})
	if err != nil {
		return err
	}
	started := time.Now()
	var completedAfter time.Duration
	defer func() {
		if cerr := t.Close(); err == nil {
			err = cerr
		}
		if f.stats != "" {
			if serr := writeStats(f.stats, mi, t, completedAfter); err == nil {
				err = serr
			}
		}
	}()
	t.KeepPeers(direct)

	runCtx, stopAnnounce := context.WithCancel(ctx)
	announced := make(chan struct{})
	if f.noTrackers || (mi.Announce == "" && len(mi.AnnounceList) == 0) {
		close(announced)
	} else {
		tc := client.New(client.Config{PeerID: c.PeerID(), Port: uint16(c.ListenPort())})
		defer tc.Close()
		tiers := client.NewTiers(mi.Announce, mi.AnnounceList, rand.New(rand.NewPCG(rand.Uint64(), 0)))
		go func() {
			defer close(announced)
			_ = t.Announce(runCtx, tc, tiers, func(r client.Result) {
				if r.Err != nil {
					logf(stderr, "announce: %v", r.Err)
				}
			})
		}()
	}
	// "stopped" goes out before the connections close.
	defer func() { stopAnnounce(); <-announced }()

	logf(stderr, "listening on %s", c.Addr())
	prog := newTransferProgress(stderr, mi.Info.TotalLength())
	defer prog.done()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	complete := t.Complete()
	for {
		select {
		case <-complete:
			complete = nil
			prog.update(t.Stats())
			prog.done()
			if nhave < len(have) {
				completedAfter = time.Since(started)
				logf(stderr, "%s: complete in %.1fs", mi.Info.Name, completedAfter.Seconds())
			}
			if exitWhenDone {
				return nil
			}
			logf(stderr, "seeding; interrupt to stop")
		case <-t.Failed():
			return t.Err()
		case <-tick.C:
			prog.update(t.Stats())
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// startCPUProfile profiles the process into path until the returned
// function is called.
func startCPUProfile(path string) (stop func() error, err error) {
	out, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	if err := pprof.StartCPUProfile(out); err != nil {
		out.Close()
		return nil, fmt.Errorf("--cpuprofile: %w", err)
	}
	return func() error {
		pprof.StopCPUProfile()
		if err := out.Close(); err != nil {
			return fmt.Errorf("--cpuprofile: %w", err)
		}
		return nil
	}, nil
}

// resolvePeers turns HOST:PORT arguments into addresses.
func resolvePeers(args []string) ([]netip.AddrPort, error) {
	var out []netip.AddrPort
	for _, a := range args {
		if ap, err := netip.ParseAddrPort(a); err == nil {
			out = append(out, ap)
			continue
		}
		host, port, err := net.SplitHostPort(a)
		if err != nil {
			return nil, usagef("--peer %q: want HOST:PORT", a)
		}
		ips, err := net.LookupIP(host)
		if err != nil || len(ips) == 0 {
			return nil, fmt.Errorf("--peer %q: cannot resolve %s", a, host)
		}
		ap, err := netip.ParseAddrPort(net.JoinHostPort(ips[0].String(), port))
		if err != nil {
			return nil, usagef("--peer %q: %v", a, err)
		}
		out = append(out, ap)
	}
	return out, nil
}

func parseRate(flag, s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	// The lab's rate syntax: "512KiB", "1MiB/s", "unlimited".
	n, err := scenario.ParseRate(s)
	if err != nil {
		return 0, usagef("%s: %v", flag, err)
	}
	return n, nil
}

func logf(w io.Writer, format string, args ...any) {
	fmt.Fprintf(w, time.Now().Format("15:04:05 ")+format+"\n", args...)
}

// transferProgress shows progress: a bar on a terminal, a log line every
// few seconds otherwise.
type transferProgress struct {
	w        io.Writer
	total    int64
	bar      *progressbar.ProgressBar
	last     time.Time
	lastDown int64
	lastUp   int64
	lastLine time.Time
	// loggedDone: the line saying everything is here has been written.
	loggedDone bool
}

func newTransferProgress(w io.Writer, total int64) *transferProgress {
	p := &transferProgress{w: w, total: total, last: time.Now()}
	if isTerminal(w) {
		p.bar = progressbar.NewOptions64(total,
			progressbar.OptionSetWriter(w),
			progressbar.OptionShowBytes(true),
			progressbar.OptionUseIECUnits(true),
			progressbar.OptionSetWidth(30),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
		)
	}
	return p
}

func (p *transferProgress) update(s engine.Stats) { p.updateAt(s, time.Now()) }

// updateAt is update at a given time, so that tests need no clock.
func (p *transferProgress) updateAt(s engine.Stats, now time.Time) {
	dt := now.Sub(p.last).Seconds()
	if dt <= 0 {
		return
	}
	down := float64(s.Downloaded-p.lastDown) / dt
	up := float64(s.Uploaded-p.lastUp) / dt
	p.last, p.lastDown, p.lastUp = now, s.Downloaded, s.Uploaded
	done := p.total - s.Left
	if p.bar != nil {
		p.bar.Describe(fmt.Sprintf("↓%s/s ↑%s/s %d peers", formatBytes(int64(down)), formatBytes(int64(up)), s.Peers))
		_ = p.bar.Set64(done)
		return
	}
	// A line every 5 s while downloading; the moment it completes; then
	// every 30 s while seeding, which can go on for days.
	every := 5 * time.Second
	if s.Left == 0 && p.loggedDone {
		every = 30 * time.Second
	}
	if now.Sub(p.lastLine) < every && (s.Left != 0 || p.loggedDone) {
		return
	}
	p.loggedDone = p.loggedDone || s.Left == 0
	p.lastLine = now
	logf(p.w, "%.1f%% (%s of %s), down %s/s, up %s/s, %d peers",
		100*float64(done)/float64(max(p.total, 1)), formatBytes(done), formatBytes(p.total),
		formatBytes(int64(down)), formatBytes(int64(up)), s.Peers)
}

func (p *transferProgress) done() {
	if p.bar != nil {
		_ = p.bar.Finish()
		fmt.Fprintln(p.w)
		p.bar = nil
	}
}

// statsFile is the --stats JSON document.
type statsFile struct {
	InfoHash          string            `json:"info_hash"`
	Name              string            `json:"name"`
	TotalLength       int64             `json:"total_length"`
	Complete          bool              `json:"complete"`
	SecondsToComplete *float64          `json:"seconds_to_complete"`
	Downloaded        int64             `json:"downloaded"`
	Uploaded          int64             `json:"uploaded"`
	Wasted            int64             `json:"wasted"`
	HashFails         int               `json:"hash_fails"`
	Peers             []live.PeerRecord `json:"peers"`
}

func writeStats(path string, mi *metainfo.MetaInfo, t *live.Torrent, completedAfter time.Duration) error {
	s := t.Stats()
	doc := statsFile{
		InfoHash: mi.InfoHash.HexString(), Name: mi.Info.Name, TotalLength: mi.Info.TotalLength(),
		Complete: s.Left == 0, Downloaded: s.Downloaded, Uploaded: s.Uploaded, Wasted: s.Wasted,
		HashFails: s.HashFails, Peers: t.Peers(),
	}
	if completedAfter > 0 {
		secs := completedAfter.Seconds()
		doc.SecondsToComplete = &secs
	}
	if doc.Peers == nil {
		doc.Peers = []live.PeerRecord{}
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return err
	}
	if err := os.WriteFile(path, append(b, '\n'), 0o644); err != nil {
		return fmt.Errorf("--stats: %w", err)
	}
	return nil
}
