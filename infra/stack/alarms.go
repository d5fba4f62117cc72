package stack

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/cloudwatch"
	"github.com/pulumi/pulumi-aws/sdk/v6/go/aws/sns"
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/shared/delivery"
	"github.com/a2p-alerts/a2p-alerts/shared/names"
)

// AlarmsType is the type token of the Alarms component.
const AlarmsType = "a2p:operations:Alarms"

// Alarm settings shared by every alarm.
const (
	compareAtOrAbove = "GreaterThanOrEqualToThreshold"
	// missingNotBreaching: no data points means nothing failed (error
	// counts are not reported when there are no errors).
	missingNotBreaching = "notBreaching"
	// durationAlarmShare is the share of a function's timeout at which its
	// duration alarm fires.
	durationAlarmShare = 0.8
	// api4xxAlarmRate is the share of refused requests (4XX) in five
	// minutes at which the 4XX alarm fires.
	api4xxAlarmRate = 0.2
	// sentNotRecordedMetric counts the processor's names.LogSentNotRecorded
	// lines, in AlarmsArgs.MetricNamespace.
	sentNotRecordedMetric = "AlertsSentNotRecorded"
	// alertNotRecordedMetric counts the processor's
	// names.LogAlertNotRecorded lines, in AlarmsArgs.MetricNamespace.
	alertNotRecordedMetric = "AlertRecordsNotWritten"
	// timerNotSetMetric counts the names.LogTimerNotSet lines of the
	// processor and the escalate function.
	timerNotSetMetric = "EscalationTimersNotSet"
	minute            = 60
	fiveMinutes       = 5 * minute
)

// AlarmsArgs configures the Alarms component: what to watch, and where to
// send the notifications.
type AlarmsArgs struct {
	// NamePrefix starts every alarm's name, "<NamePrefix>-<id>", and the
	// operations topic's, "<NamePrefix>-operations".
	NamePrefix string
	// MetricNamespace holds the metrics of the stack's log metric filters
	// and the processor's embedded-metric-format metrics (the processor's
	// names.EnvMetricsNamespace).
	MetricNamespace string
	// Partition, Region, AccountID locate the alarms, for the topic
	// policy's conditions and the WAF metrics' Region dimension.
	Partition, Region, AccountID string
	// SubscriberARNs are the aws:PrincipalArn patterns of the deploying
	// principal, the only one the topic policy lets subscribe.
	SubscriberARNs []string
	// KeyARN encrypts the operations topic (Messaging's key, whose policy
	// lets CloudWatch use it for alarms named NamePrefix-*).
	KeyARN pulumi.StringInput
	// AlarmEmail, when set, is subscribed to the operations topic.
	AlarmEmail string
	// APIName and StageName are the REST API's name and stage.
	APIName, StageName string
	// Functions are the Lambda functions to watch.
	Functions []WatchedFunction
	// ProcessorLogGroup is the processor's log group name.
	ProcessorLogGroup pulumi.StringInput
	// RecordingLogGroups are the log groups of the other functions that
	// write alert records (the worker, the dead-letter handler), by
	// function name: their names.LogAlertNotRecorded lines count too.
	RecordingLogGroups map[string]pulumi.StringInput
	// AlertQueue and DeadLetterQueue are the asynchronous path's queues'
	// names.
	AlertQueue, DeadLetterQueue string
	// EscalateLogGroup is the escalate function's log group name.
	EscalateLogGroup pulumi.StringInput
	// TopicNames are the contacts' SNS topics.
	TopicNames []string
	// SMSMonthlySpendLimit is the account's SMS spend limit in USD; 0 when
	// no contact uses SMS (no spend alarm).
	SMSMonthlySpendLimit float64
	// SMSSpendAlarmPercent is the share of the limit that fires the alarm.
	SMSSpendAlarmPercent int
	// WebACLMetric and BodyRuleMetric are the web ACL's metric name and
	// its body-rule counting rule's; "" without a WAF.
	WebACLMetric, BodyRuleMetric string
}

