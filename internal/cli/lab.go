package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/swarmlab/swarmlab/internal/hugepages"
	"github.com/swarmlab/swarmlab/internal/memlimit"
	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/report"
	"github.com/swarmlab/swarmlab/lab/scenario"
	"github.com/swarmlab/swarmlab/lab/world"
	"github.com/swarmlab/swarmlab/sim"
)

func newLabCommand() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "lab",
		Short: "Run strategy experiments: scenarios of emulated peers on loopback",
		Args:  noArgs,
		RunE:  func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newLabRunCommand(), newLabListCommand(), newLabShowCommand())
	return cmd
}

func newLabRunCommand() *cobra.Command {
	var out, mode string
	var seed uint64
	var repeat int
	cmd := &cobra.Command{
		Use:   "run [SCENARIO.yaml|NAME] [--mode emulated|sim] [--out DIR] [--seed N] [--repeat N]",
		Short: "Run a scenario (default: the built-in \"default\") and write its results and report",
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usagef("run: want at most one scenario, got %d", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			arg := ""
			if len(args) == 1 {
				arg = args[0]
			}
			var seedOverride *uint64
			if cmd.Flags().Changed("seed") {
				seedOverride = &seed
			}
			if repeat < 1 {
				return usagef("run: --repeat %d: want at least 1", repeat)
			}
			switch scenario.Mode(mode) {
			case "", scenario.Emulated, scenario.Sim:
			default:
				return usagef("run: --mode %q: want emulated or sim", mode)
			}
			return runLab(cmd, arg, out, scenario.Mode(mode), seedOverride, repeat)
		},
	}
	cmd.Flags().StringVarP(&out, "out", "o", "", "write results into `DIR` (default ./lab-results/SCENARIO-TIMESTAMP)")
	cmd.Flags().StringVar(&mode, "mode", "", "run in the emulated world (real peers on loopback) or the simulator, overriding the scenario's mode")
	cmd.Flags().Uint64Var(&seed, "seed", 0, "use seed `N` instead of the scenario's")
	cmd.Flags().IntVar(&repeat, "repeat", 1, "run each world `N` times, with seeds N, N+1, … from its own (emulated worlds vary from run to run)")
	return cmd
}

func newLabListCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "list",
		Short: "List the built-in scenarios",
		Args:  noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			tw := tabwriter.NewWriter(cmd.OutOrStdout(), 0, 0, 2, ' ', 0)
			for _, name := range scenario.Builtins() {
				s, err := scenario.Builtin(name)
				if err != nil {
					return err
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\n", name, worldCount(s), firstSentence(s.Description))
			}
			return tw.Flush()
		},
	}
}

func newLabShowCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "show NAME|SCENARIO.yaml",
		Short: "Print a scenario's YAML exactly as `lab run` reads it",
		Args:  exactArgs("scenario"),
		RunE: func(cmd *cobra.Command, args []string) error {
			s, err := scenario.Open(args[0])
			if err != nil {
				return err
			}
			_, err = cmd.OutOrStdout().Write(s.Source)
			return err
		},
	}
}

func worldCount(s *scenario.Scenario) string {
	if len(s.Worlds) == 1 {
		return "1 world"
	}
	var names []string
	for _, w := range s.Worlds {
		names = append(names, w.Variant)
	}
	return fmt.Sprintf("%d worlds (%s)", len(s.Worlds), strings.Join(names, ", "))
}

// firstSentence shortens a description for a listing.
func firstSentence(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if i := strings.Index(s, ". "); i > 0 {
		return s[:i+1]
	}
	return s
}

