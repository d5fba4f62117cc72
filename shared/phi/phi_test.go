package phi_test

import (
	"strings"
	"testing"

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
		{"in a sentence", "Results for 943 476 5919 are ready", true},
		{"after letters", "patient9434765919", true},
		{"before letters", "9434765919x", true},
		{"at the end", "see 401-023-2137", true},
		{"second of two", "ref 1234567890 and 4010232137", true},
		{"invalid check digit contiguous", "9434765918", false},
		{"invalid check digit spaced", "943 476 5918", false},
		{"invalid check digit hyphens", "943-476-5918", false},
		{"mixed separators", "943 476-5919", false},
		{"wrong grouping", "9434 765 919", false},
		{"double space", "943  476 5919", false},
		{"inside a longer run", "19434765919", false},
		{"longer run after", "94347659190", false},
		{"nine digits", "943476591", false},
		{"phone number", "+44 7700 900123", false},
		{"no digits", "Blood test results ready", false},
		{"empty", "", false},
	}
	d := phi.NHSNumber{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			if got := d.Detect(tt.in); got != tt.want {
				t.Errorf("Detect(%q) = %v, want %v", tt.in, got, tt.want)
			}
		})
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
