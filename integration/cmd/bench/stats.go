package main

import (
	"slices"
	"time"
)

// summary describes a sample of durations.
type summary struct {
	N                       int
	Min, P50, P90, P99, Max time.Duration
	Mean                    time.Duration
}

// percentile returns the p-th percentile (0 < p <= 100) of sorted by the
// nearest-rank method: the smallest value with at least p% of the sample
// at or below it. It returns 0 for an empty sample.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}

	rank := int(p/100*float64(n) + 0.999999999) // ceil, robust to float error
	rank = min(max(rank, 1), n)

	return sorted[rank-1]
}

// summarize sorts a copy of ds and returns its summary.
func summarize(ds []time.Duration) summary {
	if len(ds) == 0 {
		return summary{}
	}

	sorted := slices.Clone(ds)
	slices.Sort(sorted)

	var total time.Duration
	for _, d := range sorted {
		total += d
	}

	return summary{
		N:    len(sorted),
		Min:  sorted[0],
		P50:  percentile(sorted, 50),
		P90:  percentile(sorted, 90),
		P99:  percentile(sorted, 99),
		Max:  sorted[len(sorted)-1],
		Mean: total / time.Duration(len(sorted)),
	}
}

// medianFloat returns the median of xs (the mean of the middle two for an
// even count), or 0 for none.
func medianFloat(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}

	s := slices.Clone(xs)
	slices.Sort(s)

	if len(s)%2 == 1 {
		return s[len(s)/2]
	}

	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
