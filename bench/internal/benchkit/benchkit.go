// Package benchkit holds what the bench programs share: building the
// swarmlab binary of the checkout the bench module points at, and the
// seeded test data they download, hash and seed.
package benchkit

import (
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
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
