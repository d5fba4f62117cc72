// Package names holds every name that more than one part of a2p-alerts
// must spell the same way: the environment variables the Lambdas read, the
// DynamoDB attribute names, the Pulumi configuration keys and the HTTP
// headers of the API. Infra, services, tests and docs import these
// constants instead of repeating the strings.
package names

// Environment variables read by the Lambda functions. The infra program sets
// them on each function; the sandbox takes them from the deployed resource.
const (
	// EnvAPIClients holds the authorizer's callers: a JSON list of
	// {"client": name, "sha256": hex SHA-256 of the token}.
	EnvAPIClients = "A2P_API_CLIENTS"
	// EnvContactsTable names the DynamoDB table of contacts.
	EnvContactsTable = "A2P_CONTACTS_TABLE"
	// EnvIdempotencyTable names the DynamoDB table of idempotency records.
	EnvIdempotencyTable = "A2P_IDEMPOTENCY_TABLE"
	// EnvIdempotencyTTL is how long a completed record answers replays, as
	// a Go duration ("24h"). Optional; DefaultIdempotencyTTL when unset.
	EnvIdempotencyTTL = "A2P_IDEMPOTENCY_TTL"
	// EnvLockTimeout bounds the in-progress lock when the invocation carries
	// no deadline, as a Go duration. It matches the function's timeout.
	EnvLockTimeout = "A2P_LOCK_TIMEOUT"
	// EnvConnectInstanceID is the Amazon Connect instance id for calls.
	EnvConnectInstanceID = "A2P_CONNECT_INSTANCE_ID"
	// EnvConnectContactFlowID is the outbound contact flow for calls.
	EnvConnectContactFlowID = "A2P_CONNECT_CONTACT_FLOW_ID"
	// EnvConnectSourcePhone is the E.164 number calls come from.
	EnvConnectSourcePhone = "A2P_CONNECT_SOURCE_PHONE"
	// EnvPHIDetectors lists the PHI detectors to apply, comma separated
	// ("nhs_number"), or "none". Optional; all detectors when unset.
	EnvPHIDetectors = "A2P_PHI_DETECTORS"
	// EnvLogLevel is the slog level: DEBUG, INFO, WARN or ERROR. Optional.
	EnvLogLevel = "A2P_LOG_LEVEL"
)

// Attribute names of the contacts table. Every attribute is a string (S).
const (
	// AttrContactID is the contacts table's partition key.
	AttrContactID = "contact_id"
	// AttrContactName is the clinician's display name.
	AttrContactName = "name"
	// AttrPreferencePrefix prefixes the channel preference per priority:
	// "pref_H", "pref_M", "pref_L" hold "call", "sms" or "email".
	AttrPreferencePrefix = "pref_"
	// AttrCallPhone is the E.164 number that voice calls go to.
	AttrCallPhone = "call_phone"
	// AttrSMSTopicARN is the SNS topic whose subscription delivers SMS.
	AttrSMSTopicARN = "sms_topic_arn"
	// AttrEmailTopicARN is the SNS topic whose subscription delivers email.
	AttrEmailTopicARN = "email_topic_arn"
)

// Attribute names of the idempotency table.
const (
	// AttrIdempotencyKey is the idempotency table's partition key: the
	// alert's key, scoped by API client, in the form alert.Key.String
	// writes: the byte length of the client name in decimal, ":", the
	// client name, ":", the message_id ("6:ward-7:lab-1"). The length
	// prefix keeps the form unambiguous whatever printable characters a
	// client name holds (":" included), so two clients' message_ids never
	// share a record.
	AttrIdempotencyKey = "id"
	// AttrClient is the API client of the record (also in the key, kept
	// apart for people reading the table).
	AttrClient = "client"
	// AttrMessageID is the alert's message_id (also in the key).
	AttrMessageID = "message_id"
	// AttrStatus is "INPROGRESS" or "COMPLETED".
	AttrStatus = "status"
	// AttrPayloadHash is the hex SHA-256 of the canonical alert.
	AttrPayloadHash = "payload_hash"
	// AttrLockOwner identifies the invocation holding an in-progress lock:
	// a random value per invocation, not a credential.
	AttrLockOwner = "lock_owner"
	// AttrLockExpiry is when an in-progress lock lapses, Unix milliseconds.
	AttrLockExpiry = "lock_expiry_ms"
	// AttrExpiration is the record's TTL attribute, Unix seconds.
	AttrExpiration = "expiration"
	// AttrResponseStatus is the stored HTTP status of a completed request.
	AttrResponseStatus = "response_status"
	// AttrResponseBody is the stored HTTP body of a completed request.
	AttrResponseBody = "response_body"
	// AttrChannel is the channel a completed request tried: call, sms or
	// email.
	AttrChannel = "channel"
	// AttrFailureClass is, for a completed request whose delivery failed,
	// the delivery.Class: "permanent" or "ambiguous" (outcome unknown).
	AttrFailureClass = "failure_class"
)

