package scenario

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// unitScale maps a size suffix to its multiplier. Every unit is binary,
// as in the rest of swarmlab's command line: piece lengths are powers of
// two, so "256K" meaning 256,000 bytes would only ever be a mistake, and
// one convention for sizes and rates keeps a scenario's arithmetic
// (size / rate = seconds) honest.
func unitScale(suffix string) (float64, bool) {
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

// ParseSize reads a byte count: "65536", "512KiB", "64MiB", "1.5M".
// Suffixes are case-insensitive and binary (K = KiB = 1024 bytes). A
// fraction is allowed if the result is a whole number of bytes.
func ParseSize(s string) (int64, error) {
	num, unit := splitNumber(s)
	if num == "" {
		return 0, fmt.Errorf("size %q: want a number of bytes, optionally with a unit (KiB, MiB, GiB)", s)
	}
	scale, ok := unitScale(unit)
	if !ok {
		return 0, fmt.Errorf("size %q: unknown unit %q (use B, KiB, MiB or GiB)", s, unit)
	}
	return scaled(s, "size", num, scale)
}

// ParseRate reads a rate in bytes per second: "256KiB/s", "1MiB", "0".
// The units are ParseSize's; "/s" is optional. "unlimited" and 0 both
// mean no limit and return 0. Bit rates ("Mbit/s", "Mbps") are refused
// rather than guessed at: a lab whose links are 8× off is worse than one
// that does not start.
func ParseRate(s string) (int64, error) {
	t := strings.TrimSpace(s)
	if strings.EqualFold(t, "unlimited") {
		return 0, nil
	}
	t = strings.TrimSpace(strings.TrimSuffix(strings.TrimSuffix(t, "/s"), "/S"))
	num, unit := splitNumber(t)
	if num == "" {
		return 0, fmt.Errorf("rate %q: want bytes per second, e.g. 256KiB/s, 1MiB/s or unlimited", s)
	}
	scale, ok := unitScale(unit)
	if !ok {
		lu := strings.ToLower(unit)
		if strings.Contains(lu, "bit") || strings.HasSuffix(lu, "bps") {
			return 0, fmt.Errorf("rate %q: rates are in bytes per second (write e.g. 1MiB/s for 8 Mbit/s)", s)
		}
		return 0, fmt.Errorf("rate %q: unknown unit %q (use B, KiB, MiB or GiB, optionally with /s)", s, unit)
	}
	return scaled(s, "rate", num, scale)
}

// splitNumber splits "1.5MiB" into "1.5" and "MiB".
func splitNumber(s string) (num, unit string) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && ('0' <= t[i] && t[i] <= '9' || t[i] == '.') {
		i++
	}
	return t[:i], strings.TrimSpace(t[i:])
}

func scaled(orig, what, num string, scale float64) (int64, error) {
	if !strings.Contains(num, ".") {
		n, err := strconv.ParseInt(num, 10, 64)
		if err != nil || float64(n) > math.MaxInt64/scale {
			return 0, fmt.Errorf("%s %q: too large", what, orig)
		}
		return n * int64(scale), nil
	}
	f, err := strconv.ParseFloat(num, 64)
	if err != nil {
		return 0, fmt.Errorf("%s %q: bad number %q", what, orig, num)
	}
	v := f * scale
	if v >= math.MaxInt64 {
		return 0, fmt.Errorf("%s %q: too large", what, orig)
	}
	if v != math.Trunc(v) {
		return 0, fmt.Errorf("%s %q: not a whole number of bytes", what, orig)
	}
	return int64(v), nil
}

// ParseDuration reads a duration as Go writes them ("30s", "1m30s",
// "250ms"); a bare 0 is allowed.
func ParseDuration(s string) (time.Duration, error) {
	t := strings.TrimSpace(s)
	if t == "0" {
		return 0, nil
	}
	d, err := time.ParseDuration(t)
	if err != nil {
		return 0, fmt.Errorf("duration %q: want a number with a unit, e.g. 250ms, 30s or 5m", s)
	}
	if d < 0 {
		return 0, fmt.Errorf("duration %q is negative", s)
	}
	return d, nil
}

// ParsePerSecond reads an arrival rate: "2", "2/s", "0.5/s".
func ParsePerSecond(s string) (float64, error) {
	t := strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(s), "/s"))
	f, err := strconv.ParseFloat(t, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) {
		return 0, fmt.Errorf("rate %q: want arrivals per second, e.g. 2/s or 0.5", s)
	}
	return f, nil
}

// FormatSize renders n in binary units, exactly when it can ("64MiB",
// "1536KiB", "1000B"), so that printed scenarios read back the same.
func FormatSize(n int64) string {
	for _, u := range []struct {
		name  string
		scale int64
	}{{"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}} {
		if n != 0 && n%u.scale == 0 {
			return strconv.FormatInt(n/u.scale, 10) + u.name
		}
	}
	return strconv.FormatInt(n, 10) + "B"
}

// FormatRate renders a rate as FormatSize does, with "/s"; 0 is
// "unlimited".
func FormatRate(n int64) string {
	if n == 0 {
		return "unlimited"
	}
	return FormatSize(n) + "/s"
}
