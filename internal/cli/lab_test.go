package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/swarmlab/swarmlab/lab"
	"github.com/swarmlab/swarmlab/lab/report"
	"github.com/swarmlab/swarmlab/lab/scenario"
)

const tinyLab = `name: tiny
seed: 3
content: {size: 128KiB, piece_length: 16KiB}
limits: {max_duration: 30s}
groups:
  - {name: seed, count: 1, initial: seed, up: 2MiB/s}
  - {name: leechers, count: 3, down: 4MiB/s, arrival: {at: 200ms}}
variants:
  - {name: random, set: {picker: random}}
  - {name: rarest, set: {picker: rarest}}
`

func TestLabRunEndToEnd(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.yaml")
	if err := os.WriteFile(file, []byte(tinyLab), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results")
	stdout, stderr, code := run(t, "lab", "run", file, "--out", out, "--seed", "9")
	if code != ExitOK {
		t.Fatalf("exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
	for _, want := range []string{"tiny/random", "tiny/rarest", "report:", filepath.Join(out, report.HTMLFile)} {
		if !strings.Contains(stdout, want) {
			t.Errorf("stdout does not mention %q:\n%s", want, stdout)
		}
	}
	// Not a terminal: plain lines, no carriage returns or escapes.
	if strings.ContainsAny(stderr, "\r\x1b") {
		t.Errorf("progress drawn on a non-terminal: %q", stderr)
	}
	if !strings.Contains(stderr, "world 2/2 tiny/rarest") || !strings.Contains(stderr, "3/3 leechers completed") {
		t.Errorf("stderr:\n%s", stderr)
	}
	res, err := report.ReadResults(filepath.Join(out, report.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 {
		t.Fatalf("%d runs in results.json", len(res.Runs))
	}
	for i, want := range []string{"tiny/random", "tiny/rarest"} {
		r := res.Runs[i].Run
		if r.Scenario != want || r.Seed != 9 || !r.Verified || len(r.Peers) != 4 {
			t.Errorf("run %d: %s seed %d verified %v, %d peers", i, r.Scenario, r.Seed, r.Verified, len(r.Peers))
		}
		done := 0
		for _, e := range r.Events {
			if e.Kind == lab.Completed {
				done++
			}
		}
		if done != 3 {
			t.Errorf("run %s: %d completions", r.Scenario, done)
		}
	}
	saved, err := os.ReadFile(filepath.Join(out, "scenario.yaml"))
	if err != nil || string(saved) != tinyLab {
		t.Errorf("scenario.yaml not saved as given (err %v)", err)
	}
	if _, err := os.Stat(filepath.Join(out, report.HTMLFile)); err != nil {
		t.Error(err)
	}
}

func TestLabRunRepeat(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tiny.yaml")
	one := strings.Split(tinyLab, "variants:")[0]
	if err := os.WriteFile(file, []byte(one), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "results")
	stdout, stderr, code := run(t, "lab", "run", file, "--out", out, "--repeat", "2")
	if code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", code, stdout, stderr)
	}
	res, err := report.ReadResults(filepath.Join(out, report.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Runs) != 2 || res.Runs[0].Seed != 3 || res.Runs[1].Seed != 4 || res.Runs[0].Label == res.Runs[1].Label {
		t.Fatalf("runs: %d; seeds and labels %d %q, %d %q", len(res.Runs), res.Runs[0].Seed, res.Runs[0].Label, res.Runs[1].Seed, res.Runs[1].Label)
	}
}

func TestLabListAndShow(t *testing.T) {
	stdout, _, code := run(t, "lab", "list")
	if code != ExitOK {
		t.Fatalf("exit %d", code)
	}
	for _, name := range scenario.Builtins() {
		if !strings.Contains(stdout, name) {
			t.Errorf("list does not mention %q:\n%s", name, stdout)
		}
	}
	if !strings.Contains(stdout, "3 worlds (random, rarest, market)") {
		t.Errorf("list does not show the default's variants:\n%s", stdout)
	}
	for _, name := range scenario.Builtins() {
		stdout, _, code := run(t, "lab", "show", name)
		src, _ := scenario.BuiltinSource(name)
		if code != ExitOK || stdout != string(src) {
			t.Errorf("show %s: exit %d, output differs from the embedded file", name, code)
		}
	}
	_, stderr, code := run(t, "lab", "show", "nonesuch")
	if code != ExitFailure {
		t.Errorf("show nonesuch: exit %d", code)
	}
	checkOneLineError(t, stderr, "default")
}

func TestLabRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte(strings.Replace(tinyLab, "128KiB", "lots", 1)+"colour: red\n"), 0o644)
	_, stderr, code := run(t, "lab", "run", bad, "--out", filepath.Join(dir, "out"))
	if code != ExitFailure {
		t.Errorf("bad scenario: exit %d", code)
	}
	checkOneLineError(t, stderr, "content.size")
	if !strings.Contains(stderr, `unknown field "colour"`) {
		t.Errorf("only the first mistake reported: %q", stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "out")); err == nil {
		t.Error("an output directory was made for a scenario that does not parse")
	}

	_, stderr, code = run(t, "lab", "run", "default", "--mode", "fluid")
	if code != ExitUsage {
		t.Errorf("--mode fluid: exit %d", code)
	}
	checkOneLineError(t, stderr, "--mode")

	_, stderr, code = run(t, "lab", "run", "default", "--repeat", "0")
	if code != ExitUsage {
		t.Errorf("--repeat 0: exit %d", code)
	}
	checkOneLineError(t, stderr, "--repeat")

	_, stderr, code = run(t, "lab", "run", "a", "b")
	if code != ExitUsage {
		t.Errorf("two scenarios: exit %d", code)
	}
	checkOneLineError(t, stderr, "at most one")
}

// TestLabRunSim: a scenario that asks for the simulator (or --mode sim)
// runs there and writes the same results, marked mode "sim".
func TestLabRunSim(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sim.yaml")
	os.WriteFile(path, []byte(tinyLab+"mode: sim\n"), 0o644)
	out := filepath.Join(dir, "out")
	stdout, stderr, code := run(t, "lab", "run", path, "--out", out)
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	if !strings.Contains(stdout, "Comparison") {
		t.Errorf("no comparison table: %q", stdout)
	}
	b, err := os.ReadFile(filepath.Join(out, "results.json"))
	if err != nil || !strings.Contains(string(b), `"mode": "sim"`) && !strings.Contains(string(b), `"mode":"sim"`) {
		t.Fatalf("results.json does not record a simulated run (err %v)", err)
	}
}