// HTTP headers of the API.
const (
	// HeaderAuthorization carries the caller's API token.
	HeaderAuthorization = "Authorization"
	// HeaderIdempotentReplay is "true" on a response replayed from the
	// idempotency store.
	HeaderIdempotentReplay = "Idempotent-Replay"
	// HeaderRetryAfter tells a caller when an in-progress request may be
	// retried, in seconds.
	HeaderRetryAfter = "Retry-After"
	// HeaderRequestID echoes the Lambda request id on every response.
	HeaderRequestID = "X-Request-Id"
)

// Authorizer context keys, passed by API Gateway to the processor in the
// proxy event's requestContext.authorizer (with the principalId).
const (
	// AuthContextClient is the name of the authenticated API client. The
	// processor scopes idempotency by it and refuses (500) a request that
	// has neither it nor a principalId.
	AuthContextClient = "client"
	// AuthContextPrincipalID is where API Gateway puts the authorizer's
	// principalId in the proxy event.
	AuthContextPrincipalID = "principalId"
)

// Fixed names of the API.
const (
	// NotificationPath is the API resource that accepts alerts.
	NotificationPath = "notification"
	// ConnectMessageAttribute is the contact attribute holding the escaped
	// text the contact flow speaks inside <speak>.
	ConnectMessageAttribute = "message_ssml"
)

// Pulumi configuration keys of the infra program, in the project's
// namespace ("a2p-alerts:<key>"). The README's configuration table lists
// exactly these (a test in infra checks it).
const (
	// ConfigContacts is the list of clinicians to alert (structured).
	ConfigContacts = "contacts"
	// ConfigAPIClients is the list of API callers: name and token hash.
	ConfigAPIClients = "apiClients"
	// ConfigConnectInstanceID is an existing Amazon Connect instance id.
	ConfigConnectInstanceID = "connectInstanceId"
	// ConfigCreateConnectInstance creates a Connect instance when true.
	ConfigCreateConnectInstance = "createConnectInstance"
	// ConfigSourcePhoneNumber is the E.164 number calls come from.
	ConfigSourcePhoneNumber = "sourcePhoneNumber"
	// ConfigClaimPhoneNumberCountry claims a Connect number in this ISO
	// country code when no source number is given.
	ConfigClaimPhoneNumberCountry = "claimPhoneNumberCountry"
	// ConfigVoice is the Amazon Polly voice of the contact flow.
	ConfigVoice = "voice"
	// ConfigProtection is "none" (dev) or "full" (prod: point-in-time
	// recovery, deletion protection, retain on delete).
	ConfigProtection = "protection"
	// ConfigLogRetentionDays is the CloudWatch log retention in days.
	ConfigLogRetentionDays = "logRetentionDays"
	// ConfigLambdaArch is the Lambda architecture: arm64 or x86_64.
	ConfigLambdaArch = "lambdaArch"
	// ConfigArtifactDir is the folder holding <function>.zip from make build.
	ConfigArtifactDir = "artifactDir"
	// ConfigThrottleRateLimit is the stage's steady requests per second.
	ConfigThrottleRateLimit = "throttleRateLimit"
	// ConfigThrottleBurstLimit is the stage's burst of requests.
	ConfigThrottleBurstLimit = "throttleBurstLimit"
	// ConfigEnableWAF attaches an AWS WAF web ACL to the stage when true.
	ConfigEnableWAF = "enableWaf"
	// ConfigAuthorizerCacheTTL is the authorizer result TTL in seconds.
	ConfigAuthorizerCacheTTL = "authorizerCacheTtl"
	// ConfigIdempotencyTTL is how long replays are answered ("24h").
	ConfigIdempotencyTTL = "idempotencyTtl"
	// ConfigPHIDetectors lists the PHI detectors to enforce.
	ConfigPHIDetectors = "phiDetectors"
	// ConfigLogLevel is the functions' log level.
	ConfigLogLevel = "logLevel"
)

