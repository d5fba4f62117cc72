package stack

import (
	"bufio"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// configTableMarker precedes the configuration table in the docs.
const configTableMarker = "<!-- config-table -->"

// repoRoot is the repository root, from infra/stack.
var repoRoot = filepath.Join("..", "..")

// configTableFile returns README.md, which holds the configuration table
// after configTableMarker.
func configTableFile(tb testing.TB) (string, string) {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot, "README.md"))
	if err != nil {
		tb.Fatal(err)
	}
	if !strings.Contains(string(b), configTableMarker) {
		tb.Fatalf("README.md lacks %s", configTableMarker)
	}
	return "README.md", string(b)
}

// configTable parses the table after the marker: key (first column,
// backticks and namespace removed) to its cells.
func configTable(tb testing.TB, doc string) map[string][]string {
	tb.Helper()
	_, after, _ := strings.Cut(doc, configTableMarker)
	rows := map[string][]string{}
	sc := bufio.NewScanner(strings.NewReader(after))
	started, n := false, 0
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "|") {
			if started {
				break
			}
			continue
		}
		started = true
		n++
		if n <= 2 { // header and separator
			continue
		}
		// An escaped pipe (\|) is part of a cell.
		cells := strings.Split(strings.Trim(strings.ReplaceAll(line, `\|`, "\x00"), "|"), "|")
		for i := range cells {
			cells[i] = strings.TrimSpace(strings.ReplaceAll(cells[i], "\x00", "|"))
		}
		k := strings.TrimPrefix(strings.Trim(cells[0], "`"), mockProject+":")
		if _, dup := rows[k]; dup {
			tb.Errorf("key %q is listed twice", k)
		}
		rows[k] = cells
	}
	if len(rows) == 0 {
		tb.Fatal("no table rows after the marker")
	}
	return rows
}

func TestREADMEConfigTable(t *testing.T) {
	file, doc := configTableFile(t)
	rows := configTable(t, doc)
	var code []string
	for _, k := range configKeys {
		code = append(code, k.name)
		if _, ok := rows[k.name]; !ok {
			t.Errorf("%s: LoadConfig reads %q but the table does not list it", file, k.name)
		}
	}
	for k := range rows {
		if !slices.Contains(code, k) {
			t.Errorf("%s: the table lists %q but LoadConfig does not read it", file, k)
		}
	}

	// The defaults the table states are the code's.
	d := DefaultConfig()
	defaults := map[string]string{
		names.ConfigVoice:                   d.Voice,
		names.ConfigProtection:              string(d.Protection),
		names.ConfigLogRetentionDays:        strconv.Itoa(d.LogRetentionDays),
		names.ConfigLambdaArch:              d.LambdaArch,
		names.ConfigArtifactDir:             d.ArtifactDir,
		names.ConfigThrottleRateLimit:       strconv.FormatFloat(d.ThrottleRateLimit, 'f', -1, 64),
		names.ConfigThrottleBurstLimit:      strconv.Itoa(d.ThrottleBurstLimit),
		names.ConfigAuthorizerCacheTTL:      strconv.Itoa(d.AuthorizerCacheTTL),
		names.ConfigIdempotencyTTL:          FormatDuration(d.IdempotencyTTL),
		names.ConfigLogLevel:                d.LogLevel,
		names.ConfigEnableWAF:               strconv.FormatBool(d.EnableWAF),
		names.ConfigCreateConnectInstance:   strconv.FormatBool(d.CreateConnectInstance),
		names.ConfigManageAPIGatewayAccount: strconv.FormatBool(d.ManageAPIGatewayAccount),
		names.ConfigClientDailyQuota:        strconv.Itoa(d.ClientDailyQuota),
		names.ConfigSMSMonthlySpendLimit:    strconv.FormatFloat(d.SMSMonthlySpendLimit, 'f', -1, 64),
		names.ConfigSMSSpendAlarmPercent:    strconv.Itoa(d.SMSSpendAlarmPercent),
	}
	for k, want := range defaults {
		row, ok := rows[k]
		if !ok || len(row) < 3 {
			continue // reported above
		}
		if got := row[2]; got != "`"+want+"`" {
			t.Errorf("%s: default of %s is %s, the code says `%s`", file, k, got, want)
		}
	}
}

func TestConfigKeysCoverNames(t *testing.T) {
	// Every names.Config* constant is read by LoadConfig, once.
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filepath.Join(repoRoot, "shared", "names", "names.go"), nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	var declared []string
	for _, decl := range f.Decls {
		gd, ok := decl.(*ast.GenDecl)
		if !ok || gd.Tok != token.CONST {
			continue
		}
		for _, spec := range gd.Specs {
			vs, ok := spec.(*ast.ValueSpec)
			if !ok {
				continue
			}
			for i, id := range vs.Names {
				if !strings.HasPrefix(id.Name, "Config") || i >= len(vs.Values) {
					continue
				}
				lit, ok := vs.Values[i].(*ast.BasicLit)
				if !ok {
					t.Fatalf("names.%s is not a string literal", id.Name)
				}
				v, err := strconv.Unquote(lit.Value)
				if err != nil {
					t.Fatal(err)
				}
				declared = append(declared, v)
			}
		}
	}
	var read []string
	for _, k := range configKeys {
		if slices.Contains(read, k.name) {
			t.Errorf("configKeys lists %q twice", k.name)
		}
		read = append(read, k.name)
	}
	slices.Sort(declared)
	slices.Sort(read)
	if !slices.Equal(declared, read) {
		t.Errorf("names.Config* = %v\nconfigKeys    = %v", declared, read)
	}
}

// TestREADMEFirstDeployChecklist checks point 9: the README's checklist
// covers what a hospital's first deploy hits.
func TestREADMEFirstDeployChecklist(t *testing.T) {
	_, doc := configTableFile(t)
	_, section, ok := strings.Cut(doc, "### Before your first deploy")
	if !ok {
		t.Fatal(`README.md has no "### Before your first deploy" section`)
	}
	section, _, _ = strings.Cut(section, "\n### ")
	section = strings.Join(strings.Fields(section), " ") // lines wrap anywhere
	for _, item := range []string{
		"Country Allowlisting for Outbound Calls", // allowed countries per instance
		"`+447` are not allowed by default",       // the support case for UK mobiles
		"Directory Service",                       // creating an instance
		"iam:CreateServiceLinkedRole",             // creating an instance
		"SNS SMS sandbox",                         // texting unverified numbers
		"spend limit",                             // SMS stops at the limit
		"*pending*",                               // email subscriptions need confirming
		"manageApiGatewayAccount: true",           // access logs on a fresh account
		"pulumi config set --secret --path",       // contact details as secrets
		"connectInstanceAlias",                    // alias, and what changing it replaces
	} {
		if !strings.Contains(section, item) {
			t.Errorf("the checklist does not mention %q", item)
		}
	}
	if n := strings.Count(section, "- [ ]"); n < 8 {
		t.Errorf("the checklist has %d items, want a checklist", n)
	}
}
