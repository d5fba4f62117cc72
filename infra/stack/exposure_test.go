package stack

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/apigateway"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/connect"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/dynamodb"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/iam"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/kms"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/lambda"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/scheduler"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sqs"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/wafv2"

	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// argTypes maps every resource type the program may register to its Args
// type in pulumi-aws, from which the tests learn, by reflection, whether
// the type takes tags and a name. A type missing here fails
// TestEveryTaggableResourceIsTagged: add it.
var argTypes = map[string]any{
	tTopic:                sns.TopicArgs{},
	tSubscription:         sns.TopicSubscriptionArgs{},
	tTopicPolicy:          sns.TopicPolicyArgs{},
	tTable:                dynamodb.TableArgs{},
	tTableItem:            dynamodb.TableItemArgs{},
	tFunction:             lambda.FunctionArgs{},
	tPermission:           lambda.PermissionArgs{},
	tRole:                 iam.RoleArgs{},
	tRolePolicy:           iam.RolePolicyArgs{},
	tLogGroup:             cloudwatch.LogGroupArgs{},
	tKey:                  kms.KeyArgs{},
	"aws:kms/alias:Alias": kms.AliasArgs{},
	tRestAPI:              apigateway.RestApiArgs{},
	tResource:             apigateway.ResourceArgs{},
	tStage:                apigateway.StageArgs{},
	tMethod:               apigateway.MethodArgs{},
	tAuthorizer:           apigateway.AuthorizerArgs{},
	tModel:                apigateway.ModelArgs{},
	tIntegration:          apigateway.IntegrationArgs{},
	tDeployment:           apigateway.DeploymentArgs{},
	tSettings:             apigateway.MethodSettingsArgs{},
	tAccount:              apigateway.AccountArgs{},
	tResponse:             apigateway.ResponseArgs{},
	tAPIKey:               apigateway.ApiKeyArgs{},
	tUsagePlan:            apigateway.UsagePlanArgs{},
	tUsagePlanKey:         apigateway.UsagePlanKeyArgs{},
	tContactFlow:          connect.ContactFlowArgs{},
	tInstance:             connect.InstanceArgs{},
	tPhoneNumber:          connect.PhoneNumberArgs{},
	tWebACL:               wafv2.WebAclArgs{},
	tWebACLAssoc:          wafv2.WebAclAssociationArgs{},
	tAlarm:                cloudwatch.MetricAlarmArgs{},
	tMetricFilter:         cloudwatch.LogMetricFilterArgs{},
	tEventBus:             cloudwatch.EventBusArgs{},
	tEventRule:            cloudwatch.EventRuleArgs{},
	tEventTarget:          cloudwatch.EventTargetArgs{},
	tQueue:                sqs.QueueArgs{},
	tQueuePolicy:          sqs.QueuePolicyArgs{},
	tMapping:              lambda.EventSourceMappingArgs{},
	tScheduleGroup:        scheduler.ScheduleGroupArgs{},
	tLambdaAssociation:    connect.LambdaFunctionAssociationArgs{},
}

// scopedNames are the types whose name lives inside another resource that
// shows the stack, with why they need not show it themselves.
var scopedNames = map[string]string{
	tModel: "a model's name is alphanumeric only, and lives in the stack's REST API",
}

// allStacks runs the program in the configuration that registers every
// resource type: WAF, the account role, a created Connect instance and a
// claimed number, an alarm email.
func allStacks(tb testing.TB) *mocks {
	tb.Helper()
	cfg := baseConfig(tb)
	withCreatedInstance(cfg, "GB")
	cfg[key(names.ConfigEnableWAF)] = "true"
	cfg[key(names.ConfigManageAPIGatewayAccount)] = "true"
	cfg[key(names.ConfigAlarmEmail)] = "pager@example.net"
	_, m := mustRun(tb, "prod", cfg)
	return m
}