// Defaults shared by the services and the infra program.
const (
	// DefaultIdempotencyTTL is how long a completed alert answers replays.
	DefaultIdempotencyTTL = "24h"
)

// Stack outputs of the infra program (`pulumi stack output --json`). The
// integration tests read an external deployment through these keys.
const (
	// OutputNotificationURL is the invoke URL of POST /notification.
	OutputNotificationURL = "notificationUrl"
	// OutputRestAPIID is the REST API id (the sandbox's Host header).
	OutputRestAPIID = "restApiId"
	// OutputStageName is the API stage.
	OutputStageName = "stageName"
	// OutputContactsTable is the contacts table name.
	OutputContactsTable = "contactsTable"
	// OutputIdempotencyTable is the idempotency table name.
	OutputIdempotencyTable = "idempotencyTable"
	// OutputTopicARNs maps "<contact id>/<channel>" to its topic ARN.
	OutputTopicARNs = "topicArns"
	// OutputAuthorizerFunction is the authorizer Lambda's name.
	OutputAuthorizerFunction = "authorizerFunction"
	// OutputProcessorFunction is the processor Lambda's name.
	OutputProcessorFunction = "processorFunction"
	// OutputContactFlowID is the Connect contact flow id.
	OutputContactFlowID = "contactFlowId"
)

// Function names used as Pulumi logical names and artefact names: the build
// writes build/lambda/<name>.zip.
const (
	// FunctionAuthorizer is the authorizer function's logical name.
	FunctionAuthorizer = "authorizer"
	// FunctionProcessor is the processor function's logical name.
	FunctionProcessor = "processor"
)

// Pulumi configuration keys added after the first list (same namespace and
// the same README table).
const (
	// ConfigManageAPIGatewayAccount makes the stack own the region's API
	// Gateway account settings (the CloudWatch Logs role that access logging
	// needs) when true. The setting is a per-account, per-region singleton.
	ConfigManageAPIGatewayAccount = "manageApiGatewayAccount"
)

// Pulumi configuration keys of the deploy and operations work (issue 9):
// same namespace, same README table.
const (
	// ConfigConnectInstanceAlias names a created Connect instance (1 to 45
	// lower-case letters, digits and single hyphens, not starting "d-").
	// Default: the stack's name prefix and a hash of account and region.
	ConfigConnectInstanceAlias = "connectInstanceAlias"
	// ConfigAlarmEmail, when set, subscribes this address to the
	// operations topic that every alarm notifies.
	ConfigAlarmEmail = "alarmEmail"
	// ConfigSMSMonthlySpendLimit is the account's SNS SMS monthly spend
	// limit in USD, which the spend alarm measures against.
	ConfigSMSMonthlySpendLimit = "smsMonthlySpendLimit"
	// ConfigSMSSpendAlarmPercent is the share of that limit, in percent,
	// at which the spend alarm fires.
	ConfigSMSSpendAlarmPercent = "smsSpendAlarmPercent"
	// ConfigClientRateLimit is each API client's steady requests per
	// second (its usage plan), unless the client sets its own.
	ConfigClientRateLimit = "clientRateLimit"
	// ConfigClientBurstLimit is each API client's burst of requests.
	ConfigClientBurstLimit = "clientBurstLimit"
	// ConfigClientDailyQuota is each API client's requests per day; 0 is
	// no quota.
	ConfigClientDailyQuota = "clientDailyQuota"
	// ConfigAuthorizerReservedConcurrency reserves concurrency for the
	// authorizer function (unset: none reserved).
	ConfigAuthorizerReservedConcurrency = "authorizerReservedConcurrency"
	// ConfigProcessorReservedConcurrency reserves concurrency for the
	// processor function (unset: none reserved).
	ConfigProcessorReservedConcurrency = "processorReservedConcurrency"
)

