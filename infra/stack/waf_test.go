package stack

import (
	"slices"
	"testing"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// TestWAFBodyRulesCount checks point 13: the managed rules that inspect
// the free-text body count instead of blocking, a rule after them counts
// what they matched (for the alarm), and the rate rule still blocks.
func TestWAFBodyRulesCount(t *testing.T) {
	cfg := baseConfig(t)
	cfg[key(names.ConfigEnableWAF)] = "true"
	_, m := mustRun(t, "prod", cfg)
	rules := m.byName(t, tWebACL, "api-waf").inputs["rules"].ArrayValue()
	wantCounted := map[string][]string{
		"AWSManagedRulesCommonRuleSet":         {"CrossSiteScripting_BODY", "EC2MetaDataSSRF_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "SizeRestrictions_BODY"},
		"AWSManagedRulesKnownBadInputsRuleSet": {"JavaDeserializationRCE_BODY", "Log4JRCE_BODY"},
	}
	var order []string
	var namespaces []string
	for _, r := range rules {
		rule := r.ObjectValue()
		name := rule["name"].StringValue()
		order = append(order, name)
		stmt := rule["statement"].ObjectValue()
		if g, ok := stmt["managedRuleGroupStatement"]; ok {
			var counted []string
			if o, ok := g.ObjectValue()["ruleActionOverrides"]; ok {
				for _, ov := range o.ArrayValue() {
					if _, isCount := ov.ObjectValue()["actionToUse"].ObjectValue()["count"]; !isCount {
						t.Errorf("%s: override %v is not count", name, ov)
					}
					counted = append(counted, ov.ObjectValue()["name"].StringValue())
				}
			}
			slices.Sort(counted)
			if !slices.Equal(counted, wantCounted[name]) {
				t.Errorf("%s counts %v, want %v", name, counted, wantCounted[name])
			}
		}
		if name == "BodyRulesCounted" {
			if _, ok := rule["action"].ObjectValue()["count"]; !ok {
				t.Errorf("BodyRulesCounted action = %v, want count", rule["action"])
			}
			for _, s := range stmt["orStatement"].ObjectValue()["statements"].ArrayValue() {
				l := s.ObjectValue()["labelMatchStatement"].ObjectValue()
				if l["scope"].StringValue() != "NAMESPACE" {
					t.Errorf("label match scope = %v, want NAMESPACE", l["scope"])
				}
				namespaces = append(namespaces, l["key"].StringValue())
			}
		}
		if name == "RateLimitPerIP" {
			if _, ok := rule["action"].ObjectValue()["block"]; !ok {
				t.Errorf("RateLimitPerIP action = %v, want block", rule["action"])
			}
		}
	}
	wantOrder := []string{"AWSManagedRulesAmazonIpReputationList", "AWSManagedRulesCommonRuleSet", "AWSManagedRulesKnownBadInputsRuleSet", "BodyRulesCounted", "RateLimitPerIP"}
	if !slices.Equal(order, wantOrder) {
		t.Errorf("rules = %v, want %v (the counter must follow the groups it counts)", order, wantOrder)
	}
	if want := []string{"awswaf:managed:aws:core-rule-set:", "awswaf:managed:aws:known-bad-inputs:"}; !slices.Equal(namespaces, want) {
		t.Errorf("BodyRulesCounted matches %v, want %v", namespaces, want)
	}
}
