package report

import (
	"bytes"
	"encoding/csv"
	"strconv"

	"github.com/swarmlab/swarmlab/lab/metrics"
)

// The CSV files are in long format — one observation per row, the run
// and group (or peer) in columns — because runs and peers change at
// different instants: a wide table would be mostly empty cells, while a
// long one loads straight into pandas, R or a spreadsheet pivot. An
// undefined value is an empty cell.

func writeCompletedCSV(b *bytes.Buffer, res Results) error {
	return writeSeriesCSV(b, res, "completed", func(s *metrics.Summary) []metrics.Series { return s.CompletedOverTime })
}

func writeBytesCSV(b *bytes.Buffer, res Results) error {
	return writeSeriesCSV(b, res, "downloaded_bytes", func(s *metrics.Summary) []metrics.Series { return s.BytesOverTime })
}

// writeSeriesCSV writes run,group,t_s,<value>: the step series of every
// run, the overall one (group "all") first.
func writeSeriesCSV(b *bytes.Buffer, res Results, value string, pick func(*metrics.Summary) []metrics.Series) error {
	w := csv.NewWriter(b)
	_ = w.Write([]string{"run", "group", "t_s", value})
	for _, r := range res.Runs {
		for _, s := range pick(r.Summary) {
			for _, p := range s.Points {
				_ = w.Write([]string{r.Label, s.Name, num(p.T), num(p.V)})
			}
		}
	}
	w.Flush()
	return w.Error()
}

// writeProgressCSV writes run,peer,group,t_s,fraction: every leecher's
// progress curve.
func writeProgressCSV(b *bytes.Buffer, res Results) error {
	w := csv.NewWriter(b)
	_ = w.Write([]string{"run", "peer", "group", "t_s", "fraction"})
	for _, r := range res.Runs {
		for _, c := range r.Summary.Progress {
			id := strconv.Itoa(c.Peer)
			for _, p := range c.Points {
				_ = w.Write([]string{r.Label, id, c.Group, num(p.T), num(p.V)})
			}
		}
	}
	w.Flush()
	return w.Error()
}

// writePeersCSV writes one row per peer of every run: the per-peer
// numbers behind the completion-time CDF, share ratios and rates.
func writePeersCSV(b *bytes.Buffer, res Results) error {
	w := csv.NewWriter(b)
	_ = w.Write([]string{
		"run", "peer", "group", "initial_seed", "incarnation", "up_bps", "down_bps",
		"joined_s", "completed_s", "completion_time_s", "left_s", "have",
		"downloaded", "uploaded", "wasted", "useless", "share_ratio", "download_rate_bps",
	})
	for _, r := range res.Runs {
		for _, p := range r.Summary.Peers {
			_ = w.Write([]string{
				r.Label, strconv.Itoa(p.ID), p.Group, strconv.FormatBool(p.InitialSeed),
				strconv.Itoa(p.Incarnation), i64(p.Up), i64(p.Down),
				num(p.Joined), opt(p.Completed), opt(p.CompletionTime), opt(p.Left), strconv.Itoa(p.Have),
				i64(p.Downloaded), i64(p.Uploaded), i64(p.Wasted), strconv.Itoa(p.Useless),
				opt(p.ShareRatio), opt(p.DownloadRate),
			})
		}
	}
	w.Flush()
	return w.Error()
}

// num formats x exactly and as briefly as possible, without exponents
// that some spreadsheet imports misread.
func num(x float64) string { return strconv.FormatFloat(x, 'f', -1, 64) }

func opt(x *float64) string {
	if x == nil {
		return ""
	}
	return num(*x)
}

func i64(x int64) string { return strconv.FormatInt(x, 10) }
