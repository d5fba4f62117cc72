package phi

// NHSNumber detects a valid NHS number: ten digits whose last digit is the
// modulus-11 check digit of the first nine, written together
// ("9434765919") or as 3-3-4 groups separated by spaces or hyphens
// ("943 476 5919", "943-476-5919"). A digit run longer than ten digits is
// not an NHS number; digits next to letters still count, because
// "patient9434765919" leaks the number all the same.
type NHSNumber struct{}

// Name implements Detector.
func (NHSNumber) Name() string { return "nhs_number" }

// Reason implements Detector.
func (NHSNumber) Reason() string {
	return "contains what looks like an NHS number; send a pseudonymous id, never the NHS number"
}

// Detect implements Detector.
func (NHSNumber) Detect(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) || (i > 0 && isDigit(s[i-1])) {
			continue // only start at the first digit of a run
		}
		if d, ok := readNHS(s[i:]); ok && ValidNHSNumber(d) {
			return true
		}
	}
	return false
}

// readNHS reads ten digits from the start of s, either contiguous or in
// 3-3-4 groups with one consistent separator (space or hyphen), and checks
// that no digit follows them.
func readNHS(s string) (string, bool) {
	try := func(sep byte) (string, bool) {
		var digits []byte
		groups := []int{3, 3, 4}
		if sep == 0 {
			groups = []int{10}
		}
		j := 0
		for gi, n := range groups {
			if gi > 0 {
				if j >= len(s) || s[j] != sep {
					return "", false
				}
				j++
			}
			for k := 0; k < n; k++ {
				if j >= len(s) || !isDigit(s[j]) {
					return "", false
				}
				digits = append(digits, s[j])
				j++
			}
		}
		if j < len(s) && isDigit(s[j]) {
			return "", false
		}
		return string(digits), true
	}
	for _, sep := range []byte{0, ' ', '-'} {
		if d, ok := try(sep); ok {
			return d, true
		}
	}
	return "", false
}

// ValidNHSNumber reports whether d is ten digits passing the NHS modulus-11
// check: weights 10 down to 2 on the first nine digits; 11 minus the sum
// modulo 11 is the check digit, 11 counting as 0 and 10 as invalid.
func ValidNHSNumber(d string) bool {
	if len(d) != 10 {
		return false
	}
	sum := 0
	for i := 0; i < 10; i++ {
		if !isDigit(d[i]) {
			return false
		}
		if i < 9 {
			sum += int(d[i]-'0') * (10 - i)
		}
	}
	check := 11 - sum%11
	switch check {
	case 11:
		check = 0
	case 10:
		return false
	}
	return int(d[9]-'0') == check
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }
