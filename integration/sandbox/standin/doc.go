// Package standin holds TEST CODE that stands in for AWS features the
// emulator cannot run, so that the unmodified functions can be tested
// end to end. Each stand-in speaks the real service's wire API or event
// shape, is reached by the functions through an endpoint variable or by
// the emulator through its own APIs, and has an entry on the sandbox's one
// not-emulated list (provision.NotEmulated) saying why it exists.
//
// One file per stand-in:
//
//	connect.go   Amazon Connect StartOutboundVoiceContact (ConnectStub),
//	             with injected faults of each class
//	snsproxy.go  SNS failures: a proxy in front of kumo's SNS
//	             (AWS_ENDPOINT_URL_SNS) injecting faults (SNSProxy)
//	queuepoller.go  the SQS -> Lambda event source mapping (kumo stores
//	                mappings and never polls): QueuePoller
//
// and the planned homes of the next ones, each in its own file here:
//
//	schedules.go    EventBridge Scheduler firing (kumo never fires a
//	                schedule)
//	callscript.go   scripted outcomes of placed calls, invoking the ack
//	                function as Connect's flow would
//	inboundsms.go   publishing an inbound SMS reply as AWS End User
//	                Messaging would
//
// Rewriting the events kumo hands the functions (API Gateway's
// requestContext.authorizer) is not a stand-in: it belongs to
// lambdahost.RuntimeProxy.
package standin
