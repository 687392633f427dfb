package report

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/swarmlab/swarmlab/lab/metrics"
)

// table is a titled grid of preformatted cells, shared by the terminal
// and the HTML report so both always show the same numbers.
type table struct {
	Title string
	Head  []string
	Rows  [][]string
	// Notes are footnotes printed under the table.
	Notes []string
}

// na marks a value that is undefined for a run (see metrics: nil fields).
const na = "n/a"

// Table prints the comparison table of res (see Measure) to w, followed
// by the incentive table when any run is an incentive world.
func Table(w io.Writer, res Results) error {
	tables := []table{comparisonTable(res)}
	if t, ok := incentiveTable(res); ok {
		tables = append(tables, t)
	}
	for i, t := range tables {
		if i > 0 {
			if _, err := fmt.Fprintln(w); err != nil {
				return err
			}
		}
		if err := writeText(w, t); err != nil {
			return err
		}
	}
	return nil
}

func writeText(w io.Writer, t table) error {
	if t.Title != "" {
		if _, err := fmt.Fprintf(w, "%s\n", t.Title); err != nil {
			return err
		}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(t.Head, "\t"))
	for _, r := range t.Rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, n := range t.Notes {
		if _, err := fmt.Fprintf(w, "  %s\n", n); err != nil {
			return err
		}
	}
	return nil
}

// groupsToShow returns the overall aggregate, then every group when the
// run has more than one (a single group would repeat the overall row).
func groupsToShow(s *metrics.Summary) []metrics.GroupStats {
	gs := []metrics.GroupStats{s.Overall}
	if len(s.Groups) > 1 {
		gs = append(gs, s.Groups...)
	}
	return gs
}

func comparisonTable(res Results) table {
	t := table{
		Title: "Comparison",
		Head: []string{"run", "group", "peers", "completed", "median (s)", "p90 (s)", "last (s)",
			"last/T_min", "downloaded", "useless", "share ratio"},
		Notes: []string{
			"completed: leechers that completed / leechers; median and p90: completion time from join; " +
				"last: time of the last completion since the start of the run.",
			"last/T_min: makespan (first leecher join to last completion) over the fluid lower bound T_min; " +
				"n/a when the bound does not apply or a leecher did not complete (per run below).",
			"share ratio: mean over leechers of uploaded/downloaded.",
		},
	}
	for _, r := range res.Runs {
		b := r.Summary.Bound
		note := fmt.Sprintf("%s: T_min = %s s", r.Label, fmtSec(b.TMin))
		if b.Reason != "" {
			note += " (" + b.Reason + ")"
		}
		t.Notes = append(t.Notes, note)
	}
	for _, r := range res.Runs {
		s := r.Summary
		for _, g := range groupsToShow(s) {
			bound := ""
			if g.Name == metrics.AllGroups {
				bound = fmtRatio(s.Bound.Ratio)
			}
			var med, p90 *float64
			if d := g.CompletionTime; d != nil {
				med, p90 = &d.Median, &d.P90
			}
			t.Rows = append(t.Rows, []string{
				r.Label, g.Name, fmt.Sprint(g.Peers), fmt.Sprintf("%d/%d", g.Completed, g.Leechers),
				fmtSec(med), fmtSec(p90), fmtSec(g.LastCompletion), bound,
				fmtBytes(g.Downloaded), fmt.Sprint(g.Useless), fmtRatio(g.MeanShareRatio),
			})
		}
	}
	return t
}

func boundTable(res Results) table {
	t := table{
		Title: "Fluid lower bound T_min = max(F/u_s, F/d_min, N·F/(u_s+Σu_i))",
		Head: []string{"run", "N", "F", "u_s", "d_min", "Σu_i", "F/u_s (s)", "F/d_min (s)",
			"N·F/(u_s+Σu_i) (s)", "T_min (s)", "makespan (s)", "makespan/T_min", "note"},
		Notes: []string{
			"Kumar & Ross (2006): N leechers present from the start, u_s the pooled upload of the initial seeds, " +
				"d_min the slowest leecher download, Σu_i the leechers' uploads.",
			"∞: unlimited capacity, taken as infinite, which makes its term 0 (a looser but still valid bound).",
			fmt.Sprintf("Only a flash crowd has the bound: no restarted peers, joins within %.0f%% of T_min.",
				100*metrics.FlashCrowdSpread),
		},
	}
	for _, r := range res.Runs {
		b := r.Summary.Bound
		t.Rows = append(t.Rows, []string{
			r.Label, fmt.Sprint(b.N), fmtBytes(b.F), fmtCap(b.SeedUp), fmtCap(b.MinDown), fmtCap(b.SumUp),
			fmtSec(&b.ServerTerm), fmtSec(&b.DownloadTerm), fmtSec(&b.SwarmTerm),
			fmtSec(b.TMin), fmtSec(b.Makespan), fmtRatio(b.Ratio), b.Reason,
		})
	}
	return t
}

