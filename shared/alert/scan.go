package alert

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"unicode"
	"unicode/utf16"
)

// fieldValue is what a body holds for one of Fields.
type fieldValue struct {
	// present: the body names the field (even with a value of the wrong
	// type).
	present bool
	// ok: the value is a string that decoded cleanly, held in s.
	ok bool
	s  string
}

// fieldValues holds the body's value of each of Fields, by index.
type fieldValues [6]fieldValue

// get returns the value of the field called name.
func (v *fieldValues) get(name string) string {
	return v[fieldIndex(name)].s
}

// fieldIndex returns the index in Fields of the field called name, -1 for
// none.
func fieldIndex(name string) int {
	for i, f := range Fields {
		if f.Name == name {
			return i
		}
	}
	return -1
}

func init() {
	if len(Fields) != len(fieldValues{}) {
		panic("alert: fieldValues must have one entry per field")
	}
}

// readFields reads body, valid UTF-8, as one JSON object. It returns each
// known field's value and the problems with the object's members. ok is
// false when body is not a JSON object, problems then say why.
//
// A well-formed object is read by a scanner that allocates little (one
// string for all the values it can share); anything else goes to the
// slower readObject, which words every kind of malformed body.
func readFields(body []byte) (values fieldValues, problems []FieldError, ok bool) {
	start := skipSpace(body, 0)
	if !json.Valid(body) || start >= len(body) || body[start] != '{' {
		return fromObject(readObject(body))
	}
	text := string(body) // the values that need no unescaping are slices of it
	var unknown []string // names of unknown members seen, for duplicates
	forMembers(body, start, func(k0, k1, v0, v1 int) {
		name := text[k0+1 : k1-1]
		if bytes.IndexByte(body[k0:k1], '\\') >= 0 {
			name = unescape(body[k0:k1])
		}
		i := fieldIndex(name)
		switch {
		case i < 0 && slices.Contains(unknown, name), i >= 0 && values[i].present:
			problems = append(problems, FieldError{safeName(name), "appears more than once"})
		case i < 0:
			unknown = append(unknown, name)
			problems = append(problems, FieldError{safeName(name), "is not a known field"})
		default:
			values[i].present = true
			if reason := stringValue(text, body[v0:v1], v0, &values[i]); reason != "" {
				problems = append(problems, FieldError{name, reason})
			}
		}
	})
	return values, problems, true
}

// stringValue reads raw, the JSON value at text[at:], into v, or returns
// why it is not a string value this package accepts.
func stringValue(text string, raw []byte, at int, v *fieldValue) string {
	switch {
	case raw[0] != '"':
		return "must be a string, not " + jsonKind(raw)
	case !validEscapes(raw):
		return reasonBadEscape
	case bytes.IndexByte(raw, '\\') < 0:
		v.s = text[at+1 : at+len(raw)-1]
	default:
		v.s = unescape(raw)
	}
	v.ok = true
	return ""
}

// unescape decodes raw, a valid JSON string literal (quotes included), as
// encoding/json does. An unpaired surrogate escape, which validEscapes
// refuses before this runs, becomes U+FFFD as there.
func unescape(raw []byte) string {
	var b strings.Builder
	b.Grow(len(raw))
	for i := 1; i < len(raw)-1; i++ {
		c := raw[i]
		if c != '\\' {
			b.WriteByte(c)
			continue
		}
		i++
		switch raw[i] {
		case 'b':
			b.WriteByte('\b')
		case 'f':
			b.WriteByte('\f')
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		case 'u':
			r := hex4(raw[i+1 : i+5])
			i += 4
			if utf16.IsSurrogate(r) {
				r2 := unicode.ReplacementChar
				if i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' {
					r2 = hex4(raw[i+3 : i+7])
				}
				if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
					r = dec
					i += 6
				} else {
					r = unicode.ReplacementChar
				}
			}
			b.WriteRune(r)
		default: // '"', '\\' and '/' stand for themselves
			b.WriteByte(raw[i])
		}
	}
	return b.String()
}

// fromObject converts readObject's answer.
func fromObject(byName map[string]*string, problems []FieldError) (values fieldValues, _ []FieldError, ok bool) {
	if byName == nil {
		return values, problems, false
	}
	for i, f := range Fields {
		s, present := byName[f.Name]
		values[i] = fieldValue{present: present, ok: s != nil}
		if s != nil {
			values[i].s = *s
		}
	}
	return values, problems, true
}

// forMembers calls fn with the offsets of each member's key (the quoted
// string, k0 to k1) and value (v0 to v1) of the object that starts at
// body[start], in order. body must be valid JSON.
func forMembers(body []byte, start int, fn func(k0, k1, v0, v1 int)) {
	i := skipSpace(body, start+1)
	for i < len(body) && body[i] != '}' {
		k0 := i
		k1 := endOfValue(body, k0)
		v0 := skipSpace(body, skipSpace(body, k1)+1) // past the ':'
		v1 := endOfValue(body, v0)
		fn(k0, k1, v0, v1)
		i = skipSpace(body, v1)
		if i < len(body) && body[i] == ',' {
			i = skipSpace(body, i+1)
		}
	}
}

// endOfValue returns the offset just past the JSON value at body[i], which
// is valid JSON.
func endOfValue(body []byte, i int) int {
	switch body[i] {
	case '"':
		return endOfString(body, i)
	case '{', '[':
		depth := 0
		for ; i < len(body); i++ {
			switch body[i] {
			case '"':
				i = endOfString(body, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return i
	default: // a number, true, false or null
		for i < len(body) && strings.IndexByte(",}] \t\r\n", body[i]) < 0 {
			i++
		}
		return i
	}
}

// endOfString returns the offset just past the JSON string at body[i].
func endOfString(body []byte, i int) int {
	for i++; i < len(body); i++ {
		switch body[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return i
}

// skipSpace returns the offset of the first byte at or after i that is
// not JSON whitespace.
func skipSpace(body []byte, i int) int {
	for i < len(body) && (body[i] == ' ' || body[i] == '\t' || body[i] == '\n' || body[i] == '\r') {
		i++
	}
	return i
}
