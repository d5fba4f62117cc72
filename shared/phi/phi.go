// Package phi guards against protected health information in alerts. The
// AWS sample this project grew from asked users never to send an NHS
// number; a Guard enforces it. Detectors are pluggable and chosen per
// stack by name (see names.EnvPHIDetectors).
package phi

import (
	"fmt"
	"slices"
	"strings"
)

// Detector finds one kind of PHI in free text.
type Detector interface {
	// Name identifies the detector in configuration ("nhs_number").
	Name() string
	// Reason says, for a caller, what was found, without repeating it.
	Reason() string
	// Detect reports whether s holds this kind of PHI.
	Detect(s string) bool
}

// Guard is the set of detectors a stack enforces.
type Guard []Detector

// Check returns the first detector that finds PHI in s, or nil.
func (g Guard) Check(s string) Detector {
	for _, d := range g {
		if d.Detect(s) {
			return d
		}
	}
	return nil
}

// None is the value of names.EnvPHIDetectors that switches every detector off.
const None = "none"

// registry holds every detector that configuration can name.
var registry = []Detector{NHSNumber{}}

// Available lists the names of every detector, sorted.
func Available() []string {
	out := make([]string, 0, len(registry))
	for _, d := range registry {
		out = append(out, d.Name())
	}
	slices.Sort(out)
	return out
}

// Default returns a guard with every detector switched on.
func Default() Guard {
	return slices.Clone(Guard(registry))
}

// Parse builds a guard from a comma-separated list of detector names. An
// empty spec means every detector; "none" means no detector. An unknown
// name is an error listing the known ones.
func Parse(spec string) (Guard, error) {
	spec = strings.TrimSpace(spec)
	switch spec {
	case "":
		return Default(), nil
	case None:
		return Guard{}, nil
	}
	var g Guard
	for _, name := range strings.Split(spec, ",") {
		name = strings.TrimSpace(name)
		i := slices.IndexFunc(registry, func(d Detector) bool { return d.Name() == name })
		if i < 0 {
			return nil, fmt.Errorf("unknown PHI detector %q (known: %s, or %q)", name, strings.Join(Available(), ", "), None)
		}
		if !slices.Contains(g, registry[i]) {
			g = append(g, registry[i])
		}
	}
	return g, nil
}
