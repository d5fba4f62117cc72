package provision

import (
	"crypto/rand"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/pulumi/pulumi/sdk/v3/go/common/resource"
)

// props reads a resource's input PropertyMap. Values may arrive wrapped as
// secrets or, for inputs that accept a resource, as resource references;
// the getters unwrap both, reading a reference as the referenced
// resource's id, which is what the provider receives.
type props resource.PropertyMap

// value returns the plain value of key, null treated as absent.
func (p props) value(key string) (resource.PropertyValue, bool) {
	v, ok := resource.PropertyMap(p)[resource.PropertyKey(key)]
	if !ok {
		return resource.PropertyValue{}, false
	}
	v = plain(v)
	return v, !v.IsNull()
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
	if !ok || !v.IsString() {
		return ""
	}
	return v.StringValue()
}

// int32 returns an integer input, or def when absent or out of range.
func (p props) int32(key string, def int32) int32 {
	if n := p.num(key, math.NaN()); n <= math.MaxInt32 && n >= math.MinInt32 {
		return int32(n)
	}
	return def
}

// num returns a number input, or def when absent.
func (p props) num(key string, def float64) float64 {
	v, ok := p.value(key)
	if !ok || !v.IsNumber() {
		return def
	}
	return v.NumberValue()
}

// flag returns a bool input, false when absent.
func (p props) flag(key string) bool {
	v, ok := p.value(key)
	return ok && v.IsBool() && v.BoolValue()
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
		if e = plain(e); e.IsObject() {
			out = append(out, props(e.ObjectValue()))
		}
	}
	return out
}

// strs returns a list-of-strings input.
func (p props) strs(key string) []string {
	var out []string
	if v, ok := p.value(key); ok && v.IsArray() {
		for _, e := range v.ArrayValue() {
			if e = plain(e); e.IsString() {
				out = append(out, e.StringValue())
			}
		}
	}
	return out
}

// strMap returns a map-of-strings input (environment variables, models).
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

// pairs converts a map input (tags, dimensions) to an SDK's key-value type.
func pairs[T any](m map[string]string, pair func(k, v *string) T) []T {
	var out []T
	for k, v := range m {
		out = append(out, pair(aws.String(k), aws.String(v)))
	}
	return out
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
func autoName(in props, logical string, maxLen int) string {
	if n := in.str("name"); n != "" {
		return n
	}
	suffix := "-" + randomString("0123456789abcdef", 7)
	return logical[:min(len(logical), maxLen-len(suffix))] + suffix
}

// randomString returns n characters drawn at random from alphabet.
func randomString(alphabet string, n int) string {
	var b strings.Builder
	for range n {
		i, err := rand.Int(rand.Reader, big.NewInt(int64(len(alphabet))))
		if err != nil {
			i = big.NewInt(0)
		}
		b.WriteByte(alphabet[i.Int64()])
	}
	return b.String()
}

// newUUID returns a random version-4 UUID, the shape of Connect and KMS
// ids.
func newUUID() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b) // crypto/rand.Read never fails on Linux
	b[6] = (b[6] & 0x0f) | 0x40
	b[8] = (b[8] & 0x3f) | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
