// Package benchkit holds what the bench programs share: building the
// swarmlab binary of the checkout the bench module points at (or taking
// the one -swarmlab names), the seeded test data they download, hash and
// seed, the median they report, and a process's memory from /proc.
package benchkit

import (
	"encoding/binary"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"github.com/swarmlab/swarmlab/lab/metrics"
)

// ModuleDir returns the directory of the swarmlab module this bench module
// points at (replace => ../), whatever the working directory.
func ModuleDir() (string, error) {
	out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}", "github.com/swarmlab/swarmlab").Output()
	if err != nil {
		return "", fmt.Errorf("locating the swarmlab module: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// BuildSwarmlab builds that module's ./cmd/swarmlab into dir and returns
// the binary's path.
func BuildSwarmlab(dir string) (string, error) {
	mod, err := ModuleDir()
	if err != nil {
		return "", err
	}
	bin := filepath.Join(dir, "swarmlab")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/swarmlab")
	cmd.Dir = mod
	if b, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("go build ./cmd/swarmlab: %v\n%s", err, b)
	}
	return bin, nil
}

// SwarmlabFlag defines the -swarmlab flag, the binary to measure, storing
// it in p; Swarmlab resolves it.
func SwarmlabFlag(p *string) {
	flag.StringVar(p, "swarmlab", "", "swarmlab binary (default: build ./cmd/swarmlab of this checkout)")
}

// Swarmlab returns bin, the -swarmlab flag's value, or when it is empty
// builds the checkout's swarmlab into dir.
func Swarmlab(bin, dir string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	return BuildSwarmlab(dir)
}

// EnsureData returns the path of a size-byte file of pseudo-random bytes
// from seed under dir, writing it if a complete one is not already there.
// It is written under a temporary name and renamed, so an interrupted run
// never leaves a short file that looks finished.
func EnsureData(dir string, seed uint64, size int64) (string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	p := filepath.Join(dir, fmt.Sprintf("data-%d-%d.bin", seed, size))
	if fi, err := os.Stat(p); err == nil && fi.Size() == size {
		return p, nil
	}
	fmt.Printf("generating %s (%d bytes)...\n", p, size)
	tmp := p + ".partial"
	f, err := os.Create(tmp)
	if err != nil {
		return "", err
	}
	var key [32]byte
	binary.LittleEndian.PutUint64(key[:], seed)
	rng := rand.NewChaCha8(key)
	buf := make([]byte, 4<<20)
	for left := size; left > 0; {
		n := min(left, int64(len(buf)))
		rng.Read(buf[:n])
		if _, err := f.Write(buf[:n]); err != nil {
			f.Close()
			return "", err
		}
		left -= n
	}
	if err := f.Close(); err != nil {
		return "", err
	}
	return p, os.Rename(tmp, p)
}

// Median is the median of xs (the mean of the middle two for an even
// count, as lab/metrics computes it), or 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	return metrics.Quantile(slices.Sorted(slices.Values(xs)), 0.5)
}

// ProcStatusBytes reads one of the kB-valued fields of /proc/PID/status,
// such as VmRSS (resident now) or VmHWM (peak resident), in bytes.
func ProcStatusBytes(pid int, field string) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, l := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(l, field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
			return kb << 10, err
		}
	}
	return 0, errors.New("no " + field + " in /proc/" + strconv.Itoa(pid) + "/status")
}
