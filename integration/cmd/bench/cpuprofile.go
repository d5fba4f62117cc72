package main

import (
	"bytes"
	"cmp"
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"slices"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// cpuProfile is what the report needs of a Go CPU profile: each sample's
// CPU time and its stack of function names, leaf first.
type cpuProfile struct {
	Samples []cpuSample
}

// cpuSample is one stack and the CPU time sampled in it.
type cpuSample struct {
	CPU   time.Duration
	Stack []string // function names, leaf first, inlined frames included
}

// Total is the CPU time of every sample.
func (p *cpuProfile) Total() time.Duration {
	var t time.Duration
	for _, s := range p.Samples {
		t += s.CPU
	}

	return t
}

// profileItem is one function's or group's CPU time and share of the total.
type profileItem struct {
	Name  string
	CPU   time.Duration
	Share float64 // of the profile's total, 0 to 1
}

// top returns the n functions with the most CPU time: their own (flat, the
// leaf of a stack) or with what they call (cumulative, anywhere in it).
func (p *cpuProfile) top(n int, cumulative bool) []profileItem {
	byName := map[string]time.Duration{}

	for _, s := range p.Samples {
		if !cumulative {
			if len(s.Stack) > 0 {
				byName[s.Stack[0]] += s.CPU
			}

			continue
		}

		seen := map[string]bool{}

		for _, fn := range s.Stack {
			if !seen[fn] { // recursion counts once
				seen[fn] = true
				byName[fn] += s.CPU
			}
		}
	}

	return p.items(byName, n)
}

// items sorts byName by CPU time, most first, and keeps n.
func (p *cpuProfile) items(byName map[string]time.Duration, n int) []profileItem {
	total := p.Total()
	out := make([]profileItem, 0, len(byName))

	for name, d := range byName {
		out = append(out, profileItem{Name: name, CPU: d, Share: float64(d) / float64(max(total, 1))})
	}

	slices.SortFunc(out, func(a, b profileItem) int {
		return cmp.Or(cmp.Compare(b.CPU, a.CPU), cmp.Compare(a.Name, b.Name))
	})

	return out[:min(n, len(out))]
}

// errProfile reports a profile this reader cannot read.
var errProfile = errors.New("not a Go CPU profile")

// readCPUProfile reads a gzip-compressed pprof profile (profile.proto) as
// runtime/pprof writes a CPU profile: samples of [count, cpu nanoseconds].
func readCPUProfile(data []byte) (*cpuProfile, error) {
	zr, err := gzip.NewReader(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}

	raw, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}

	var d profileDecoder
	if err := d.message(raw, d.profileField); err != nil {
		return nil, fmt.Errorf("cpu profile: %w", err)
	}

	return d.resolve()
}

// profileDecoder holds profile.proto's tables as they are read; resolve
// joins them.
type profileDecoder struct {
	strings   []string
	functions map[uint64]int64    // function id -> name's string index
	locations map[uint64][]uint64 // location id -> function ids, leaf (innermost inlined) first
	samples   []rawSample
}

type rawSample struct {
	locations []uint64
	values    []int64
}

// fieldFunc receives one field of a message: its number, its wire type,
// and its value (bytes for a length-delimited field, v for a varint).
type fieldFunc func(num int, typ protowire.Type, b []byte, v uint64) error

// message calls field for each field of the protobuf message b.
func (d *profileDecoder) message(b []byte, field fieldFunc) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("profile.proto: %w", protowire.ParseError(n))
		}

		b = b[n:]

		var (
			bytesVal []byte
			intVal   uint64
		)

		switch typ {
		case protowire.BytesType:
			bytesVal, n = protowire.ConsumeBytes(b)
		case protowire.VarintType:
			intVal, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type, protowire.Fixed64Type, protowire.StartGroupType, protowire.EndGroupType:
			n = protowire.ConsumeFieldValue(num, typ, b) // fields the report does not use
		default:
			n = -1
		}

		if n < 0 {
			return fmt.Errorf("profile.proto: %w", protowire.ParseError(n))
		}

		b = b[n:]

		if err := field(int(num), typ, bytesVal, intVal); err != nil {
			return err
		}
	}

	return nil
}

// profileField reads the Profile fields the report uses: sample (2),
// location (4), function (5) and string_table (6).
func (d *profileDecoder) profileField(num int, _ protowire.Type, b []byte, _ uint64) error {
	switch num {
	case 2:
		var s rawSample

		err := d.message(b, func(num int, typ protowire.Type, b []byte, v uint64) error {
			switch num {
			case 1:
				s.locations = appendPacked(s.locations, typ, b, v)
			case 2:
				for _, u := range appendPacked(nil, typ, b, v) {
					s.values = append(s.values, int64(u)) //nolint:gosec // profile.proto's int64, sent as a varint
				}
			}

			return nil
		})
		d.samples = append(d.samples, s)

		return err
	case 4:
		return d.location(b)
	case 5:
		var id uint64

		var name int64

		err := d.message(b, func(num int, _ protowire.Type, _ []byte, v uint64) error {
			switch num {
			case 1:
				id = v
			case 2:
				name = int64(v) //nolint:gosec // a string table index
			}

			return nil
		})
		d.setFunction(id, name)

		return err
	case 6:
		d.strings = append(d.strings, string(b))
	}

	return nil
}

func (d *profileDecoder) setFunction(id uint64, name int64) {
	if d.functions == nil {
		d.functions = map[uint64]int64{}
	}

	d.functions[id] = name
}

// location reads a Location: its id (1) and lines (4), each naming a
// function (Line.function_id, 1); the first line is the innermost.
func (d *profileDecoder) location(b []byte) error {
	var (
		id  uint64
		fns []uint64
	)

	err := d.message(b, func(num int, _ protowire.Type, b []byte, v uint64) error {
		switch num {
		case 1:
			id = v
		case 4:
			return d.message(b, func(num int, _ protowire.Type, _ []byte, v uint64) error {
				if num == 1 {
					fns = append(fns, v)
				}

				return nil
			})
		}

		return nil
	})

	if d.locations == nil {
		d.locations = map[uint64][]uint64{}
	}

	d.locations[id] = fns

	return err
}

// appendPacked appends a repeated varint field, packed (bytes) or not.
func appendPacked(out []uint64, typ protowire.Type, b []byte, v uint64) []uint64 {
	if typ != protowire.BytesType {
		return append(out, v)
	}

	for len(b) > 0 {
		u, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return out
		}

		out = append(out, u)
		b = b[n:]
	}

	return out
}

// resolve turns the tables into samples of CPU time and function names.
// A CPU profile's samples hold [count, nanoseconds].
func (d *profileDecoder) resolve() (*cpuProfile, error) {
	name := func(fn uint64) string {
		if i, ok := d.functions[fn]; ok && i >= 0 && int(i) < len(d.strings) {
			return d.strings[i]
		}

		return "?"
	}

	p := &cpuProfile{}

	for _, s := range d.samples {
		if len(s.values) < 2 {
			return nil, errProfile
		}

		cs := cpuSample{CPU: time.Duration(s.values[1])}
		for _, loc := range s.locations {
			for _, fn := range d.locations[loc] {
				cs.Stack = append(cs.Stack, name(fn))
			}
		}

		p.Samples = append(p.Samples, cs)
	}

	if len(p.Samples) == 0 {
		return nil, fmt.Errorf("%w: no samples", errProfile)
	}

	return p, nil
}