// argField reports whether typ's Args has a field named field.
func argField(tb testing.TB, typ, field string) bool {
	tb.Helper()
	args, ok := argTypes[typ]
	if !ok {
		tb.Fatalf("resource type %s is not in argTypes: add it with its pulumi-aws Args type", typ)
	}
	_, has := reflect.TypeOf(args).FieldByName(field)
	return has
}

// TestEveryTaggableResourceIsTagged walks every resource the program
// registers: each one whose type takes tags carries the default tags.
func TestEveryTaggableResourceIsTagged(t *testing.T) {
	m := allStacks(t)
	tagged := 0
	for _, r := range m.records {
		if !r.custom || !argField(t, r.typ, "Tags") {
			continue
		}
		tagged++
		tags := r.obj("tags")
		if propString(tags, TagProject) != mockProject || propString(tags, TagStack) != "prod" {
			t.Errorf("%s %s: tags = %v, want %s=%s and %s=prod", r.typ, r.name, tags, TagProject, mockProject, TagStack)
		}
	}
	if tagged < 10 {
		t.Errorf("only %d taggable resources: the walk saw too little", tagged)
	}
}

// TestOwnTagsWinOverDefaults checks the transformation's merge.
func TestOwnTagsWinOverDefaults(t *testing.T) {
	own := &sns.TopicArgs{}
	props, ok := withDefaultTags(own, map[string]string{TagProject: "p", TagStack: "s"})
	if !ok || own.Tags != nil {
		t.Fatalf("withDefaultTags = %v, %v; and must not change its argument", props, ok)
	}
	if _, ok := withDefaultTags(&sns.TopicPolicyArgs{}, map[string]string{"a": "b"}); ok {
		t.Error("a type without tags was tagged")
	}
}

// TestPhysicalNamesShowTheStack: every resource whose type takes a name
// is named, and the name starts with "<project>-<stack>" (or, for an alias
// or log group, holds it).
func TestPhysicalNamesShowTheStack(t *testing.T) {
	m := allStacks(t)
	for _, r := range m.records {
		if !r.custom || !argField(t, r.typ, "Name") {
			continue
		}
		if _, scoped := scopedNames[r.typ]; scoped {
			continue
		}
		if got := r.str("name"); !strings.Contains(got, "a2p-alerts-prod") {
			t.Errorf("%s %s: name %q does not show the stack", r.typ, r.name, got)
		}
	}
	if got := m.byName(t, tInstance, "voice-instance").str("instanceAlias"); !strings.HasPrefix(got, "a2p-alerts-prod-") {
		t.Errorf("instance alias %q does not show the stack", got)
	}
}

// TestContactDetailsAreSecrets checks point 12: every value holding a
// phone number or an email address is a secret in the state.
func TestContactDetailsAreSecrets(t *testing.T) {
	m := allStacks(t)
	subs := m.all(tSubscription)
	if len(subs) < 4 {
		t.Fatalf("got %d subscriptions, want the contacts' and the alarm email's", len(subs))
	}
	for _, s := range subs {
		if !s.isSecret("endpoint") {
			t.Errorf("subscription %s: endpoint is not a secret", s.name)
		}
	}
	for _, it := range m.all(tTableItem) {
		if !it.isSecret("item") {
			t.Errorf("contact item %s is not a secret", it.name)
		}
	}
	// Nothing else in the inputs holds a contact's number or address.
	for _, r := range m.records {
		for k, v := range r.inputs {
			if v.ContainsSecrets() {
				continue
			}
			b, err := json.Marshal(v.Mappable())
			if err != nil {
				t.Fatal(err)
			}
			for _, detail := range []string{"+15555550100", "+15555550101", "+15555550102", "c-1@example.org", "pager@example.net"} {
				if strings.Contains(string(b), detail) {
					t.Errorf("%s %s: input %s holds %s in clear", r.typ, r.name, k, detail)
				}
			}
		}
	}
}

