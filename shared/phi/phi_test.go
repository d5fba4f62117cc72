package phi_test

import (
	"strings"
	"testing"
	"unicode"

	"github.com/a2p-alerts/a2p-alerts/shared/phi"
)

func TestValidNHSNumber(t *testing.T) {
	t.Parallel()
	tests := map[string]bool{
		"9434765919":  true,  // check digit 9
		"4010232137":  true,  // check digit 7
		"4857773457":  true,  // check digit 7
		"0000000000":  true,  // remainder 0: check digit 11 counts as 0
		"1111111111":  true,  // check digit 1
		"9434765918":  false, // wrong check digit
		"1234567890":  false, // check digit would be 10: never valid
		"123456789":   false, // nine digits
		"94347659190": false,
		"943476591a":  false,
	}
	for d, want := range tests {
		if got := phi.ValidNHSNumber(d); got != want {
			t.Errorf("ValidNHSNumber(%q) = %v, want %v", d, got, want)
		}
	}
}

func TestNHSNumberDetect(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   string
		want bool
	}{
		{"contiguous", "9434765919", true},
		{"spaces", "943 476 5919", true},
		{"hyphens", "943-476-5919", true},
		{"dots", "943.476.5919", true},
		{"underscores", "943_476_5919", true},
		{"slashes", "943/476/5919", true},
		{"mixed separators", "943 476-5919", true},
		{"other grouping", "9434 765 919", true},
		{"pairs", "94 34 76 59 19", true},
		{"runs of separators", "943  476 - 5919", true},
		{"no-break spaces", "943\u00a0476\u00a05919", true},
		{"narrow no-break and figure spaces", "943\u202f476\u20075919", true},
		{"ideographic space", "943\u3000476\u30005919", true},
		{"en dash and minus sign", "943\u2013476\u22125919", true},
		{"full-width digits", "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff19", true},
		{"full-width digits and hyphens", "\uff19\uff14\uff13\uff0d\uff14\uff17\uff16\uff0d\uff15\uff19\uff11\uff19", true},
		{"mathematical digits", "\U0001d7eb\U0001d7e6\U0001d7e5\U0001d7e6\U0001d7e9\U0001d7e8\U0001d7e7\U0001d7eb\U0001d7e3\U0001d7eb", true},
		{"Arabic-Indic digits", "\u0669\u0664\u0663\u0664\u0667\u0666\u0665\u0669\u0661\u0669", true},
		{"zero-width spaces", "943\u200b476\u200b5919", true},
		{"zero-width joiners and a BOM", "\ufeff9\u200d434765919", true},
		{"bidirectional isolates", "\u2066943 476 5919\u2069", true},
		{"format characters in a separator run", "943 \u200b 476 5919", true},
		{"in a sentence", "Results for 943 476 5919 are ready", true},
		{"followed by a full stop", "Patient is 943.476.5919.", true},
		{"after letters", "patient9434765919", true},
		{"before letters", "9434765919x", true},
		{"at the end", "see 401-023-2137", true},
		{"second of two", "ref 1234567890 and 4010232137", true},
		{"invalid check digit contiguous", "9434765918", false},
		{"invalid check digit spaced", "943 476 5918", false},
		{"invalid check digit hyphens", "943-476-5918", false},
		{"invalid check digit full-width", "\uff19\uff14\uff13\uff14\uff17\uff16\uff15\uff19\uff11\uff18", false},
		{"inside a longer run", "19434765919", false},
		{"year and sequence", "lab-2026-000123", false}, // 2026000123 passes the check
		{"five and five", "94347 65919", false},
		{"a group of one", "943 476 591 9", false},
		{"decimal list", "140.5 6.9 7.2 8.8", false}, // 1405697288 passes the check
		{"decimal pairs", "12.3 45.6 78.9", false},
		{"longer run after", "94347659190", false},
		{"joined to more digits by a separator", "943 476 5919 12", false},
		{"nine digits", "943476591", false},
		{"nine digits spaced", "943 476 591", false},
		{"separated by a colon", "943:476:5919", false},
		{"separated by letters", "943 and 476 and 5919", false},
		{"phone number", "+44 7700 900123", false},
		{"no digits", "Blood test results ready", false},
		{"empty", "", false},
	}
	d := phi.NHSNumber{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := d.Detect(tt.in); got != tt.want {
				t.Errorf("Detect(%q) = %v, want %v (normalised %q)", tt.in, got, tt.want, phi.Normalise(tt.in))
			}
		})
	}
}

