package cli

import (
	"context"
	"encoding/json"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/swarmlab/swarmlab/tracker/server"
)

func TestBenchTrackerPrintHashes(t *testing.T) {
	out, stderr, code := run(t, "bench", "tracker", "--print-hashes", "--hashes", "3", "--seed", "5")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	hexLine := regexp.MustCompile(`^[0-9a-f]{40}$`)
	if len(lines) != 3 {
		t.Fatalf("got %d lines, want 3: %q", len(lines), out)
	}
	for _, l := range lines {
		if !hexLine.MatchString(l) {
			t.Errorf("not an info hash in hex: %q", l)
		}
	}
	// Another seed, other hashes: the seed is what ties a whitelist to a run.
	other, _, _ := run(t, "bench", "tracker", "--print-hashes", "--hashes", "3", "--seed", "6")
	if other == out {
		t.Errorf("seeds 5 and 6 print the same hashes")
	}
}

func TestBenchTrackerUsage(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "tracker"},
		{"bench", "tracker", "--udp", "127.0.0.1:1", "--http", "http://127.0.0.1:1/announce"},
		{"bench", "nosuch"},
	} {
		_, stderr, code := run(t, args...)
		if code != ExitUsage {
			t.Errorf("%v: exit %d, want %d", args, code, ExitUsage)
		}
		checkOneLineError(t, stderr, "bench")
	}
}

// TestBenchTrackerJSON runs a counted load against our tracker in-process
// and reads the JSON report back.
func TestBenchTrackerJSON(t *testing.T) {
	srv, err := server.New(server.Config{})
	if err != nil {
		t.Fatal(err)
	}
	l, err := server.Listen(t.Context(), server.ListenConfig{UDP: "127.0.0.1:0", HTTP: "127.0.0.1:0"})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- srv.Serve(context.Background(), l) }()
	defer func() {
		srv.Close()
		if err := <-done; err != nil && !errors.Is(err, server.ErrClosed) {
			t.Error(err)
		}
	}()
	for _, target := range [][]string{
		{"--udp", l.UDPAddr().String()},
		{"--http", "http://" + l.HTTPAddr().String() + "/announce"},
	} {
		args := append([]string{"bench", "tracker", "--json", "--requests", "500", "--inflight", "16", "--peers", "2000"}, target...)
		out, stderr, code := run(t, args...)
		if code != ExitOK {
			t.Fatalf("%v: exit %d: %s", target, code, stderr)
		}
		var v benchResultJSON
		if err := json.Unmarshal([]byte(out), &v); err != nil {
			t.Fatalf("bad JSON %q: %v", out, err)
		}
		if v.Announces != 500 || v.Peers != 2000 || v.InFlight != 16 || v.Proto != target[0][2:] {
			t.Errorf("%v: %+v", target, v)
		}
		for k, n := range v.Errors {
			if n != 0 {
				t.Errorf("%v: %d %s errors", target, n, k)
			}
		}
	}
	// The text report says what was measured.
	out, stderr, code := run(t, "bench", "tracker", "--requests", "100", "--udp", l.UDPAddr().String())
	if code != ExitOK || !strings.Contains(out, "announces  100 in") || !strings.Contains(out, "CPUs") {
		t.Errorf("text report, exit %d: %s%s", code, out, stderr)
	}
}
