package stack

import (
	"fmt"
	"math"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// WAF settings.
const (
	wafScopeRegional = "REGIONAL"
	// wafWindowSeconds is the rate-based rule's evaluation window.
	wafWindowSeconds = 300
	// wafMinRateLimit is WAF's smallest rate-based limit.
	wafMinRateLimit = 100
	// wafLabelScopeNamespace matches every label of a namespace.
	wafLabelScopeNamespace = "NAMESPACE"
	// bodyRulesCountedSuffix ends the metric name of the rule that counts
	// the requests the managed body rules matched.
	bodyRulesCountedSuffix = "-body-rules-counted"
)

// WAFRateLimit is the rate-based rule's limit per client IP per 5-minute
// window: the stage's own steady rate over the window. Hospital systems
// often share one NAT address, so the rule only bites on a single source
// trying to take the whole stage's capacity for five minutes.
func WAFRateLimit(ratePerSecond float64) int {
	limit := math.Ceil(ratePerSecond * wafWindowSeconds)
	if limit < wafMinRateLimit {
		return wafMinRateLimit
	}
	if limit > math.MaxInt32 {
		return math.MaxInt32
	}
	return int(limit)
}

// managedRuleGroup is an AWS managed rule group of the web ACL.
type managedRuleGroup struct {
	// name is the group's name (vendor AWS).
	name string
	// labelNamespace is where the group's labels live.
	labelNamespace string
	// countedRules are the group's rules that inspect the free-text body.
	// They count instead of blocking: clinical text trips them ("K < 3.0",
	// a path in a description, a long alert), and a blocked alert is a
	// missed alert. The web ACL's counting rule and an alarm report their
	// matches instead.
	countedRules []string
}

// managedRuleGroups are the AWS managed rule groups of the web ACL.
var managedRuleGroups = []managedRuleGroup{
	{name: "AWSManagedRulesAmazonIpReputationList", labelNamespace: "awswaf:managed:aws:amazon-ip-list:"},
	{name: "AWSManagedRulesCommonRuleSet", labelNamespace: "awswaf:managed:aws:core-rule-set:", countedRules: []string{
		"SizeRestrictions_BODY", "CrossSiteScripting_BODY", "GenericLFI_BODY", "GenericRFI_BODY", "EC2MetaDataSSRF_BODY",
	}},
	{name: "AWSManagedRulesKnownBadInputsRuleSet", labelNamespace: "awswaf:managed:aws:known-bad-inputs:", countedRules: []string{
		"JavaDeserializationRCE_BODY", "Log4JRCE_BODY",
	}},
}

// wafVisibility enables metrics and sampled requests under metric.
func wafVisibility(metric string) wafv2.WebAclRuleVisibilityConfigArgs {
	return wafv2.WebAclRuleVisibilityConfigArgs{
		CloudwatchMetricsEnabled: pulumi.Bool(true),
		MetricName:               pulumi.String(metric),
		SampledRequestsEnabled:   pulumi.Bool(true),
	}
}

// wafRules are the web ACL's rules, in priority order: the managed groups
// (body rules counting), a rule counting what those body rules matched,
// and a per-IP rate limit.
func wafRules(metricName string, ratePerSecond float64) wafv2.WebAclRuleArray {
	rules := wafv2.WebAclRuleArray{}
	var counted wafv2.WebAclRuleStatementArray
	for _, group := range managedRuleGroups {
		stmt := &wafv2.WebAclRuleStatementManagedRuleGroupStatementArgs{
			Name:       pulumi.String(group.name),
			VendorName: pulumi.String("AWS"),
		}
		overrides := wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArray{}
		for _, rule := range group.countedRules {
			overrides = append(overrides, wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideArgs{
				Name: pulumi.String(rule),
				ActionToUse: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseArgs{
					Count: wafv2.WebAclRuleStatementManagedRuleGroupStatementRuleActionOverrideActionToUseCountArgs{},
				},
			})
		}
		if len(overrides) > 0 {
			stmt.RuleActionOverrides = overrides
		}
		if len(group.countedRules) > 0 {
			counted = append(counted, wafv2.WebAclRuleStatementArgs{
				LabelMatchStatement: wafv2.WebAclRuleStatementLabelMatchStatementArgs{
					Scope: pulumi.String(wafLabelScopeNamespace),
					Key:   pulumi.String(group.labelNamespace),
				},
			})
		}
		rules = append(rules, wafv2.WebAclRuleArgs{
			Name:             pulumi.String(group.name),
			Priority:         pulumi.Int(len(rules)),
			OverrideAction:   wafv2.WebAclRuleOverrideActionArgs{None: wafv2.WebAclRuleOverrideActionNoneArgs{}},
			Statement:        wafv2.WebAclRuleStatementArgs{ManagedRuleGroupStatement: stmt},
			VisibilityConfig: wafVisibility(group.name),
		})
	}
	// A request that reaches this rule with a label of those groups was
	// matched only by a rule set to count (a blocking match ends the
	// evaluation): count it under its own metric, which an alarm watches.
	rules = append(rules, wafv2.WebAclRuleArgs{
		Name:             pulumi.String("BodyRulesCounted"),
		Priority:         pulumi.Int(len(rules)),
		Action:           wafv2.WebAclRuleActionArgs{Count: wafv2.WebAclRuleActionCountArgs{}},
		Statement:        wafv2.WebAclRuleStatementArgs{OrStatement: wafv2.WebAclRuleStatementOrStatementArgs{Statements: counted}},
		VisibilityConfig: wafVisibility(metricName + bodyRulesCountedSuffix),
	})
	rules = append(rules, wafv2.WebAclRuleArgs{
		Name:     pulumi.String("RateLimitPerIP"),
		Priority: pulumi.Int(len(rules)),
		Action:   wafv2.WebAclRuleActionArgs{Block: wafv2.WebAclRuleActionBlockArgs{}},
		Statement: wafv2.WebAclRuleStatementArgs{
			RateBasedStatement: wafv2.WebAclRuleStatementRateBasedStatementArgs{
				Limit:               pulumi.Int(WAFRateLimit(ratePerSecond)),
				AggregateKeyType:    pulumi.String("IP"),
				EvaluationWindowSec: pulumi.Int(wafWindowSeconds),
			},
		},
		VisibilityConfig: wafVisibility("RateLimitPerIP"),
	})
	return rules
}

// attachWAF creates a regional web ACL and associates it with the stage.
func (a *API) attachWAF(ctx *pulumi.Context, name string, args *APIArgs) error {
	a.WAFMetricName = args.Name
	a.WAFBodyRuleMetricName = args.Name + bodyRulesCountedSuffix
	var err error
	a.WebACL, err = wafv2.NewWebAcl(ctx, name+"-waf", &wafv2.WebAclArgs{
		Name:          pulumi.String(args.Name),
		Scope:         pulumi.String(wafScopeRegional),
		Description:   pulumi.String("a2p-alerts: protects POST /notification"),
		DefaultAction: wafv2.WebAclDefaultActionArgs{Allow: wafv2.WebAclDefaultActionAllowArgs{}},
		Rules:         wafRules(a.WAFMetricName, args.ThrottleRateLimit),
		VisibilityConfig: wafv2.WebAclVisibilityConfigArgs{
			CloudwatchMetricsEnabled: pulumi.Bool(true),
			MetricName:               pulumi.String(a.WAFMetricName),
			SampledRequestsEnabled:   pulumi.Bool(true),
		},
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create web acl: %w", err)
	}
	a.WebACLAssociation, err = wafv2.NewWebAclAssociation(ctx, name+"-waf-association", &wafv2.WebAclAssociationArgs{
		ResourceArn: a.Stage.Arn,
		WebAclArn:   a.WebACL.Arn,
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("associate web acl: %w", err)
	}
	return nil
}