// Stack outputs of the operations work (issue 9).
const (
	// OutputOperationsTopicARN is the SNS topic every alarm notifies;
	// subscribe a pager or chat integration to it.
	OutputOperationsTopicARN = "operationsTopicArn"
)

// Log messages that alarms match. The service writes each one as the "msg"
// of an ERROR line and the infra program's log metric filter matches it
// exactly, so the two cannot drift apart.
const (
	// LogSentNotRecorded: the alert was delivered but its idempotency
	// record could not be saved, so a retry would deliver it again.
	LogSentNotRecorded = "the provider was called but the idempotency record could not be saved; a retry of this message_id after the lock lapses will send again"
)

// Names added by the service-hardening issue: SMS content (public vs secure
// text).
const (
	// EnvSMSContent is "full" or "minimal" (render.SMSContent): how much
	// of an alert its SMS carries. Optional; full when unset.
	EnvSMSContent = "A2P_SMS_CONTENT"
	// ConfigSMSContent is the stack setting behind EnvSMSContent.
	ConfigSMSContent = "smsContent"
)

// X-Ray annotations on the processor's segment, indexed by X-Ray. None of
// them holds PHI.
const (
	// AnnotationMessageID is the alert's message_id.
	AnnotationMessageID = "message_id"
	// AnnotationChannel is the channel used: call, sms or email.
	AnnotationChannel = "channel"
	// AnnotationPriority is the alert's priority: H, M or L.
	AnnotationPriority = "priority"
	// AnnotationOutcome is the request's outcome: OutcomeSent,
	// OutcomeReplay or the api.Code of a failure.
	AnnotationOutcome = "outcome"
)

// Outcomes of a request besides the api.Code of a failure, in the
// processor's log line and its AnnotationOutcome.
const (
	// OutcomeSent: the alert was delivered now.
	OutcomeSent = "sent"
	// OutcomeReplay: the answer of an earlier delivery was replayed.
	OutcomeReplay = "replay"
)

// Names added by the alert-lifecycle issue (11): the alerts table, the
// status function, GET /notification/{message_id}, fallback and metrics.
const (
	// EnvAlertsTable names the DynamoDB table of alert records.
	EnvAlertsTable = "A2P_ALERTS_TABLE"
	// EnvAlertRetentionDays is how long an alert record is kept, in whole
	// days (the alerts table's TTL). Optional; DefaultAlertRetentionDays.
	EnvAlertRetentionDays = "A2P_ALERT_RETENTION_DAYS"
	// EnvFallbackOnUnknown is "true" when an attempt whose outcome is
	// unknown (ambiguous) falls back to the next channel. Optional; false.
	EnvFallbackOnUnknown = "A2P_FALLBACK_ON_UNKNOWN"
	// EnvMetricsNamespace is the CloudWatch namespace of the processor's
	// embedded-metric-format lines. Optional; no metrics when unset.
	EnvMetricsNamespace = "A2P_METRICS_NAMESPACE"

	// ConfigAlertRetentionDays is the stack setting behind
	// EnvAlertRetentionDays.
	ConfigAlertRetentionDays = "alertRetentionDays"
	// ConfigFallbackOnUnknown is the stack setting behind
	// EnvFallbackOnUnknown.
	ConfigFallbackOnUnknown = "fallbackOnUnknown"
	// DefaultAlertRetentionDays is how long alert records are kept.
	DefaultAlertRetentionDays = 90

	// OutputAlertsTable is the alerts table name.
	OutputAlertsTable = "alertsTable"
	// OutputStatusFunction is the status Lambda's name.
	OutputStatusFunction = "statusFunction"
	// FunctionStatus is the read-only function behind
	// GET /notification/{message_id}.
	FunctionStatus = "status"

	// HeaderLocation names the alert's record in a POST answer:
	// <stage path>/notification/<message_id>.
	HeaderLocation = "Location"
	// PathParamMessageID is the path parameter of
	// GET /notification/{message_id}.
	PathParamMessageID = "message_id"
)

// Functions lists every Lambda function the stack deploys, in the order
// their packages are built, checked and created. A new function is added
// here (and to scripts/lambdazip's packages).
var Functions = []string{FunctionAuthorizer, FunctionProcessor, FunctionStatus, FunctionAck, FunctionEscalate, FunctionWorker, FunctionDeadLetter}