func sharingTable(res Results) table {
	t := table{
		Title: "Sharing and fairness (leechers)",
		Head: []string{"run", "group", "leechers", "Σup/Σdown", "mean share ratio", "Jain (share ratio)",
			"mean rate", "median rate", "Jain (rate)", "wasted"},
		Notes: []string{
			"Jain's index (Σx)²/(n·Σx²) is 1 when all leechers are equal and 1/n when one takes all.",
			"Jain (share ratio) measures reciprocity — whether leechers give back in proportion to what they " +
				"take, the fairness tit-for-tat aims at; Jain (rate) measures equality of service regardless " +
				"of contribution, which a fair-by-contribution swarm with unequal capacities should not reach.",
			"rate: useful bytes per second of leeching (content size over completion time for peers " +
				"that completed). wasted: fraction of downloaded bytes that were not used.",
		},
	}
	for _, r := range res.Runs {
		for _, g := range groupsToShow(r.Summary) {
			if g.Leechers == 0 {
				continue
			}
			var meanRate, medRate *float64
			if d := g.DownloadRate; d != nil {
				meanRate, medRate = &d.Mean, &d.Median
			}
			t.Rows = append(t.Rows, []string{
				r.Label, g.Name, fmt.Sprint(g.Leechers), fmtRatio(g.ShareRatio), fmtRatio(g.MeanShareRatio),
				fmtRatio(g.JainShareRatio), fmtRate(meanRate), fmtRate(medRate), fmtRatio(g.JainDownloadRate),
				fmtPercent(g.WastedFraction),
			})
		}
	}
	return t
}

// gossipTable lists redundant transfers; ok is false when no run gossiped.
func gossipTable(res Results) (table, bool) {
	t := table{
		Title: "Redundant transfers (gossip)",
		Head:  []string{"run", "group", "gossip", "useless transfers", "wasted", "wasted / downloaded"},
		Notes: []string{"useless: pieces pushed to a peer that had or was getting them; " +
			"wasted: payload received but not used (duplicates, useless pushes, failed pieces)."},
	}
	found := false
	for _, r := range res.Runs {
		if !r.Summary.Gossip {
			continue
		}
		found = true
		for _, g := range groupsToShow(r.Summary) {
			t.Rows = append(t.Rows, []string{
				r.Label, g.Name, orDash(g.Gossip), fmt.Sprint(g.Useless), fmtBytes(g.Wasted),
				fmtPercent(g.WastedFraction),
			})
		}
	}
	return t, found
}

// incentiveTable compares strategic groups with the honest baseline; ok
// is false when no run is an incentive world.
func incentiveTable(res Results) (table, bool) {
	t := table{
		Title: "Incentives: speed-up over the tit-for-tat baseline",
		Head: []string{"run", "group", "choker", "role", "completed", "mean rate", "median completion (s)",
			"speed-up (rate)", "speed-up (time)"},
		Notes: []string{"speed-up (rate): group mean download rate / baseline's; " +
			"speed-up (time): baseline median completion time / group's. Above 1: better than honest peers."},
	}
	found := false
	for _, r := range res.Runs {
		inc := r.Summary.Incentives
		if inc == nil {
			continue
		}
		found = true
		for _, g := range inc.Groups {
			t.Rows = append(t.Rows, []string{
				r.Label, g.Group, orDash(g.Choker), g.Role, fmt.Sprintf("%d/%d", g.Completed, g.Leechers),
				fmtRate(g.MeanRate), fmtSec(g.MedianCompletion), fmtRatio(g.SpeedUp), fmtRatio(g.CompletionSpeedUp),
			})
		}
	}
	return t, found
}

// fmtSec prints seconds to about four significant digits.
func fmtSec(x *float64) string {
	if x == nil {
		return na
	}
	switch v := *x; {
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

func fmtRatio(x *float64) string {
	if x == nil {
		return na
	}
	return fmt.Sprintf("%.2f", *x)
}

func fmtPercent(x *float64) string {
	if x == nil {
		return na
	}
	return fmt.Sprintf("%.1f%%", 100**x)
}

// fmtBytes prints a byte count in SI units (kB = 1000 B), three
// significant digits.
func fmtBytes(n int64) string {
	v, unit := scaleBytes(float64(n))
	if unit == "B" {
		return fmt.Sprintf("%d B", n)
	}
	return fmt.Sprintf("%.3g %s", float64(n)/v, unit)
}

func fmtRate(x *float64) string {
	if x == nil {
		return na
	}
	v, unit := scaleBytes(*x)
	return fmt.Sprintf("%.3g %s/s", *x/v, unit)
}

// fmtCap prints a link capacity, where 0 means unlimited.
func fmtCap(bps int64) string {
	if bps == 0 {
		return "∞"
	}
	r := float64(bps)
	return fmtRate(&r)
}

// scaleBytes picks the SI unit in which x reads best, returning its size.
func scaleBytes(x float64) (float64, string) {
	switch {
	case x >= 1e9:
		return 1e9, "GB"
	case x >= 1e6:
		return 1e6, "MB"
	case x >= 1e3:
		return 1e3, "kB"
	}
	return 1, "B"
}

func orDash(s string) string {
	if s == "" {
		return "–"
	}
	return s
}
