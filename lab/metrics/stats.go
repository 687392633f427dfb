package metrics

import (
	"math"
	"slices"
)

// Dist summarises a sample of values. It is only built from a non-empty
// sample; an empty one is a nil *Dist.
type Dist struct {
	N      int     `json:"n"`
	Min    float64 `json:"min"`
	P10    float64 `json:"p10"`
	Median float64 `json:"median"`
	P90    float64 `json:"p90"`
	Max    float64 `json:"max"`
	Mean   float64 `json:"mean"`
}

// NewDist summarises xs, or returns nil when xs is empty. Quantiles
// interpolate linearly between order statistics (Hyndman & Fan type 7,
// the default of R and NumPy), so small samples give the values a reader
// checking by hand expects: the median of {1, 2, 3, 4} is 2.5.
func NewDist(xs []float64) *Dist {
	if len(xs) == 0 {
		return nil
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	return &Dist{
		N:      len(s),
		Min:    s[0],
		P10:    Quantile(s, 0.10),
		Median: Quantile(s, 0.50),
		P90:    Quantile(s, 0.90),
		Max:    s[len(s)-1],
		Mean:   *mean(s),
	}
}

// Quantile returns the p-quantile (0 ≤ p ≤ 1) of sorted, a non-empty
// ascending slice, interpolating linearly between order statistics
// (type 7).
func Quantile(sorted []float64, p float64) float64 {
	if len(sorted) == 1 {
		return sorted[0]
	}
	h := p * float64(len(sorted)-1)
	lo := int(math.Floor(h))
	if lo >= len(sorted)-1 {
		return sorted[len(sorted)-1]
	}
	if lo < 0 {
		return sorted[0]
	}
	return sorted[lo] + (h-float64(lo))*(sorted[lo+1]-sorted[lo])
}

// Jain returns Jain's fairness index (Σx)² / (n·Σx²) of xs: 1 when all
// values are equal, 1/n when one value holds everything. It is nil for an
// empty sample or one that is all zeros, where it is undefined.
func Jain(xs []float64) *float64 {
	var sum, sq float64
	for _, x := range xs {
		sum += x
		sq += x * x
	}
	if len(xs) == 0 || sq == 0 {
		return nil
	}
	return ptr(sum * sum / (float64(len(xs)) * sq))
}

// mean returns the arithmetic mean of xs, or nil when xs is empty.
func mean(xs []float64) *float64 {
	if len(xs) == 0 {
		return nil
	}
	s := 0.0
	for _, x := range xs {
		s += x
	}
	return ptr(s / float64(len(xs)))
}

// ratio returns a/b, or nil when b is zero: a share ratio of a peer that
// downloaded nothing (a seed) is undefined rather than infinite, which
// JSON cannot carry anyway.
func ratio(a, b float64) *float64 {
	if b == 0 {
		return nil
	}
	return ptr(a / b)
}

func ptr[T any](v T) *T { return &v }