// AuthorizedRoutes lists every method and resource path behind the
// authorizer, as the end of an execute-api ARN ("<METHOD>/<path>", with
// "*" for a path parameter). The authorizer's Allow policy names each of
// them, so that an answer API Gateway caches for a token (per token, not
// per route) lets that token's next request through on any of them; the
// infra tests check that every method behind the authorizer is listed.
var AuthorizedRoutes = []string{
	"POST/" + NotificationPath,
	"GET/" + NotificationPath + "/*",
	"POST/" + NotificationPath + "/*/" + AckPath,
}

// Attribute names of the alerts table. One partition per alert key; each
// alert instance (a message_id may be reused once its idempotency record
// has expired) is a group of items whose sort keys start with the
// instance: "<instance>#STATE", "<instance>#ATTEMPT#<nnn>",
// "<instance>#EVENT#<nnnnnn>". The instance is the accepted time in Unix
// milliseconds (13 digits) and 8 hex digits, so the newest instance sorts
// last.
const (
	// AttrPK is the partition key: alert.Key.String (it always starts with
	// a digit; other item kinds use prefixes that cannot).
	AttrPK = "pk"
	// AttrSK is the sort key (see above).
	AttrSK = "sk"
	// AttrKind is the item's kind: "state", "attempt" or "event".
	AttrKind = "kind"
	// AttrInstance is the alert instance (also in the sort key); the
	// idempotency item holds it too, naming the instance it belongs to.
	AttrInstance = "instance"
	// AttrVersion counts the state item's changes; every change is
	// written on the condition that it is unchanged since read.
	AttrVersion = "version"
	// AttrAlertStatus is the alert's (state) or the attempt's status.
	AttrAlertStatus = "status"
	// AttrPriority is the alert's priority.
	AttrPriority = "priority"
	// AttrChannels is the ordered channel list tried ("call,sms").
	AttrChannels = "channels"
	// AttrContent is the alert as sent (JSON): kept for re-sending, never
	// returned by an API and never logged.
	AttrContent = "content"
	// AttrAcceptedAt, AttrSentAt and AttrUpdatedAt are Unix milliseconds.
	AttrAcceptedAt = "accepted_at_ms"
	AttrSentAt     = "sent_at_ms"
	AttrUpdatedAt  = "updated_at_ms"
	// AttrAttemptCount is how many attempts the alert has.
	AttrAttemptCount = "attempt_count"
	// AttrExpiresAt is the alerts table's TTL attribute, Unix seconds.
	AttrExpiresAt = "expires_at"
	// AttrAttempt is an attempt's number (attempt and event items).
	AttrAttempt = "attempt"
	// AttrStartedAt and AttrEndedAt are an attempt's times, Unix ms.
	AttrStartedAt = "started_at_ms"
	AttrEndedAt   = "ended_at_ms"
	// AttrProviderRef is the SNS MessageId or the Connect ContactId.
	AttrProviderRef = "provider_ref"
	// AttrFailureCode is the provider's error code (no PHI).
	AttrFailureCode = "failure_code"
	// AttrSeq is an event's sequence number in its alert.
	AttrSeq = "seq"
	// AttrEventType is an event's delivery.EventType.
	AttrEventType = "type"
	// AttrAt is an event's time, Unix ms.
	AttrAt = "at_ms"
	// AttrActor is who caused an event (delivery.Actor.String).
	AttrActor = "actor"
	// AttrFromChannel is, on a fallback event, the channel that failed.
	AttrFromChannel = "from_channel"
)

