package alert

import (
	"strings"
	"unicode"
	"unicode/utf16"
)

// TextRules says in words what free text (Field.Text) must be. The API
// reference repeats it.
const TextRules = "visible text: not only spaces; no control characters (Cc), " +
	"format characters (Cf: bidirectional controls, zero-width characters), " +
	"line or paragraph separators, or U+FFFD"

// Reasons of the text rules. None repeats the value.
const (
	reasonControl   = "must not contain control characters (including newlines and tabs)"
	reasonFormat    = "must not contain format characters (Unicode Cf, such as bidirectional controls or zero-width characters)"
	reasonSeparator = "must not contain line or paragraph separators (U+2028, U+2029)"
	reasonReplaced  = "must not contain U+FFFD, the replacement character: the text was damaged before it was sent"
	reasonBlank     = "must not be only spaces"
	reasonBadEscape = `holds a \u escape that is not a character (an unpaired UTF-16 surrogate)`
)

// checkText returns why free text v breaks TextRules, or "". A clinician's
// phone shows what these characters do, not what they are: reordered
// (bidirectional overrides), hidden (zero-width characters), split
// (separators) or blank text.
func checkText(v string) string {
	for _, r := range v {
		switch {
		case unicode.IsControl(r):
			return reasonControl
		case unicode.Is(unicode.Cf, r):
			return reasonFormat
		case unicode.In(r, unicode.Zl, unicode.Zp):
			return reasonSeparator
		case r == unicode.ReplacementChar:
			return reasonReplaced
		}
	}
	if strings.TrimFunc(v, unicode.IsSpace) == "" {
		return reasonBlank
	}
	return ""
}

// validEscapes reports whether every \u escape in raw, a well-formed JSON
// string literal, stands for a character: a high surrogate must be followed
// at once by an escaped low surrogate, and a low surrogate must not stand
// alone. Go's decoder turns an unpaired surrogate into U+FFFD silently;
// this check refuses it instead.
func validEscapes(raw []byte) bool {
	for i := 0; i < len(raw); i++ {
		if raw[i] != '\\' {
			continue
		}
		i++ // the escaped character; skipping it also skips the \ of "\\"
		if raw[i] != 'u' {
			continue
		}
		r := hex4(raw[i+1 : i+5])
		i += 4
		switch {
		case !utf16.IsSurrogate(r):
		case r < 0xdc00 && i+6 < len(raw) && raw[i+1] == '\\' && raw[i+2] == 'u' && isLowSurrogate(hex4(raw[i+3:i+7])):
			i += 6
		default:
			return false
		}
	}
	return true
}

func isLowSurrogate(r rune) bool { return r >= 0xdc00 && r <= 0xdfff }

// hex4 reads four hex digits, which the JSON decoder has already checked.
func hex4(b []byte) rune {
	var r rune
	for _, c := range b {
		r <<= 4
		switch {
		case c >= '0' && c <= '9':
			r |= rune(c - '0')
		case c >= 'a' && c <= 'f':
			r |= rune(c - 'a' + 10)
		case c >= 'A' && c <= 'F':
			r |= rune(c - 'A' + 10)
		}
	}
	return r
}
