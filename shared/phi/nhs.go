package phi

import (
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// NHSNumber detects a valid NHS number: ten digits whose last digit is the
// modulus-11 check digit of the first nine, however it is written. The
// text is first normalised (see Normalise): compatibility forms such as
// full-width digits become ASCII digits, format characters (zero-width
// spaces, bidirectional controls) are dropped, and a run of separators
// between two digits (spaces of any kind, ".", "_", "/", any dash) reads
// as one separator. A number is then a run of digit groups joined by
// separators, and it is an NHS number when it has exactly ten digits,
// either in one group or in groups of two to four digits: so
// "9434765919", "943 476 5919", "943.476.5919", "943_476_5919",
// "9434 765 919", "94 34 76 59 19" and "９４３ ４７６ ５９１９" are all found.
//
// Other groupings are not read as NHS numbers, because they are how other
// numbers are written: a year and a sequence ("lab-2026-000123"), a
// decimal list ("140.5 6.9 7.2 8.8"), a phone number ("+44 7700 900123").
// Joining those into ten digits would refuse about one alert in eleven
// that holds one (the chance that ten digits pass the check). A run of
// more than ten digits is not an NHS number either; digits next to letters
// still count, because "patient9434765919" leaks the number all the same.
type NHSNumber struct{}

// Name implements Detector.
func (NHSNumber) Name() string { return "nhs_number" }

// Reason implements Detector.
func (NHSNumber) Reason() string {
	return "contains what looks like an NHS number; send a pseudonymous id, never the NHS number"
}

// nhsDigits is how many digits an NHS number has.
const nhsDigits = 10

// The sizes of the groups an NHS number may be written in, when it is not
// written as one run of ten digits.
const (
	minGroup = 2
	maxGroup = 4
)

// Detect implements Detector.
func (NHSNumber) Detect(s string) bool {
	if fewASCIIDigits(s) {
		return false
	}
	return detectIn(Normalise(s))
}

// fewASCIIDigits reports whether s is ASCII with fewer than nhsDigits
// digits: then Normalise(s) has as few (it adds no digit to ASCII text,
// which NFKC leaves as it is), so s cannot hold an NHS number. Most alert
// text is such, and this answer allocates nothing.
func fewASCIIDigits(s string) bool {
	digits := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= utf8.RuneSelf:
			return false
		case isDigit(c):
			digits++
		}
	}
	return digits < nhsDigits
}

// detectIn reports whether n, a normalised text, holds an NHS number.
func detectIn(n string) bool {
	for i := 0; i < len(n); {
		if !isDigit(n[i]) {
			i++
			continue
		}
		groups, next := digitGroups(n, i)
		if writtenAsNHSNumber(groups) && ValidNHSNumber(strings.Join(groups, "")) {
			return true
		}
		i = next
	}
	return false
}

// digitGroups reads the number that starts at n[i]: runs of digits joined
// by single separators, as Normalise leaves them. It returns the runs and
// the index after the number.
func digitGroups(n string, i int) ([]string, int) {
	var groups []string
	for {
		j := i
		for j < len(n) && isDigit(n[j]) {
			j++
		}
		groups = append(groups, n[i:j])
		if j+1 >= len(n) || n[j] != normalSeparator || !isDigit(n[j+1]) {
			return groups, j
		}
		i = j + 1
	}
}

// writtenAsNHSNumber reports whether groups are how an NHS number is
// written: ten digits in one run, or in groups of minGroup to maxGroup.
func writtenAsNHSNumber(groups []string) bool {
	total := 0
	for _, g := range groups {
		total += len(g)
		if len(groups) > 1 && (len(g) < minGroup || len(g) > maxGroup) {
			return false
		}
	}
	return total == nhsDigits
}

// normalSeparator is what Normalise writes for a run of separators between
// two digits.
const normalSeparator = ' '

// Normalise returns s as the detectors read it: Unicode NFKC (full-width
// and other compatibility digits become ASCII), format characters
// (category Cf) dropped, every decimal digit of any script written as its
// ASCII digit, and each run of separators that stands between two digits
// removed. Separators are spaces of any kind (category Zs, the no-break
// spaces included), ".", "_", "/" and dashes (category Pd and the minus
// sign); each such run becomes one space (normalSeparator). Other text is
// kept as it is.
func Normalise(s string) string {
	runes := []rune(norm.NFKC.String(s))
	out := make([]rune, 0, len(runes))
	for i := 0; i < len(runes); i++ {
		r := runes[i]
		switch {
		case unicode.Is(unicode.Cf, r):
			continue
		case unicode.IsDigit(r):
			out = append(out, asciiDigit(r))
		case isSeparator(r) && len(out) > 0 && isDigitRune(out[len(out)-1]):
			j := i
			for j < len(runes) && (isSeparator(runes[j]) || unicode.Is(unicode.Cf, runes[j])) {
				j++
			}
			if j < len(runes) && unicode.IsDigit(runes[j]) {
				out = append(out, normalSeparator) // one number, written in groups
				i = j - 1
				continue
			}
			out = append(out, runes[i:j]...)
			i = j - 1
		default:
			out = append(out, r)
		}
	}
	return string(out)
}

// isSeparator reports whether r may stand between the digits of one
// number.
func isSeparator(r rune) bool {
	return unicode.In(r, unicode.Zs, unicode.Pd) || strings.ContainsRune("._/\u2212", r)
}

// asciiDigit returns the ASCII digit of r, a decimal digit (category Nd)
// of any script. Unicode assigns each script's digits in runs of ten, zero
// first, with no other digit before the zero, so r's value is its distance
// from the start of its run of digits, modulo ten.
func asciiDigit(r rune) rune {
	start := r
	for unicode.IsDigit(start - 1) {
		start--
	}
	return '0' + (r-start)%10
}

func isDigitRune(r rune) bool { return r >= '0' && r <= '9' }

// ValidNHSNumber reports whether d is ten digits passing the NHS modulus-11
// check: weights 10 down to 2 on the first nine digits; 11 minus the sum
// modulo 11 is the check digit, 11 counting as 0 and 10 as invalid.
func ValidNHSNumber(d string) bool {
	if len(d) != nhsDigits {
		return false
	}
	sum := 0
	for i := range nhsDigits {
		if !isDigit(d[i]) {
			return false
		}
		if i < nhsDigits-1 {
			sum += int(d[i]-'0') * (nhsDigits - i)
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return int(d[nhsDigits-1]-'0') == check
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