// CloudWatch metrics of the processor, in the stack's namespace
// (EnvMetricsNamespace), written as embedded-metric-format log lines. No
// dimension holds PHI: each takes a fixed set of values.
const (
	// MetricAlerts counts finished alerts by DimOutcome (and DimPriority).
	MetricAlerts = "Alerts"
	// MetricAttempts counts attempts by DimChannel and DimResult.
	MetricAttempts = "Attempts"
	// MetricFallbacks counts fallbacks to a next channel, by DimPriority.
	MetricFallbacks = "Fallbacks"
	// MetricAcceptedToSent is the milliseconds from accepted to sent, by
	// DimPriority.
	MetricAcceptedToSent = "AcceptedToSentLatency"
	// DimPriority is H, M or L.
	DimPriority = "Priority"
	// DimOutcome is sent, failed, unknown or retry (every attempt failed
	// transiently: the caller may retry).
	DimOutcome = "Outcome"
	// DimChannel is call, sms or email.
	DimChannel = "Channel"
	// DimResult is sent or the failure class.
	DimResult = "Result"
	// LogAlertNotRecorded: a change of an alert record could not be
	// written (a conflicting write, or DynamoDB failed); the audit lacks it.
	LogAlertNotRecorded = "an alert record change could not be written; the record and its audit trail lack it"
)

// Names added by the acknowledgment and escalation issue (12): the ack and
// escalate functions, their routes, the escalation timers, the record's
// acknowledgment attributes and metrics.
const (
	// FunctionAck acknowledges alerts, whichever way the acknowledgment
	// arrives: POST /notification/{message_id}/ack, GET and POST
	// /ack/{token}, the contact flow's keypad, an SMS reply.
	FunctionAck = "ack"
	// FunctionEscalate runs one escalation timer (an EventBridge
	// Scheduler schedule's target).
	FunctionEscalate = "escalate"

	// EnvEscalation is the stack's escalation policies and fail-safe
	// contact, as escalation.Set's JSON. Optional; nothing escalates.
	EnvEscalation = "A2P_ESCALATION"
	// EnvAckBaseURL is the public base of the acknowledgment links
	// (<base>/ack/<token>): the stage's URL, or the stack's ackBaseUrl.
	EnvAckBaseURL = "A2P_ACK_BASE_URL"
	// EnvAckGrace is how long after an alert's window its links and codes
	// still acknowledge it (late), as a Go duration.
	EnvAckGrace = "A2P_ACK_GRACE"
	// EnvAckReplyCodes is "true" when SMS replies reach the ack function
	// (the stack's twoWaySms): only then does an SMS carry a reply code.
	EnvAckReplyCodes = "A2P_ACK_REPLY_CODES"
	// EnvScheduleGroup is the EventBridge Scheduler group of the timers.
	EnvScheduleGroup = "A2P_SCHEDULE_GROUP"
	// EnvEscalateFunctionARN is the timers' target.
	EnvEscalateFunctionARN = "A2P_ESCALATE_FUNCTION_ARN"
	// EnvSchedulerRoleARN is the role the scheduler invokes it with.
	EnvSchedulerRoleARN = "A2P_SCHEDULER_ROLE_ARN"

	// AckPath is the last path part of POST /notification/{message_id}/ack
	// and the first of /ack/{token}.
	AckPath = "ack"
	// PathParamToken is the path parameter of /ack/{token}.
	PathParamToken = "token"

	// Contact attributes of a call, which the contact flow hands the ack
	// function with the ContactId: the alert's key (stored form), its
	// instance and the attempt's number. The ack function accepts a keypad
	// acknowledgment only when that attempt recorded that ContactId.
	ConnectAlertAttribute    = "a2p_alert"
	ConnectInstanceAttribute = "a2p_instance"
	ConnectAttemptAttribute  = "a2p_attempt"

	// OutputAckFunction, OutputEscalateFunction and OutputScheduleGroup
	// name the ack and escalate functions and the timers' group.
	OutputAckFunction      = "ackFunction"
	OutputEscalateFunction = "escalateFunction"
	OutputScheduleGroup    = "scheduleGroup"
	// OutputInboundSMSTopicARN is the topic two-way SMS publishes replies
	// to; "" when the stack takes no replies.
	OutputInboundSMSTopicARN = "inboundSmsTopicArn"
	// OutputAckBaseURL is EnvAckBaseURL's value.
	OutputAckBaseURL = "ackBaseUrl"

	// ConfigEscalation is the escalation policy per priority (structured:
	// H, M, L to "none" or {stages: [{after, targets}],
	// unacknowledgedAfter}); unset priorities take the defaults.
	ConfigEscalation = "escalation"
	// ConfigFailSafeContact is the contact id the policies' fail-safe
	// target reaches (the site's on-call or bleep holder).
	ConfigFailSafeContact = "failSafeContact"
	// ConfigTestStack marks a stack that runs tests: escalation windows
	// and the ack grace may then be given in seconds. Refused with
	// protection: full.
	ConfigTestStack = "testStack"
	// ConfigAckGrace is how long after an alert's window its links and
	// codes still acknowledge it (late).
	ConfigAckGrace = "ackGrace"
	// ConfigAckBaseURL is the public base of acknowledgment links (a
	// custom domain); unset, the stage's execute-api URL.
	ConfigAckBaseURL = "ackBaseUrl"
	// ConfigTwoWaySMS creates the topic two-way SMS publishes replies to,
	// and subscribes the ack function to it.
	ConfigTwoWaySMS = "twoWaySms"

	// LogTimerNotSet: an escalation timer could not be created, so the
	// alert will not escalate (an alarm watches for it).
	LogTimerNotSet = "an escalation timer could not be set; the alert will not escalate unless someone acknowledges it"
)