// TestContactItemsRetainedWithTables checks point 12: with full
// protection the items stay with their tables.
func TestContactItemsRetainedWithTables(t *testing.T) {
	for protection, want := range map[string]bool{"none": false, "full": true} {
		cfg := baseConfig(t)
		cfg[key(names.ConfigProtection)] = protection
		_, m := mustRun(t, "dev", cfg)
		for _, it := range m.all(tTableItem) {
			if it.retain != want {
				t.Errorf("protection %s: item %s retainOnDelete = %v, want %v", protection, it.name, it.retain, want)
			}
		}
	}
}

// TestOnlyTheDeployerSubscribes checks point 12: every topic policy
// denies sns:Subscribe to every principal but the deploying one; an
// assumed role is matched by its role's ARN, with or without a path.
func TestOnlyTheDeployerSubscribes(t *testing.T) {
	tests := []struct {
		caller string
		want   []string
	}{
		{mockCallerARN, []string{mockCallerARN}},
		{"arn:aws:sts::123456789012:assumed-role/Deployer/ci-run-42", []string{
			"arn:aws:iam::123456789012:role/Deployer", "arn:aws:iam::123456789012:role/*/Deployer",
		}},
	}
	for _, tt := range tests {
		_, m, err := runWith(t, &mocks{callerARN: tt.caller}, "dev", withArtifacts(t, baseConfig(t)))
		if err != nil {
			t.Fatal(err)
		}
		policies := m.all(tTopicPolicy)
		if len(policies) != 4 {
			t.Fatalf("got %d topic policies, want 4 (3 contacts' and the operations topic's)", len(policies))
		}
		for _, p := range policies {
			var doc PolicyDocument
			if err := json.Unmarshal([]byte(p.str("policy")), &doc); err != nil {
				t.Fatal(err)
			}
			i := slices.IndexFunc(doc.Statement, func(st Statement) bool {
				return st.Effect == effectDeny && slices.Equal(st.Action, []string{"sns:Subscribe"})
			})
			if i < 0 {
				t.Errorf("%s: no Deny of sns:Subscribe", p.name)
				continue
			}
			deny := doc.Statement[i]
			got, _ := deny.Condition["ArnNotLike"]["aws:PrincipalArn"].([]any)
			var gotARNs []string
			for _, a := range got {
				s, _ := a.(string)
				gotARNs = append(gotARNs, s)
			}
			if deny.Principal != "*" || !slices.Equal(gotARNs, tt.want) {
				t.Errorf("%s (caller %s): deny = %+v, want principal * except %v", p.name, tt.caller, deny, tt.want)
			}
		}
	}
}

// TestAPIGatewayAccountRoleTrust checks point 2: only API Gateway acting
// for this account may assume the account's CloudWatch role.
func TestAPIGatewayAccountRoleTrust(t *testing.T) {
	m := allStacks(t)
	var doc PolicyDocument
	if err := json.Unmarshal([]byte(m.byName(t, tRole, "api-cloudwatch-role").str("assumeRolePolicy")), &doc); err != nil {
		t.Fatal(err)
	}
	if len(doc.Statement) != 1 {
		t.Fatalf("trust policy = %+v, want one statement", doc)
	}
	st := doc.Statement[0]
	if got := st.Condition["StringEquals"]["aws:SourceAccount"]; got != mockAccount {
		t.Errorf("trust condition aws:SourceAccount = %v, want %s", got, mockAccount)
	}
	principal, _ := st.Principal.(map[string]any)
	if !slices.Equal(st.Action, []string{"sts:AssumeRole"}) || principal["Service"] != "apigateway.amazonaws.com" {
		t.Errorf("trust statement = %+v", st)
	}
}

// withArtifacts sets cfg's artifactDir to fake packages.
func withArtifacts(tb testing.TB, cfg map[string]string) map[string]string {
	tb.Helper()
	cfg[key(names.ConfigArtifactDir)] = fakeArtifacts(tb, ArchARM64)
	return cfg
}