// runLab runs every world of a scenario in turn, each repeat times with
// successive seeds, then writes the results and prints the comparison
// table.
func runLab(cmd *cobra.Command, arg, out string, mode scenario.Mode, seed *uint64, repeat int) error {
	ctx := cmd.Context()
	stdout, stderr := cmd.OutOrStdout(), cmd.ErrOrStderr()
	s, err := scenario.Open(arg)
	if err != nil {
		// Parse reports every mistake, one per line; errors here are
		// printed on one line, so separate them visibly.
		return errors.New(strings.ReplaceAll(err.Error(), "\n", "; "))
	}
	for i := range s.Worlds {
		if mode != "" {
			s.Worlds[i].Mode = mode
		}
		if seed != nil {
			s.Worlds[i].Seed = *seed
		}
	}
	if out == "" {
		out = filepath.Join("lab-results", s.Name+"-"+time.Now().Format("20060102-150405"))
	}
	if err := os.MkdirAll(out, 0o755); err != nil {
		return err
	}
	// The scenario goes next to its results, so that a results directory
	// says by itself what produced it.
	if err := os.WriteFile(filepath.Join(out, "scenario.yaml"), s.Source, 0o644); err != nil {
		return err
	}

	// Repeats of a world run back to back, so that its runs sit together
	// in the tables; the report tells them apart by seed.
	var worlds []scenario.World
	for _, w := range s.Worlds {
		for r := range repeat {
			wr := w
			wr.Seed += uint64(r)
			worlds = append(worlds, wr)
		}
	}
	var runs []lab.Run
	var runErr error
	for i, w := range worlds {
		fmt.Fprintf(stderr, "world %d/%d %s: %d peers, %s in %d pieces, seed %d, at most %v\n",
			i+1, len(worlds), w.Name(), w.Peers(), scenario.FormatSize(w.Content.Size), w.Content.Pieces(), w.Seed, w.Limits.MaxDuration)
		var run *lab.Run
		var err error
		if w.Mode == scenario.Sim {
			// The simulator runs on a virtual clock: no progress line, it
			// is over in moments (or bounded by the world's size, not time).
			// Huge pages took bigswarm at 3,000 peers from 131.7 to 93.7 CPU-s
			// (internal/hugepages).
			stop := hugepages.Advise(time.Second)
			// A world whose peak outgrows the machine slows down under
			// a soft memory limit rather than being killed
			// (internal/memlimit).
			_, restore := memlimit.Apply(memlimit.Fraction)
			// It allocates slowly for its size: a low GC target keeps
			// its peak nearer its live heap, for little CPU.
			_, restoreGC := memlimit.TightenGC(memlimit.SimGCPercent)
			run, err = sim.RunWorld(w)
			restoreGC()
			restore()
			stop()
		} else {
			pl := newProgressLine(stderr)
			run, err = world.Run(ctx, w, world.Options{Progress: pl.update})
			pl.done()
		}
		if run != nil {
			runs = append(runs, *run)
			fmt.Fprintf(stderr, "world %s: %s in %.1fs (wall %.1fs), verified %v\n",
				w.Name(), completedSummary(run), run.End.Seconds(), run.Wall.Seconds(), run.Verified)
		}
		if err != nil {
			runErr = err
			break
		}
	}
	if len(runs) == 0 {
		return runErr
	}
	res := report.Measure(runs)
	if err := report.Write(out, res); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintln(stdout)
	if err := report.Table(stdout, res); err != nil {
		return errors.Join(runErr, err)
	}
	fmt.Fprintf(stdout, "\nresults: %s\nreport:  %s\n", out, filepath.Join(out, report.HTMLFile))
	return runErr
}

func completedSummary(run *lab.Run) string {
	leechers, done := 0, 0
	for _, p := range run.Peers {
		if !p.InitialSeed {
			leechers++
		}
	}
	for _, e := range run.Events {
		if e.Kind == lab.Completed {
			done++
		}
	}
	return fmt.Sprintf("%d/%d leechers completed", done, leechers)
}

// progressLine shows a world's progress: one line redrawn in place on a
// terminal, and otherwise a plain log line every logEvery, so that logs
// and CI output stay readable.
type progressLine struct {
	w        io.Writer
	tty      bool
	lastLog  time.Duration
	drawn    bool
	logEvery time.Duration
}

func newProgressLine(w io.Writer) *progressLine {
	return &progressLine{w: w, tty: isTerminal(w), logEvery: 5 * time.Second}
}

func (p *progressLine) text(pr world.Progress) string {
	return fmt.Sprintf("%s  %d/%d done  %d peers  %5.1fs  %s/s",
		pr.World, pr.Done, pr.Total, pr.Present, pr.Elapsed.Seconds(), formatBytes(int64(pr.Rate)))
}

// update is a world.Options.Progress callback.
func (p *progressLine) update(pr world.Progress) {
	if pr.Ended {
		return // the caller prints a summary
	}
	if p.tty {
		fmt.Fprintf(p.w, "\r\x1b[K%s", p.text(pr))
		p.drawn = true
		return
	}
	if pr.Elapsed-p.lastLog >= p.logEvery {
		p.lastLog = pr.Elapsed
		fmt.Fprintln(p.w, p.text(pr))
	}
}

// done clears the line so the next output starts on a clean one.
func (p *progressLine) done() {
	if p.drawn {
		fmt.Fprint(p.w, "\r\x1b[K")
	}
}
