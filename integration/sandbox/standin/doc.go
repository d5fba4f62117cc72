// Package standin holds TEST CODE that stands in for AWS features the
// emulator cannot run, so that the unmodified functions can be tested
// end to end. Each stand-in speaks the real service's wire API or event
// shape, is reached by the functions through an endpoint variable or by
// the emulator through its own APIs, and has an entry on the sandbox's one
// not-emulated list (provision.NotEmulated) saying why it exists.
//
// One file per stand-in:
//
//	connect.go      Amazon Connect StartOutboundVoiceContact (ConnectStub),
//	                with injected faults of each class
//	callscript.go   scripted outcomes of placed calls (answered and 1
//	                pressed, no input, not answered), invoking the ack
//	                function as Connect's flow would
//	schedules.go    EventBridge Scheduler firing (ScheduleFirer: kumo never
//	                fires a schedule)
//	inboundsms.go   an SMS reply, published as AWS End User Messaging
//	                two-way SMS would (PublishInboundSMS)
//	snsproxy.go     SNS failures: a proxy in front of kumo's SNS
//	                (AWS_ENDPOINT_URL_SNS) injecting faults (SNSProxy)
//	queuepoller.go  the SQS -> Lambda event source mapping (kumo stores
//	                mappings and never polls): QueuePoller
//
// Rewriting the events kumo hands the functions (API Gateway's
// requestContext.authorizer) is not a stand-in: it belongs to
// lambdahost.RuntimeProxy.
package standin
