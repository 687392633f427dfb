package scenario

import (
	"strings"
	"testing"
	"time"
)

func TestSimOptions(t *testing.T) {
	src := `
name: big
mode: sim
content: {size: 256KiB}
sim: {latency: 40ms, redundant_have: false, progress_every: 4}
groups:
  - {name: seed, count: 1, initial: seed}
  - {name: leechers, count: 5000}
variants:
  - {name: a, set: {picker: random}}
`
	s, err := Parse("big.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	want := SimOptions{Latency: 40 * time.Millisecond, SkipRedundantHave: true, ProgressEvery: 4}
	if got := s.Worlds[0].Sim; got != want {
		t.Errorf("variant's sim options %+v, want the scenario's %+v", got, want)
	}
	if s.Worlds[0].Peers() != 5001 {
		t.Errorf("%d peers", s.Worlds[0].Peers())
	}

	// The same world emulated is too big: real sockets cap it.
	emulated := strings.Replace(src, "mode: sim", "mode: emulated", 1)
	if _, err := Parse("big.yaml", []byte(emulated)); err == nil || !strings.Contains(err.Error(), "at most 1000") {
		t.Errorf("emulated world of 5001 peers: err %v", err)
	}

	def, err := Parse("tiny.yaml", []byte(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if got := def.Worlds[0].Sim; got != (SimOptions{}) {
		t.Errorf("defaults %+v, want the zero options (BEP 3's redundant HAVEs, every piece recorded)", got)
	}

	for _, bad := range []string{"{progress_every: 0}", "{latency: -1s}", "{redundant_have: maybe}", "{lag: 1s}"} {
		src := strings.Replace(minimal, "groups:", "sim: "+bad+"\ngroups:", 1)
		if _, err := Parse("bad.yaml", []byte(src)); err == nil {
			t.Errorf("sim: %s accepted", bad)
		}
	}
}