// Attribute names of the alerts table added by issue 12: the state item's
// policy, stage and acknowledgment; the lookup items of ack tokens and
// codes (partition "ACKTOKEN#<hash>" or "ACKCODE#<hash>", sort key the
// same word); the contacts table's secondary and SMS number.
const (
	// AttrPolicy is the escalation policy in force, as JSON (absent when
	// it asks for no acknowledgment).
	AttrPolicy = "policy"
	// AttrStage is the alert's escalation stage (state, attempt, event):
	// 0 until it escalates.
	AttrStage = "stage"
	// AttrAckedAt, AttrAckedBy, AttrAckMethod and AttrAckAttempt record the
	// acknowledgment: when (Unix ms), who (an actor), how (a
	// delivery.AckMethod) and for which attempt (0: none).
	AttrAckedAt    = "acked_at_ms"
	AttrAckedBy    = "acked_by"
	AttrAckMethod  = "ack_method"
	AttrAckAttempt = "ack_attempt"
	// AttrLate is 1 on an acknowledgment after the alert's window.
	AttrLate = "late"
	// AttrTarget is, on a skipped target's event, the target.
	AttrTarget = "target"
	// AttrAlertKey names, on a lookup item, the alert's key (stored form).
	AttrAlertKey = "alert"
	// AttrValidUntil is when a lookup stops acknowledging, Unix ms.
	AttrValidUntil = "valid_until_ms"
	// AttrUsedAt is when a lookup was used, Unix ms (single use).
	AttrUsedAt = "used_at_ms"
	// AttrSecondary is a contact's secondary contact id (contacts table).
	AttrSecondary = "secondary"
	// AttrSMSPhone is the E.164 number a contact's SMS go to (contacts
	// table): SMS replies are matched on it.
	AttrSMSPhone = "sms_phone"
)

// Metrics of acknowledgment and escalation (same namespace and format as
// the processor's).
const (
	// MetricAcceptedToAcknowledged is the milliseconds from accepted to
	// acknowledged, by DimPriority.
	MetricAcceptedToAcknowledged = "AcceptedToAcknowledgedLatency"
	// MetricAcknowledgments counts acknowledgments by DimPriority and
	// DimMethod.
	MetricAcknowledgments = "Acknowledgments"
	// MetricEscalations counts stages reached, by DimPriority.
	MetricEscalations = "Escalations"
	// MetricUnacknowledged counts alerts whose window passed without an
	// acknowledgment (no dimension, and by DimPriority): an alarm fires.
	MetricUnacknowledged = "AlertsUnacknowledged"
	// DimMethod is api, link, keypad or sms.
	DimMethod = "Method"
)

// The Go runtime's own GOGC, which the infra program sets on the processor
// function (issue 14).
const (
	// EnvGoGC is GOGC, read by the Go runtime as the process starts,
	// before any package initialises: the only setting that reaches the
	// SDKs' package initialisation, which allocates about 4 MB and, at Go's
	// default of 100, pays a garbage collection before main (measured: 2 to
	// 5 ms of the processor's cold start).
	EnvGoGC = "GOGC"
	// ProcessorGCPercent is the processor's GOGC. It keeps a few MiB alive
	// and allocates about 300 KiB per request; package tune applies the
	// same value when the environment sets none.
	ProcessorGCPercent = 400
)