func TestNormalise(t *testing.T) {
	t.Parallel()
	tests := map[string]string{
		"K 6.9 mmol/L":               "K 6 9 mmol/L", // "." between digits is a separator; letters kept
		"943 476 5919":               "943 476 5919",
		"943  476 - 5919":            "943 476 5919", // a run of separators is one
		"a - b":                      "a - b",        // separators away from digits stay
		"1 - b":                      "1 - b",
		"\uff11\uff12":               "12",
		"x\u200by":                   "xy",
		"\u0661\u0662 \u0663":        "12 3",
		"ward 7 / bed 12":            "ward 7 / bed 12",
		"12/03/2026":                 "12 03 2026",
		"ﬁle":                        "file", // NFKC, beyond digits
		"9\u00a0\u202f\u2007\u30004": "9 4",
	}
	for in, want := range tests {
		if got := phi.Normalise(in); got != want {
			t.Errorf("Normalise(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestDigitRunsStartAtZero checks what Normalise's digit mapping assumes of
// the Unicode tables Go ships: every range of decimal digits is whole runs
// of ten.
func TestDigitRunsStartAtZero(t *testing.T) {
	t.Parallel()
	for _, r := range unicode.Nd.R16 {
		if r.Stride != 1 || (int(r.Hi)-int(r.Lo)+1)%10 != 0 {
			t.Errorf("Nd range %U-%U stride %d is not whole runs of ten", r.Lo, r.Hi, r.Stride)
		}
	}
	for _, r := range unicode.Nd.R32 {
		if r.Stride != 1 || (int(r.Hi)-int(r.Lo)+1)%10 != 0 {
			t.Errorf("Nd range %U-%U stride %d is not whole runs of ten", r.Lo, r.Hi, r.Stride)
		}
	}
}

func TestParse(t *testing.T) {
	t.Parallel()
	tests := []struct {
		spec    string
		want    []string
		wantErr string
	}{
		{"", []string{"nhs_number"}, ""},
		{"nhs_number", []string{"nhs_number"}, ""},
		{" nhs_number , nhs_number ", []string{"nhs_number"}, ""},
		{"none", nil, ""},
		{"ssn", nil, `unknown PHI detector "ssn" (known: nhs_number, or "none")`},
	}
	for _, tt := range tests {
		g, err := phi.Parse(tt.spec)
		if tt.wantErr != "" {
			if err == nil || err.Error() != tt.wantErr {
				t.Errorf("Parse(%q) error = %v, want %q", tt.spec, err, tt.wantErr)
			}
			continue
		}
		if err != nil {
			t.Errorf("Parse(%q): %v", tt.spec, err)
			continue
		}
		var got []string
		for _, d := range g {
			got = append(got, d.Name())
		}
		if strings.Join(got, ",") != strings.Join(tt.want, ",") {
			t.Errorf("Parse(%q) = %v, want %v", tt.spec, got, tt.want)
		}
	}
}

func TestGuardCheck(t *testing.T) {
	t.Parallel()
	if d := phi.Default().Check("nhs 9434765919"); d == nil || d.Name() != "nhs_number" {
		t.Errorf("Default guard missed an NHS number: %v", d)
	}
	if d := phi.Default().Check("nothing here"); d != nil {
		t.Errorf("Default guard flagged clean text: %v", d.Name())
	}
	if d := (phi.Guard{}).Check("nhs 9434765919"); d != nil {
		t.Errorf("empty guard flagged text")
	}
	if strings.Contains(phi.NHSNumber{}.Reason(), "9") {
		t.Errorf("reason should not hold digits")
	}
}
