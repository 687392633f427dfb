package cli

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// unitMultiplier maps an accepted size suffix to its multiplier. All are
// binary: piece sizes are powers of two, so "256K" meaning 256,000 bytes
// would only ever be a mistake.
func unitMultiplier(suffix string) (int64, bool) {
	switch strings.ToLower(suffix) {
	case "", "b":
		return 1, true
	case "k", "kb", "kib":
		return 1 << 10, true
	case "m", "mb", "mib":
		return 1 << 20, true
	case "g", "gb", "gib":
		return 1 << 30, true
	}
	return 0, false
}

// parseSize reads a byte count such as "262144", "256K", "1M" or "4MiB"
// (suffixes are case-insensitive and binary).
func parseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && '0' <= t[i] && t[i] <= '9' {
		i++
	}
	if i == 0 {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with a K, M or G suffix", s)
	}
	mult, ok := unitMultiplier(strings.TrimSpace(t[i:]))
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use K, M or G, or KiB, MiB, GiB)", s, t[i:])
	}
	n, err := strconv.ParseInt(t[:i], 10, 64)
	if err != nil || n > math.MaxInt64/mult {
		return 0, fmt.Errorf("size %q: too large", s)
	}
	return n * mult, nil
}

// formatBytes renders n in binary units with up to one decimal, for
// people; exact byte counts are printed next to it where they matter.
func formatBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 5; m /= unit {
		div *= unit
		exp++
	}
	v := float64(n) / float64(div)
	s := strconv.FormatFloat(v, 'f', 1, 64)
	s = strings.TrimSuffix(s, ".0")
	return s + " " + string("KMGTPE"[exp]) + "iB"
}
