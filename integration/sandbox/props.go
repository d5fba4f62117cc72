package sandbox

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"math"
	"sort"

	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// props reads a resource's input PropertyMap. Values may arrive wrapped as
// secrets or, for inputs that accept a resource (restApi, role, function,
// topic, ...), as resource references; the getters unwrap both, reading a
// reference as the referenced resource's id, which is what the provider
// receives.
type props resource.PropertyMap

// value returns the plain value of key: secrets unwrapped, references
// turned into their id, null treated as absent.
func (p props) value(key string) (resource.PropertyValue, bool) {
	v, ok := resource.PropertyMap(p)[resource.PropertyKey(key)]
	if !ok {
		return resource.PropertyValue{}, false
	}

	v = plain(v)
	if v.IsNull() {
		return resource.PropertyValue{}, false
	}

	return v, true
}

// plain unwraps secrets and resource references.
func plain(v resource.PropertyValue) resource.PropertyValue {
	for {
		switch {
		case v.IsSecret():
			v = v.SecretValue().Element
		case v.IsResourceReference():
			ref := v.ResourceReferenceValue()
			if id, ok := ref.IDString(); ok {
				return resource.NewProperty(id)
			}

			return resource.NewProperty(string(ref.URN))
		default:
			return v
		}
	}
}

// str returns a string input, or "" when absent.
func (p props) str(key string) string {
	v, ok := p.value(key)
	if !ok {
		return ""
	}

	switch {
	case v.IsString():
		return v.StringValue()
	case v.IsNumber():
		return fmt.Sprint(v.NumberValue())
	case v.IsBool():
		return fmt.Sprint(v.BoolValue())
	default:
		return ""
	}
}

// has reports whether key is present and not null.
func (p props) has(key string) bool {
	_, ok := p.value(key)

	return ok
}

// num returns a number input, or def when absent.
func (p props) num(key string, def float64) float64 {
	v, ok := p.value(key)
	if !ok || !v.IsNumber() {
		return def
	}

	return v.NumberValue()
}

// int32 returns an integer input, or def when absent or out of range.
func (p props) int32(key string, def int32) int32 {
	f := p.num(key, float64(def))
	if f > math.MaxInt32 || f < math.MinInt32 {
		return def
	}

	return int32(f)
}

// flag returns a bool input, false when absent.
func (p props) flag(key string) bool {
	v, ok := p.value(key)
	if !ok || !v.IsBool() {
		return false
	}

	return v.BoolValue()
}

// obj returns a nested object input, or nil.
func (p props) obj(key string) props {
	v, ok := p.value(key)
	if !ok || !v.IsObject() {
		return nil
	}

	return props(v.ObjectValue())
}

// objs returns a list-of-objects input.
func (p props) objs(key string) []props {
	v, ok := p.value(key)
	if !ok || !v.IsArray() {
		return nil
	}

	var out []props

	for _, e := range v.ArrayValue() {
		e = plain(e)
		if e.IsObject() {
			out = append(out, props(e.ObjectValue()))
		}
	}

	return out
}

// strs returns a list-of-strings input.
func (p props) strs(key string) []string {
	v, ok := p.value(key)
	if !ok || !v.IsArray() {
		return nil
	}

	var out []string

	for _, e := range v.ArrayValue() {
		e = plain(e)
		if e.IsString() {
			out = append(out, e.StringValue())
		}
	}

	return out
}

// strMap returns a map-of-strings input (tags, environment variables,
// attributes), sorted access is up to the caller.
func (p props) strMap(key string) map[string]string {
	o := p.obj(key)
	if o == nil {
		return nil
	}

	out := make(map[string]string, len(o))
	for k := range o {
		out[string(k)] = o.str(string(k))
	}

	return out
}

// sortedKeys returns m's keys in order, for deterministic requests.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}

	sort.Strings(keys)

	return keys
}

// state builds the state a resource returns: its inputs echoed, as a
// provider does, overlaid with the computed outputs.
func state(inputs resource.PropertyMap, outputs map[string]any) resource.PropertyMap {
	out := inputs.Copy()
	for k, v := range outputs {
		out[resource.PropertyKey(k)] = resource.NewPropertyValue(v)
	}

	return out
}

// autoName returns the name input when given, else what Pulumi's
// auto-naming produces: the logical name, a dash and seven random hex
// digits ("contacts-3f9a1c2"), trimmed to maxLen.
func autoName(in props, key, logical string, maxLen int) string {
	if n := in.str(key); n != "" {
		return n
	}

	if prefix := in.str(key + "Prefix"); prefix != "" {
		return truncate(prefix+randomHex(26), maxLen)
	}

	suffix := "-" + randomHex(7)

	return truncate(logical, maxLen-len(suffix)) + suffix
}

func truncate(s string, n int) string {
	if n > 0 && len(s) > n {
		return s[:n]
	}

	return s
}

// randomHex returns n random lowercase hex digits.
func randomHex(n int) string {
	b := make([]byte, (n+1)/2)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux

	return hex.EncodeToString(b)[:n]
}

// newUUID returns a random version-4 UUID, the shape of Connect and KMS
// ids.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80

	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
