package phi

import "testing"

// FuzzFewDigitsMeansNoNHSNumber: whenever the allocation-free answer
// says a text cannot hold an NHS number, the full reading agrees.
func FuzzFewDigitsMeansNoNHSNumber(f *testing.F) {
	for _, seed := range []string{"", "Potassium 6.9 mmol/L", "943 476 591", "9434765919", "lab-2026-000123", "943-476-5919 x", "９４３ ４７６ ５９１９"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if fewASCIIDigits(s) && detectIn(Normalise(s)) {
			t.Errorf("%q holds an NHS number, yet was answered with the few-digits shortcut", s)
		}
	})
}

func TestFewASCIIDigits(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		"Potassium 6.9 mmol/L": true, "943 476 591": true, "9434765919": false,
		"ab 12345 67890": false, "é 1": false, "１": false,
	} {
		if got := fewASCIIDigits(s); got != want {
			t.Errorf("fewASCIIDigits(%q) = %v, want %v", s, got, want)
		}
	}
}
