package provision

import (
	"strings"
	"time"
)

// Unhosted is an entry of NotEmulated: a resource type the emulator cannot
// host, or a behaviour it lacks, why, and what stands in for it.
type Unhosted struct {
	// Reason says what kumo lacks.
	Reason string
	// StandIn says what the sandbox does instead, with a pointer to it.
	StandIn string
	// Applies narrows the entry to some inputs; nil means every resource
	// of the type.
	Applies func(in props) bool
	// record returns the id and the outputs the real provider would, so
	// that the program's wiring (ids into environment variables, ARNs into
	// policies) runs unchanged. It is nil for a behaviour: an entry keyed
	// not by a resource type (which kumo creates) but by what kumo does
	// differently ("behaviour: ...").
	record func(p *Provisioner, name string, in props) (string, map[string]any)
}

// Behaviour reports whether the entry is a behaviour kumo lacks rather
// than a resource type it cannot host.
func (u Unhosted) Behaviour() bool { return u.record == nil }

// NotEmulated is the sandbox's one list of what the emulator cannot run:
// these resources are recorded, not created, and what they do is untested
// here or done by a stand-in (package standin), reached by the functions
// through an endpoint variable. The external target and the infra unit
// tests cover them instead. Every new AWS feature kumo cannot run gets an
// entry here, with its reason, and a stand-in in package standin. Entries
// keyed "behaviour: ..." name what kumo does differently for resources it
// does create.
var NotEmulated = map[string]Unhosted{
	"behaviour: API Gateway's requestContext.authorizer in Lambda proxy events": {
		Reason: "kumo runs the REQUEST authorizer but passes none of its answer (principalId, context) to the integration; " +
			"the processor scopes idempotency by that client and refuses requests without it",
		StandIn: "lambdahost.RuntimeProxy adds it from the authorizer's own Allow answer, which passes through it (authorizerCacheTtl 0)",
	},
	"behaviour: SNS failures (throttling, server errors, refusals, lost answers)": {
		Reason:  "kumo's SNS always accepts a well-formed Publish to an existing topic",
		StandIn: "standin.SNSProxy in front of kumo's SNS (AWS_ENDPOINT_URL_SNS, sandbox.Options.SNSFaults) answers injected faults",
	},
	"behaviour: Amazon Connect failures (throttling, server errors, refusals, lost answers)": {
		Reason: "kumo has no Amazon Connect",
		StandIn: "standin.ConnectStub answers the faults a test's decide function returns, DropAnswer included, and refuses every call " +
			"to a destination it is told to fail (FailDestination; standin.UnreachableNumber, C-2's number in Pulumi.local.yaml, always)",
	},
	"behaviour: EventBridge Scheduler never fires a schedule": {
		Reason: "kumo stores schedules (CreateSchedule, GetSchedule, ListSchedules, DeleteSchedule) but never invokes their target, " +
			"and applies no ActionAfterCompletion",
		StandIn: "standin.ScheduleFirer reads a schedule, waits for its at() time, invokes its target with its input as Scheduler would " +
			"and deletes it (Fire, from a test; Run, in make dev and make demo)",
	},
	"behaviour: Amazon Connect's contact flow (the call, the keypad, InvokeLambdaFunction)": {
		Reason: "kumo has no Amazon Connect: no call is placed and no flow runs",
		StandIn: "standin.ConnectStub.Script: per call, answered with 1 pressed (it invokes the ack function with the call's " +
			"events.ConnectEvent, as the flow would), answered with no input, or not answered",
	},
	"behaviour: AWS End User Messaging two-way SMS (inbound replies), and SNS's delivery to Lambda": {
		Reason: "kumo has no End User Messaging: nothing receives an SMS reply; and kumo's SNS delivers to a Lambda subscriber " +
			"only at localhost:4566, whatever port kumo serves on",
		StandIn: "standin.PublishInboundSMS reads the replies topic's Lambda subscriptions from kumo and invokes each with the " +
			"events.SNSEvent SNS would send, holding the reply in End User Messaging's JSON",
	},
	"behaviour: API Gateway's public host name in the acknowledgment links": {
		Reason: "the stack builds the links from https://<api id>.execute-api.<region>.amazonaws.com/v1; " +
			"kumo serves the API at http://<api id>.execute-api.localhost:<port>/v1",
		StandIn: "the sandbox points the functions' A2P_ACK_BASE_URL at the emulator's stage URL (lambdahost.Host.Env)",
	},
	"behaviour: CloudWatch's extraction of embedded-metric-format log lines into metrics": {
		Reason: "nothing ships the functions' output to kumo's CloudWatch Logs, and kumo extracts no metrics from log lines",
		StandIn: "none for the metrics: the integration tests read the processor's EMF lines from its output (TestMetricLines); " +
			"the alerts-failed and alerts-unknown alarms on them are created in kumo and driven by TestAlarmsNotifyTheOperationsTopic",
	},
	"behaviour: DynamoDB encryption with a customer-managed KMS key, point-in-time recovery": {
		Reason:  "kumo stores a table's SSE and PITR settings but encrypts nothing and keeps no backups",
		StandIn: "none: the alerts table's key, its policy and the roles' kms:ViaService grants are asserted by the infra unit tests",
	},
	"behaviour: SQS event source mappings (polling, batches, partial batch failures)": {
		Reason: "kumo stores a mapping (State Enabled) and never polls its queue: the messages stay there",
		StandIn: "standin.QueuePoller, one per mapping (sandbox.Sandbox.Pollers): it receives a batch, invokes the function with " +
			"the SQS event, deletes what the function did not name a failure and leaves the rest to kumo's own visibility timeout " +
			"and redrive; tests drive it (Poll), make dev and make demo run it (Options.PollQueues)",
	},
	"behaviour: SQS encryption with a customer-managed key; an EventBridge target's retry policy and dead-letter config": {
		Reason: "kumo stores a queue's KmsMasterKeyId and encrypts nothing, and its EventBridge delivers to SQS at once and " +
			"never fails, so a target's retry policy and dead-letter queue never act",
		StandIn: "none: the queues' key policy (EventBridge's grant for the rule), the queue policies and the target's " +
			"dead-letter config are asserted by the infra unit tests",
	},
	"aws:connect/instance:Instance": {
		Reason: "kumo has no Amazon Connect (nor has LocalStack)", StandIn: "standin.ConnectStub (AWS_ENDPOINT_URL_CONNECT)",
		record: func(p *Provisioner, _ string, _ props) (string, map[string]any) {
			id := newUUID()
			return id, map[string]any{"arn": p.arn("connect", "instance/"+id), "status": "ACTIVE", "createdTime": time.Now().UTC().Format(time.RFC3339)}
		},
	},
	"aws:connect/phoneNumber:PhoneNumber": {
		Reason: "kumo has no Amazon Connect", StandIn: "a fictional number; standin.ConnectStub places no call",
		record: func(p *Provisioner, _ string, in props) (string, map[string]any) {
			id := newUUID()
			return id, map[string]any{"arn": p.arn("connect", "phone-number/"+id), "phoneNumber": fictionalNumber(in.str("countryCode"))}
		},
	},
	"aws:connect/lambdaFunctionAssociation:LambdaFunctionAssociation": {
		Reason:  "kumo has no Amazon Connect",
		StandIn: "standin.ConnectStub invokes the ack function itself, with the events.ConnectEvent the flow's InvokeLambdaFunction would send",
		record: func(_ *Provisioner, _ string, in props) (string, map[string]any) {
			return in.str("instanceId") + "," + in.str("functionArn"), nil
		},
	},
	"aws:connect/contactFlow:ContactFlow": {
		Reason: "kumo has no Amazon Connect", StandIn: "standin.ConnectStub records the flow id each call names",
		record: func(p *Provisioner, _ string, in props) (string, map[string]any) {
			instance, flow := in.str("instanceId"), newUUID()
			return instance + ":" + flow, map[string]any{"contactFlowId": flow, "arn": p.arn("connect", "instance/"+instance+"/contact-flow/"+flow)}
		},
	},
	// kumo's query-protocol parser turns any form value that parses as a
	// number into a JSON number, so an E.164 endpoint fails Subscribe.
	"aws:sns/topicSubscription:TopicSubscription": {
		Reason: "kumo cannot parse an E.164 SMS endpoint", StandIn: "observe.Tap, an SQS queue subscribed to every topic",
		Applies: func(in props) bool { return in.str("protocol") == "sms" },
		record: func(p *Provisioner, _ string, in props) (string, map[string]any) {
			arn := in.str("topic") + ":" + newUUID()
			return arn, map[string]any{"arn": arn, "ownerId": p.account, "pendingConfirmation": false}
		},
	},
	"aws:apigateway/model:Model": {
		Reason: "kumo has no API Gateway models and validates no body", StandIn: "none: the processor validates every body itself",
		record: func(*Provisioner, string, props) (string, map[string]any) { return apiGatewayID(), nil },
	},
	"aws:apigateway/response:Response": {
		Reason:  "kumo does not apply gateway responses: its own 401 and 403 bodies are answered, not the stack's envelope",
		StandIn: "none: the templates are checked under the infra mocks (TestGatewayResponseTemplates)",
		record: func(_ *Provisioner, _ string, in props) (string, map[string]any) {
			return "aggr-" + in.str("restApiId") + "-" + in.str("responseType"), nil
		},
	},
	"aws:apigateway/apiKey:ApiKey": {
		Reason:  "kumo has no API keys (it stores a method's apiKeyRequired and checks nothing)",
		StandIn: "a random key value, which the authorizer returns as usageIdentifierKey and kumo ignores",
		record: func(*Provisioner, string, props) (string, map[string]any) {
			return apiGatewayID(), map[string]any{"value": randomString("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789", 40)}
		},
	},
	"aws:apigateway/usagePlan:UsagePlan": {
		Reason: "kumo has no usage plans", StandIn: "none: per-client rate, burst and quota are not enforced",
		record: func(p *Provisioner, _ string, _ props) (string, map[string]any) {
			id := apiGatewayID()
			return id, map[string]any{"arn": "arn:aws:apigateway:" + p.region + "::/usageplans/" + id}
		},
	},
	"aws:apigateway/usagePlanKey:UsagePlanKey": {
		Reason: "kumo has no usage plans", StandIn: "none: not enforced",
		record: func(_ *Provisioner, _ string, in props) (string, map[string]any) {
			return in.str("keyId"), map[string]any{"name": "", "value": ""}
		},
	},
	"aws:cloudwatch/logMetricFilter:LogMetricFilter": {
		Reason:  "kumo's CloudWatch Logs has no metric filters, and nothing writes the functions' output to it",
		StandIn: "none: the pattern is matched against the processor's real log line by an infra unit test",
		record:  func(_ *Provisioner, _ string, in props) (string, map[string]any) { return in.str("name"), nil },
	},
	"aws:apigateway/methodSettings:MethodSettings": {
		Reason: "kumo has no UpdateStage (throttling, metrics)", StandIn: "none: not enforced",
		record: func(_ *Provisioner, _ string, in props) (string, map[string]any) {
			return in.str("restApi") + "-" + in.str("stageName") + "-" + in.str("methodPath"), nil
		},
	},
	"aws:apigateway/account:Account": {
		Reason: "kumo has no API Gateway account settings", StandIn: "none: not enforced",
		record: func(*Provisioner, string, props) (string, map[string]any) { return "api-gateway-account", nil },
	},
	"aws:wafv2/webAcl:WebAcl": {
		Reason: "kumo has no WAF", StandIn: "none: not enforced",
		record: func(p *Provisioner, name string, _ props) (string, map[string]any) {
			id := newUUID()
			return id, map[string]any{"arn": p.arn("wafv2", "regional/webacl/"+name+"/"+id)}
		},
	},
	"aws:wafv2/webAclAssociation:WebAclAssociation": {
		Reason: "kumo has no WAF", StandIn: "none: not enforced",
		record: func(_ *Provisioner, _ string, in props) (string, map[string]any) {
			return in.str("webAclArn") + "," + in.str("resourceArn"), nil
		},
	},
}

// fictionalNumber returns an E.164 number from a range reserved for
// fiction, so a claimed number in the sandbox can never ring anyone:
// Ofcom's +44 7700 900xxx for GB, NANP's 555-01xx for everything else.
func fictionalNumber(country string) string {
	if strings.EqualFold(country, "GB") {
		return "+447700900" + randomDigits(3)
	}
	return "+120255501" + randomDigits(2)
}

// apiGatewayID returns an id in API Gateway's shape: ten lowercase letters
// and digits.
func apiGatewayID() string {
	return randomString("abcdefghijklmnopqrstuvwxyz0123456789", 10)
}

func randomDigits(n int) string { return randomString("0123456789", n) }