// Alarms holds the operations topic and the CloudWatch alarms that notify
// it. Each alarm's AlarmDescription says in one line why it fires.
//
// To add an alarm, add an alarmSpec to one of the groups alarmSpecs joins
// (or a new group), with whatever it needs in AlarmsArgs; a log-based alarm
// also needs a logFilterSpec. Each spec becomes one MetricAlarm named
// "<NamePrefix>-<id>" that notifies the topic on ALARM and on OK.
type Alarms struct {
	pulumi.ResourceState

	// Topic is the operations topic every alarm notifies.
	Topic *sns.Topic
	// TopicPolicy lets this stack's alarms publish to Topic.
	TopicPolicy *sns.TopicPolicy
	// EmailSubscription subscribes AlarmEmail; nil without it.
	EmailSubscription *sns.TopicSubscription
	// MetricFilters by id.
	MetricFilters map[string]*cloudwatch.LogMetricFilter
	// Alarms by id.
	Alarms map[string]*cloudwatch.MetricAlarm
}

// alarmSpec is one CloudWatch alarm on one metric: the metric reaches the
// threshold in a period of PeriodSeconds.
type alarmSpec struct {
	id                string
	reason            string
	namespace, metric string
	statistic         string
	dimensions        map[string]string
	periodSeconds     int
	threshold         float64
}

// logFilterSpec turns matching log lines into a metric.
type logFilterSpec struct {
	id       string
	logGroup pulumi.StringInput
	pattern  string
	metric   string
}

// alarmNamePattern matches the names of the alarms of the stack whose name
// prefix is prefix.
func alarmNamePattern(prefix string) string { return prefix + "-*" }

// NewAlarms creates the operations topic, the log metric filters and the
// alarms.
func NewAlarms(ctx *pulumi.Context, name string, args *AlarmsArgs, opts ...pulumi.ResourceOption) (*Alarms, error) {
	a := &Alarms{MetricFilters: map[string]*cloudwatch.LogMetricFilter{}, Alarms: map[string]*cloudwatch.MetricAlarm{}}
	if err := ctx.RegisterComponentResource(AlarmsType, name, a, opts...); err != nil {
		return nil, fmt.Errorf("register %s: %w", name, err)
	}
	if err := a.createTopic(ctx, name, args); err != nil {
		return nil, err
	}
	for _, f := range logFilterSpecs(args) {
		mf, err := cloudwatch.NewLogMetricFilter(ctx, name+"-filter-"+f.id, &cloudwatch.LogMetricFilterArgs{
			Name:         pulumi.String(args.NamePrefix + "-" + f.id),
			LogGroupName: f.logGroup,
			Pattern:      pulumi.String(f.pattern),
			MetricTransformation: cloudwatch.LogMetricFilterMetricTransformationArgs{
				Namespace: pulumi.String(args.MetricNamespace),
				Name:      pulumi.String(f.metric),
				Value:     pulumi.String("1"),
			},
		}, pulumi.Parent(a))
		if err != nil {
			return nil, fmt.Errorf("create log metric filter %s: %w", f.id, err)
		}
		a.MetricFilters[f.id] = mf
	}
	for _, s := range alarmSpecs(args) {
		if err := a.createAlarm(ctx, name, args, s); err != nil {
			return nil, err
		}
	}
	if err := ctx.RegisterResourceOutputs(a, pulumi.Map{"topicArn": a.Topic.Arn}); err != nil {
		return nil, fmt.Errorf("register %s outputs: %w", name, err)
	}
	return a, nil
}