// Names of the processor's profiling switch (issue 14). The infra program
// never sets them: they are for measuring the processor in the sandbox.
const (
	// EnvCPUProfile, when set, names a file the processor writes a CPU
	// profile of its whole run into (package profiling): written when the
	// process gets SIGTERM or SIGINT, after which it exits. Unset, nothing
	// is profiled.
	EnvCPUProfile = "A2P_CPU_PROFILE"
)

// Names added by the asynchronous path (issue 13): Prefer: respond-async,
// the event bus and its event, the alert queue and its dead-letter queue,
// the worker and the dead-letter handler, and their settings.
const (
	// HeaderPrefer carries the caller's preferences (RFC 7240);
	// PreferRespondAsync asks POST /notification to answer 202 once the
	// alert is accepted and queued, and deliver it afterwards.
	HeaderPrefer       = "Prefer"
	PreferRespondAsync = "respond-async"
	// HeaderPreferenceApplied says which preference the answer honoured:
	// PreferRespondAsync on a 202 (and on its replays).
	HeaderPreferenceApplied = "Preference-Applied"

	// EnvEventBus names the event bus the processor puts accepted alerts
	// on. Unset, the processor ignores Prefer: respond-async and delivers
	// every alert at once.
	EnvEventBus = "A2P_EVENT_BUS"
	// EnvAlertQueueURL is the alert queue's URL, whose requeued messages
	// the worker defers (EnvRetryDelay).
	EnvAlertQueueURL = "A2P_ALERT_QUEUE_URL"
	// EnvRetryDelay is how long the worker keeps a requeued message
	// invisible before its next receive, as a Go duration (whole seconds).
	// Optional; DefaultAsyncRetryDelay.
	EnvRetryDelay = "A2P_RETRY_DELAY"
	// EnvDeliveryTimeout is the longest one delivering invocation (the
	// worker's function timeout) runs, as a Go duration: an attempt still
	// sending that started longer ago than this (plus a margin) belongs to
	// an invocation that is over. Set on the worker and the dead-letter
	// handler.
	EnvDeliveryTimeout = "A2P_DELIVERY_TIMEOUT"

	// EventSource and EventDetailTypeAccepted are the source and
	// detail-type of the event the processor puts on the bus for each
	// alert it accepts for later delivery; the bus's rule matches them.
	EventSource             = "a2p-alerts"
	EventDetailTypeAccepted = "Alert Accepted"

	// FunctionWorker delivers queued alerts (the alert queue's event
	// source mapping); FunctionDeadLetter gives up the alerts whose
	// message reached the dead-letter queue (its own mapping).
	FunctionWorker     = "worker"
	FunctionDeadLetter = "deadletter"

	// ConfigAsyncMaxReceiveCount is how often the alert queue hands a
	// message out before moving it to the dead-letter queue (its redrive
	// policy's maxReceiveCount).
	ConfigAsyncMaxReceiveCount = "asyncMaxReceiveCount"
	// ConfigAsyncRetryDelay is the stack setting behind EnvRetryDelay.
	ConfigAsyncRetryDelay = "asyncRetryDelay"
	// DefaultAsyncMaxReceiveCount is the alert queue's maxReceiveCount.
	DefaultAsyncMaxReceiveCount = 5
	// DefaultAsyncRetryDelay is how long a requeued alert waits.
	DefaultAsyncRetryDelay = "30s"

	// OutputEventBusName is the event bus's name (other consumers, such as
	// an audit archive, add their own rules to it).
	OutputEventBusName = "eventBusName"
	// OutputAlertQueueURL and OutputDeadLetterQueueURL are the queues'
	// URLs.
	OutputAlertQueueURL      = "alertQueueUrl"
	OutputDeadLetterQueueURL = "deadLetterQueueUrl"
	// OutputWorkerFunction and OutputDeadLetterFunction are the functions'
	// names.
	OutputWorkerFunction     = "workerFunction"
	OutputDeadLetterFunction = "deadLetterFunction"

	// AttrReason is a failed event's delivery.Reason (alerts table).
	AttrReason = "reason"

	// OutcomeQueued: a request's outcome (log line, X-Ray annotation) when
	// the alert was accepted and queued: the 202 answer.
	OutcomeQueued = "queued"
)
