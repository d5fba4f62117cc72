package main

import (
	"slices"
	"time"
)

// percentile returns the p-th percentile (0 < p <= 100) of ds by the
// nearest-rank method: the smallest value with at least p% of the sample
// at or below it. It returns 0 for an empty sample.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}

	sorted := slices.Sorted(slices.Values(ds))
	rank := int(p/100*float64(len(sorted)) + 0.999999999) // ceil, robust to float error

	return sorted[min(max(rank, 1), len(sorted))-1]
}