// createTopic creates the operations topic, encrypted with the stack's
// key, its policy (only this stack's alarms publish; only the deploying
// principal subscribes) and, with AlarmEmail, an email subscription.
func (a *Alarms) createTopic(ctx *pulumi.Context, name string, args *AlarmsArgs) error {
	var err error
	a.Topic, err = sns.NewTopic(ctx, name+"-topic", &sns.TopicArgs{
		Name:           pulumi.String(args.NamePrefix + "-operations"),
		DisplayName:    pulumi.String("A2P Ops"),
		KmsMasterKeyId: args.KeyARN,
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create operations topic: %w", err)
	}
	root := fmt.Sprintf("arn:%s:iam::%s:root", args.Partition, args.AccountID)
	doc := policyOutput(pulumi.StringMap{"topic": a.Topic.Arn}, func(v map[string]string) PolicyDocument {
		return topicPolicy(v["topic"], root, args.SubscriberARNs, Statement{
			Sid:       "AlarmsOfThisStack",
			Effect:    effectAllow,
			Principal: map[string]string{"Service": cloudwatchService},
			Action:    []string{"sns:Publish"},
			Resource:  []string{v["topic"]},
			Condition: alarmSourceCondition(args.Partition, args.Region, args.AccountID, alarmNamePattern(args.NamePrefix)),
		})
	})
	a.TopicPolicy, err = sns.NewTopicPolicy(ctx, name+"-topic-policy", &sns.TopicPolicyArgs{Arn: a.Topic.Arn, Policy: doc}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create operations topic policy: %w", err)
	}
	if args.AlarmEmail == "" {
		return nil
	}
	a.EmailSubscription, err = sns.NewTopicSubscription(ctx, name+"-email", &sns.TopicSubscriptionArgs{
		Topic:    a.Topic.Arn,
		Protocol: pulumi.String("email"),
		Endpoint: secret(pulumi.String(args.AlarmEmail)),
	}, pulumi.Parent(a), pulumi.DependsOn([]pulumi.Resource{a.TopicPolicy}))
	if err != nil {
		return fmt.Errorf("subscribe the alarm email: %w", err)
	}
	return nil
}

// createAlarm creates the alarm of s, notifying the topic on ALARM and OK.
func (a *Alarms) createAlarm(ctx *pulumi.Context, name string, args *AlarmsArgs, s alarmSpec) error {
	actions := pulumi.Array{a.Topic.Arn}
	alarm, err := cloudwatch.NewMetricAlarm(ctx, name+"-"+s.id, &cloudwatch.MetricAlarmArgs{
		Name:               pulumi.String(args.NamePrefix + "-" + s.id),
		AlarmDescription:   pulumi.String(s.reason),
		Namespace:          pulumi.String(s.namespace),
		MetricName:         pulumi.String(s.metric),
		Statistic:          pulumi.String(s.statistic),
		Dimensions:         pulumi.ToStringMap(s.dimensions),
		Period:             pulumi.Int(s.periodSeconds),
		EvaluationPeriods:  pulumi.Int(1),
		Threshold:          pulumi.Float64(s.threshold),
		ComparisonOperator: pulumi.String(compareAtOrAbove),
		TreatMissingData:   pulumi.String(missingNotBreaching),
		ActionsEnabled:     pulumi.Bool(true),
		AlarmActions:       actions,
		OkActions:          actions,
	}, pulumi.Parent(a))
	if err != nil {
		return fmt.Errorf("create alarm %s: %w", s.id, err)
	}
	a.Alarms[s.id] = alarm
	return nil
}

// alarmSpecs are every alarm of the stack.
func alarmSpecs(args *AlarmsArgs) []alarmSpec {
	var specs []alarmSpec
	for _, group := range [][]alarmSpec{
		apiAlarms(args), alertAlarms(args), functionAlarms(args), topicAlarms(args), smsAlarms(args), wafAlarms(args), logAlarms(args),
		queueAlarms(args),
		escalationAlarms(args),
	} {
		specs = append(specs, group...)
	}
	return specs
}

// apiAlarms watch what callers see.
func apiAlarms(args *AlarmsArgs) []alarmSpec {
	dims := map[string]string{"ApiName": args.APIName, "Stage": args.StageName}
	return []alarmSpec{
		{
			id:        "api-5xx",
			reason:    "POST /notification answered 5XX: callers got no delivery confirmation; find the request ids in the access log.",
			namespace: "AWS/ApiGateway", metric: "5XXError", statistic: "Sum", dimensions: dims,
			periodSeconds: minute, threshold: 1,
		},
		{
			id:        "api-4xx-rate",
			reason:    fmt.Sprintf("Over %.0f%% of requests in 5 minutes were refused (4XX): a client's token, body or quota is wrong and its alerts are not delivered.", api4xxAlarmRate*100),
			namespace: "AWS/ApiGateway", metric: "4XXError", statistic: "Average", dimensions: dims,
			periodSeconds: fiveMinutes, threshold: api4xxAlarmRate,
		},
	}
}

// alertAlarms watch the outcome of alerts, from the processor's
// embedded-metric-format lines (names.MetricAlerts by names.DimOutcome):
// an alert that reached nobody, and one whose delivery is unknown.
func alertAlarms(args *AlarmsArgs) []alarmSpec {
	outcome := func(o delivery.Outcome) map[string]string { return map[string]string{names.DimOutcome: string(o)} }
	return []alarmSpec{
		{
			id: "alerts-failed",
			reason: "An alert failed on every channel of its contact: no clinician was reached. " +
				"Find it with GET /notification/{message_id}; fix the contact or the channel and send it again.",
			namespace: args.MetricNamespace, metric: names.MetricAlerts, statistic: "Sum", dimensions: outcome(delivery.OutcomeFailed),
			periodSeconds: minute, threshold: 1,
		},
		{
			id: "alerts-unknown",
			reason: "An alert's delivery outcome is unknown (SNS or Connect gave no answer): the clinician may not have it. " +
				"Confirm receipt by another route.",
			namespace: args.MetricNamespace, metric: names.MetricAlerts, statistic: "Sum", dimensions: outcome(delivery.OutcomeUnknown),
			periodSeconds: minute, threshold: 1,
		},
	}
}

// functionAlarms watch each function's errors, throttles and duration.
func functionAlarms(args *AlarmsArgs) []alarmSpec {
	var specs []alarmSpec
	for _, f := range args.Functions {
		id := strings.TrimPrefix(f.Name, args.NamePrefix+"-")
		dims := map[string]string{"FunctionName": f.Name}
		specs = append(specs,
			alarmSpec{
				id:        id + "-errors",
				reason:    fmt.Sprintf("The %s function failed (error, crash or timeout): alerts may have been refused or left undelivered.", id),
				namespace: "AWS/Lambda", metric: "Errors", statistic: "Sum", dimensions: dims,
				periodSeconds: minute, threshold: 1,
			},
			alarmSpec{
				id:        id + "-throttles",
				reason:    fmt.Sprintf("Lambda throttled the %s function (its reserved or the account's concurrency is used up): requests were refused.", id),
				namespace: "AWS/Lambda", metric: "Throttles", statistic: "Sum", dimensions: dims,
				periodSeconds: minute, threshold: 1,
			},
			alarmSpec{
				id:        id + "-duration",
				reason:    fmt.Sprintf("The %s function ran for %.0f%% of its %s timeout: it is close to timing out and failing alerts.", id, durationAlarmShare*100, f.Timeout),
				namespace: "AWS/Lambda", metric: "Duration", statistic: "Maximum", dimensions: dims,
				periodSeconds: minute, threshold: durationAlarmShare * float64(f.Timeout/time.Millisecond),
			},
		)
	}
	return specs
}

// topicAlarms watch each contact topic's failed deliveries.
func topicAlarms(args *AlarmsArgs) []alarmSpec {
	var specs []alarmSpec
	for _, t := range args.TopicNames {
		specs = append(specs, alarmSpec{
			id:        strings.TrimPrefix(t, args.NamePrefix+"-") + "-failed",
			reason:    fmt.Sprintf("SNS failed to deliver a message of topic %s (SMS or email): a clinician may have missed an alert.", t),
			namespace: "AWS/SNS", metric: "NumberOfNotificationsFailed", statistic: "Sum",
			dimensions:    map[string]string{"TopicName": t},
			periodSeconds: minute, threshold: 1,
		})
	}
	return specs
}

// smsAlarms watch the account's SMS spend against its limit.
func smsAlarms(args *AlarmsArgs) []alarmSpec {
	if args.SMSMonthlySpendLimit <= 0 {
		return nil
	}
	return []alarmSpec{{
		id: "sms-spend",
		reason: fmt.Sprintf("SMS spend this month passed %d%% of the USD %g limit: at 100%% SNS stops sending SMS alerts; raise the limit.",
			args.SMSSpendAlarmPercent, args.SMSMonthlySpendLimit),
		namespace: "AWS/SNS", metric: "SMSMonthToDateSpentUSD", statistic: "Maximum", dimensions: map[string]string{},
		periodSeconds: fiveMinutes, threshold: args.SMSMonthlySpendLimit * float64(args.SMSSpendAlarmPercent) / 100,
	}}
}

// wafAlarms watch what the WAF blocked, and what its body rules matched
// but let through.
func wafAlarms(args *AlarmsArgs) []alarmSpec {
	if args.WebACLMetric == "" {
		return nil
	}
	dims := func(rule string) map[string]string {
		return map[string]string{"WebACL": args.WebACLMetric, "Region": args.Region, "Rule": rule}
	}
	return []alarmSpec{
		{
			id:        "waf-blocked",
			reason:    "The WAF blocked requests to POST /notification: if a clinical system sent them, their alerts were missed.",
			namespace: "AWS/WAFV2", metric: "BlockedRequests", statistic: "Sum", dimensions: dims("ALL"),
			periodSeconds: minute, threshold: 1,
		},
		{
			id:        "waf-body-rules",
			reason:    "A WAF body rule matched an alert and let it through (count, not block): check the sampled requests for an attack.",
			namespace: "AWS/WAFV2", metric: "CountedRequests", statistic: "Sum", dimensions: dims(args.BodyRuleMetric),
			periodSeconds: minute, threshold: 1,
		},
	}
}

// logAlarms watch the metrics of logFilterSpecs.
func logAlarms(args *AlarmsArgs) []alarmSpec {
	return []alarmSpec{
		{
			id:        "processor-sent-not-recorded",
			reason:    "An alert was delivered but not recorded: a retry of its message_id would deliver it again; see the processor's log.",
			namespace: args.MetricNamespace, metric: sentNotRecordedMetric, statistic: "Sum", dimensions: map[string]string{},
			periodSeconds: minute, threshold: 1,
		},
		{
			id:        "processor-alert-not-recorded",
			reason:    "A change of an alert record could not be written: its audit trail lacks a step; see the processor's, the worker's or the dead-letter handler's log.",
			namespace: args.MetricNamespace, metric: alertNotRecordedMetric, statistic: "Sum", dimensions: map[string]string{},
			periodSeconds: minute, threshold: 1,
		},
	}
}

// escalationAlarms watch the end of the loop: an alert whose last window
// passed with no acknowledgment (the escalate function's
// names.MetricUnacknowledged, no dimension), and an alert that will not
// escalate because its timer could not be set.
func escalationAlarms(args *AlarmsArgs) []alarmSpec {
	return []alarmSpec{
		{
			id: "alerts-unacknowledged",
			reason: "An alert went unacknowledged through every stage of its escalation policy, fail-safe contact included: " +
				"nobody confirmed receipt. Find it with GET /notification/{message_id} and reach its clinicians by phone.",
			namespace: args.MetricNamespace, metric: names.MetricUnacknowledged, statistic: "Sum", dimensions: map[string]string{},
			periodSeconds: minute, threshold: 1,
		},
		{
			id:        "escalation-timer-not-set",
			reason:    "An escalation timer could not be created: that alert will not escalate unless someone acknowledges it; see the processor's or the escalate function's log.",
			namespace: args.MetricNamespace, metric: timerNotSetMetric, statistic: "Sum", dimensions: map[string]string{},
			periodSeconds: minute, threshold: 1,
		},
	}
}

// logFilterSpecs are the log metric filters the log alarms watch.
func logFilterSpecs(args *AlarmsArgs) []logFilterSpec {
	specs := []logFilterSpec{
		{
			id:       "processor-timer-not-set",
			logGroup: args.ProcessorLogGroup,
			pattern:  errorLinePattern(names.LogTimerNotSet),
			metric:   timerNotSetMetric,
		},
		{
			id:       "escalate-timer-not-set",
			logGroup: args.EscalateLogGroup,
			pattern:  errorLinePattern(names.LogTimerNotSet),
			metric:   timerNotSetMetric,
		},
		{
			id:       "escalate-alert-not-recorded",
			logGroup: args.EscalateLogGroup,
			pattern:  errorLinePattern(names.LogAlertNotRecorded),
			metric:   alertNotRecordedMetric,
		},
		{
			id:       "processor-sent-not-recorded",
			logGroup: args.ProcessorLogGroup,
			pattern:  errorLinePattern(names.LogSentNotRecorded),
			metric:   sentNotRecordedMetric,
		},
		{
			id:       "processor-alert-not-recorded",
			logGroup: args.ProcessorLogGroup,
			pattern:  errorLinePattern(names.LogAlertNotRecorded),
			metric:   alertNotRecordedMetric,
		},
	}
	for _, fn := range slices.Sorted(maps.Keys(args.RecordingLogGroups)) {
		specs = append(specs, logFilterSpec{
			id: fn + "-alert-not-recorded", logGroup: args.RecordingLogGroups[fn],
			pattern: errorLinePattern(names.LogAlertNotRecorded), metric: alertNotRecordedMetric,
		})
	}
	return specs
}

// queueAlarmAge is how long an alert may wait in the alert queue before
// the queue-age alarm fires: five minutes undelivered is clinically late,
// whether the worker is failing, throttled or retrying.
const queueAlarmAge = 5 * minute

// queueAlarms watch the asynchronous path (issue 13): messages left in
// the dead-letter queue, and alerts waiting too long in the alert queue.
// The alerts the dead-letter handler gives up count as failed alerts
// (alerts-failed).
func queueAlarms(args *AlarmsArgs) []alarmSpec {
	return []alarmSpec{
		{
			id: "dead-letter-queue-depth",
			reason: "Messages wait in the dead-letter queue: the dead-letter handler has not given their alerts up (it is failing, " +
				"throttled or its mapping is disabled), or they are not alert events. Each may be an alert neither delivered nor " +
				"marked failed: read its message, GET /notification/{message_id}, and send it again with a new message_id.",
			namespace: "AWS/SQS", metric: "ApproximateNumberOfMessagesVisible", statistic: "Maximum",
			dimensions: map[string]string{"QueueName": args.DeadLetterQueue}, periodSeconds: minute, threshold: 1,
		},
		{
			id: "alert-queue-age",
			reason: fmt.Sprintf("An alert accepted with Prefer: respond-async has waited over %d minutes in the alert queue: "+
				"the worker is failing, throttled, or retrying it; see the worker's log.", queueAlarmAge/minute),
			namespace: "AWS/SQS", metric: "ApproximateAgeOfOldestMessage", statistic: "Maximum",
			dimensions: map[string]string{"QueueName": args.AlertQueue}, periodSeconds: minute, threshold: queueAlarmAge,
		},
	}
}

// errorLinePattern matches the processor's JSON ERROR log line whose
// message is msg (slog's "level" and "msg" keys).
func errorLinePattern(msg string) string {
	return fmt.Sprintf(`{ ($.level = "ERROR") && ($.msg = "%s") }`, msg)
}
