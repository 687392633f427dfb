package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/metrics"
)

// Schema names the version of results.json's layout. It changes only
// when a field is renamed, removed or changes meaning; added fields keep
// it, so readers should ignore fields they do not know.
const Schema = "swarmlab.results/1"

// The files Write produces.
const (
	ResultsFile   = "results.json"
	CompletedFile = "completed_over_time.csv"
	BytesFile     = "bytes_over_time.csv"
	ProgressFile  = "progress.csv"
	PeersFile     = "peers.csv"
	HTMLFile      = "report.html"
)

// Results is the content of results.json.
type Results struct {
	Schema string      `json:"schema"`
	Runs   []RunResult `json:"runs"`
}

// RunResult is one run: how it is named in every table, plot and CSV
// row, what it was, what was measured, and the raw record the
// measures were computed from (so a later version can measure it again).
type RunResult struct {
	// Label is unique within the file: the scenario's name, with the
	// seed, mode or position added only when needed to tell runs apart.
	Label    string           `json:"label"`
	Scenario string           `json:"scenario"`
	Mode     string           `json:"mode"`
	Seed     uint64           `json:"seed"`
	Content  lab.Content      `json:"content"`
	Summary  *metrics.Summary `json:"summary"`
	Run      lab.Run          `json:"run"`
}

// Measure labels and measures runs, in their order.
func Measure(runs []lab.Run) Results {
	labels := Labels(runs)
	res := Results{Schema: Schema, Runs: make([]RunResult, len(runs))}
	for i, r := range runs {
		res.Runs[i] = RunResult{
			Label: labels[i], Scenario: r.Scenario, Mode: r.Mode, Seed: r.Seed,
			Content: r.Content, Summary: metrics.Compute(r), Run: r,
		}
	}
	return res
}

// Labels names each run for tables and legends by its scenario. Runs
// that share a scenario get, in turn and only where it tells them apart,
// the strategies their leechers use (variants of one world: random vs
// rarest), the seed, the mode, and finally their position. Short names
// keep legends readable; the full identity is in results.json anyway.
func Labels(runs []lab.Run) []string {
	labels := make([]string, len(runs))
	for i, r := range runs {
		labels[i] = r.Scenario
		if labels[i] == "" {
			labels[i] = "run"
		}
	}
	refine := []func(i int) string{
		func(i int) string { return strategies(runs[i]) },
		func(i int) string { return fmt.Sprintf("seed %d", runs[i].Seed) },
		func(i int) string { return runs[i].Mode },
		func(i int) string { return fmt.Sprintf("#%d", i+1) },
	}
	for _, suffix := range refine {
		dups := map[string][]int{}
		for i, l := range labels {
			dups[l] = append(dups[l], i)
		}
		for _, idx := range dups {
			if len(idx) < 2 {
				continue
			}
			distinct := false
			for _, i := range idx[1:] {
				distinct = distinct || suffix(i) != suffix(idx[0])
			}
			if !distinct {
				continue // the same suffix on all would tell nothing
			}
			for _, i := range idx {
				if s := suffix(i); s != "" {
					labels[i] += " " + s
				}
			}
		}
	}
	return labels
}

// strategies names the pickers, chokers and gossip modes a run's leechers
// use, each distinct value once, in order of appearance.
func strategies(r lab.Run) string {
	var names []string
	for _, p := range r.Peers {
		if p.InitialSeed {
			continue
		}
		for _, s := range []string{p.Picker, p.Choker, p.Gossip} {
			if s != "" && !slices.Contains(names, s) {
				names = append(names, s)
			}
		}
	}
	return strings.Join(names, "/")
}

// Write writes results.json, the CSV files and report.html for res (see
// Measure) into dir, creating it if needed. Files already there are
// replaced. Every file is rendered before any is written, so a failure
// does not leave a mix of old and new files.
func Write(dir string, res Results) error {
	outputs := []struct {
		name  string
		write func(*bytes.Buffer, Results) error
	}{
		{ResultsFile, writeJSON},
		{CompletedFile, writeCompletedCSV},
		{BytesFile, writeBytesCSV},
		{ProgressFile, writeProgressCSV},
		{PeersFile, writePeersCSV},
		{HTMLFile, writeHTML},
	}
	data := make([][]byte, len(outputs))
	for i, o := range outputs {
		var b bytes.Buffer
		if err := o.write(&b, res); err != nil {
			return fmt.Errorf("report: %s: %w", o.name, err)
		}
		data[i] = b.Bytes()
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return err
	}
	for i, o := range outputs {
		if err := os.WriteFile(filepath.Join(dir, o.name), data[i], 0o644); err != nil {
			return err
		}
	}
	return nil
}

func writeJSON(b *bytes.Buffer, res Results) error {
	enc := json.NewEncoder(b)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(res)
}

// ReadResults reads a results.json written by Write.
func ReadResults(path string) (Results, error) {
	var res Results
	data, err := os.ReadFile(path)
	if err != nil {
		return res, err
	}
	if err := json.Unmarshal(data, &res); err != nil {
		return res, fmt.Errorf("report: %s: %w", path, err)
	}
	if res.Schema != Schema {
		return res, fmt.Errorf("report: %s has schema %q, this version reads %q", path, res.Schema, Schema)
	}
	return res, nil
}
