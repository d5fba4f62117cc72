package phi

import (
	"strings"
	"unicode"

	"golang.org/x/text/unicode/norm"
)

// NHSNumber detects a valid NHS number: ten digits whose last digit is the
// modulus-11 check digit of the first nine, however it is written. The
// text is first normalised (see Normalise): compatibility forms such as
// full-width digits become ASCII digits, format characters (zero-width
// spaces, bidirectional controls) are dropped, and a run of separators
// between two digits (spaces of any kind, ".", "_", "/", any dash) is
// removed, so "943 476 5919", "943.476.5919", "943_476_5919" and
// "９４３ ４７６ ５９１９" all read 9434765919. A run of more than ten
// digits is not an NHS number; digits next to letters still count,
// because "patient9434765919" leaks the number all the same.
type NHSNumber struct{}

// Name implements Detector.
func (NHSNumber) Name() string { return "nhs_number" }

// Reason implements Detector.
func (NHSNumber) Reason() string {
	return "contains what looks like an NHS number; send a pseudonymous id, never the NHS number"
}

// nhsDigits is how many digits an NHS number has.
const nhsDigits = 10

// Detect implements Detector.
func (NHSNumber) Detect(s string) bool {
	n := Normalise(s)
	for i := 0; i < len(n); {
		if !isDigit(n[i]) {
			i++
			continue
		}
		j := i
		for j < len(n) && isDigit(n[j]) {
			j++
		}
		if j-i == nhsDigits && ValidNHSNumber(n[i:j]) {
			return true
		}
		i = j
	}
	return false
}

// Normalise returns s as the detectors read it: Unicode NFKC (full-width
// and other compatibility digits become ASCII), format characters
// (category Cf) dropped, every decimal digit of any script written as its
// ASCII digit, and each run of separators that stands between two digits
// removed. Separators are spaces of any kind (category Zs, the no-break
// spaces included), ".", "_", "/" and dashes (category Pd and the minus
// sign). Other text is kept as it is.
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
				i = j - 1 // drop the run: the digits on both sides join
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
