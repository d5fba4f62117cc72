// Package sandbox runs a2p-alerts offline: the real Pulumi program and the
// real Lambda binaries against a real AWS emulator (kumo), in seconds, with
// no AWS account, no Pulumi AWS provider and no Docker. The integration
// tests, `make dev` and `make demo` all drive it.
//
// # Pieces
//
//   - Emulator: kumo (github.com/sivchari/kumo, built from tools/go.mod by
//     LocateKumo, or $A2P_KUMO_BIN) as a child process on 127.0.0.1, health
//     checked before use.
//   - Provisioner: a Pulumi mock resource monitor. Deploy runs the program
//     exactly as `pulumi up` would (the same function, configuration from a
//     stack file, see LoadStack) and the provisioner creates each resource
//     in kumo with aws-sdk-go-v2, answering the state the AWS provider would
//     (ids, ARNs, `<name>-<7 hex>` auto-names, invoke ARNs). The types kumo
//     cannot host are on one list, notEmulated, and recorded instead; any
//     other unknown type fails the deploy, naming it.
//   - Functions: each deployed function's bootstrap, from the very zip the
//     deploy uploaded, runs as a child process with the environment of the
//     deployed resource plus what Lambda sets, AWS_ENDPOINT_URL at kumo and
//     AWS_LAMBDA_RUNTIME_API at the runtime proxy (a path
//     <host:port>/_runtime/<function name> that forwards to kumo's).
//   - ConnectStub: test code standing in for Amazon Connect
//     (StartOutboundVoiceContact), which no emulator has; the functions get
//     AWS_ENDPOINT_URL_CONNECT pointing at it.
//   - XRayCollector: a UDP listener given to the functions as
//     AWS_XRAY_DAEMON_ADDRESS, keeping each segment document.
//   - Tap: an SQS queue subscribed to every deployed topic, so each email
//     and SMS publish is seen.
//
// # Starting a sandbox
//
//	// Once: build the functions for this machine.
//	err := sandbox.BuildFunctions(ctx, root, filepath.Join(root, "build", "sandbox"), nil)
//	cfg, err := sandbox.LoadStack(filepath.Join(root, "Pulumi.local.yaml"))
//	cfg.Values["a2p-alerts:artifactDir"] = filepath.Join(root, "build", "sandbox")
//	cfg.Values["a2p-alerts:lambdaArch"] = sandbox.HostLambdaArch()
//	sb, err := sandbox.Start(ctx, sandbox.Options{
//		Program: func(ctx *pulumi.Context) error { _, err := stack.Program(ctx); return err },
//		Config:  cfg.Values, Project: cfg.Project, Stack: cfg.Stack,
//		Port:    0, // sandbox.DevPort for make dev
//	})
//	defer sb.Close()
//	fmt.Println(sb.Timings) // emulator, deploy, tap, functions, total
//	url := sb.Deployment.OutputString(names.OutputNotificationURL)
//	resp, err := sb.HTTPClient().Post(url, "application/json", body)
//
// Stack outputs have the shape of `pulumi stack output --json`. The stage's
// invokeUrl (and so the notification URL) is the emulator's virtual host,
// http://<api id>.execute-api.localhost:<port>/<stage>, which curl resolves
// by itself and HTTPClient dials for Go.
//
// # Processes
//
// Every child (kumo, each function) runs in its own process group
// (Setpgid) and is started from one OS thread locked for the life of the
// process with Pdeathsig=SIGKILL, so the kernel kills it when the parent
// dies by any means: a panic, a test timeout, SIGKILL, or Ctrl-C (which
// signals the terminal's foreground group, not the children's own groups).
// Stop and Close kill each whole group with SIGKILL and return once the
// leader is reaped; both are safe to call twice. Each child's output is
// kept (OutputBuffer) for a failing test to print (Sandbox.Logs).
//
// # Readiness
//
// A function is ready when kumo hands an invocation to its poll. Until a
// process first polls GET /_runtime/<fn>/2018-06-01/runtime/invocation/next,
// kumo answers every Invoke at once with 502 ServiceException "function
// <fn> has no runtime handler" (500 through API Gateway). WaitReady invokes
// a probe payload until that stops; the runtime proxy answers the probe
// itself, so no function code runs (the authorizer takes raw bytes and
// would run on any payload). Every wait has a deadline; nothing sleeps and
// hopes.
//
// # kumo v0.33.1: facts this package relies on
//
// Read from its source (internal/service/...) and checked by this
// package's tests unless marked "source".
//
// Server and process:
//   - KUMO_HOST and KUMO_PORT set both where kumo listens and the base URL
//     of its own call-backs (API Gateway -> Lambda invoke). With
//     KUMO_HOST=127.0.0.1 it binds loopback only and calls back to
//     http://127.0.0.1:<port>; the default binds 0.0.0.0 and calls back to
//     localhost. GET /health answers {"status":"healthy"} once listening
//     (20-50 ms after start). A port in use makes kumo exit with status 1.
//   - It logs one INFO line per request to stdout (KUMO_LOG_LEVEL=warn
//     silences them) and about 170 service lines at start.
//   - Routes of REST services are scoped by the SigV4 credential scope's
//     service name; the Runtime API routes need no signature.
//
// Account and region:
//   - STS GetCallerIdentity answers account 000000000000; every ARN uses it
//     except IAM's, which use 123456789012.
//   - Lambda, DynamoDB, KMS and CloudWatch Logs put the kumo process's
//     AWS_DEFAULT_REGION in their ARNs (the sandbox sets the stack's
//     region). SNS, SQS and execute-api hard-code us-east-1, whatever the
//     region, and SQS queue URLs always say http://localhost:4566 (SDK calls
//     still work: the SDK sends them to its own endpoint).
//
// Lambda:
//   - CreateFunction requires Role and keeps the zip (CodeSha256, size); it
//     runs nothing. Functions run only as Runtime API clients at
//     /_runtime/{functionName}/2018-06-01/runtime/{invocation/next,
//     invocation/{id}/response, invocation/{id}/error, init/error}, or via
//     the kumo-only InvokeEndpoint (unused here).
//   - Once any process has polled for a function, kumo treats it as
//     Runtime-API backed for good: a later invoke waits up to 30 s (source:
//     runtimePickupTimeout) for a poller instead of failing fast. Restart a
//     function's process, not kumo's memory of it.
//   - The function's Timeout (default 3 s) is the invocation deadline
//     (Lambda-Runtime-Deadline-Ms); a late answer is a Sandbox.Timedout
//     function error.
//   - NEW: /next sends no Lambda-Runtime-Trace-Id, so aws-lambda-go puts an
//     empty trace header in the context and the X-Ray SDK never samples:
//     a function emits no segment at all. The runtime proxy adds the header
//     as Lambda does (Sampled=1 for Active tracing). With it, the
//     processor's subsegments reach the collector.
//   - Lambda-Runtime-Invoked-Function-Arn says region "local"
//     (arn:aws:lambda:local:000000000000:function:<fn>) (source).
//   - No PutFunctionConcurrency, no versions or aliases beyond $LATEST
//     (source).
//
// API Gateway (REST) and execute-api:
//   - Implemented: RestApi, Resource, Method, Integration, Authorizer,
//     Deployment, Stage (create/get/delete). Not implemented: Model,
//     RequestValidator, UpdateStage (so MethodSettings: no throttling),
//     account settings, method/integration responses, usage plans, API
//     keys, OpenAPI import. Method requestModels and requestValidatorId are
//     accepted and ignored: bodies are never validated.
//   - REST API ids are the first 10 characters of a UUID (may contain '-').
//   - Invoke: any Host "<api id>.execute-api.<anything>" (localhost:<port>
//     or <region>.amazonaws.com), path /<stage>/<resource path>. Only
//     AWS_PROXY and HTTP_PROXY integrations run; others answer 500.
//   - Only REQUEST authorizers run (TOKEN/Cognito answer 500). A missing
//     identity source answers 401 without calling the function; the error
//     "Unauthorized" answers 401; a policy that does not Allow the methodArn
//     answers 403; any other function error or malformed answer 500. The
//     result TTL defaults to 300 s; an explicit 0 disables caching. The
//     methodArn is always arn:aws:execute-api:us-east-1:000000000000:
//     <api>/<stage>/<METHOD><resource path>: an authorizer must build its
//     policy from the event's methodArn, not from its own region/account.
//   - The proxy event (payload 1.0) has no requestContext.authorizer and no
//     requestContext.identity; "path" is the matched resource path template,
//     not the raw path (source).
//   - An integration response without statusCode answers 502.
//
// SNS and SQS:
//   - Topic -> SQS delivery happens within Publish (source); without
//     RawMessageDelivery the body is the SNS JSON envelope (Type,
//     MessageId, TopicArn, Subject, Message, Timestamp, ...). email and sms
//     subscriptions are accepted and deliver nothing.
//   - CORRECTION to FIELD-NOTES ("a value that parses as a number"): kumo's
//     query-protocol parser turns any form value that strconv.ParseInt or
//     strconv.ParseBool accepts into a JSON number or bool, so SNS requests
//     whose string field is "12345", "+15555550100", "true", "false", "1",
//     "0", "t", "f", "T", "F" (and the like) fail with InvalidParameter
//     "Failed to parse request body". A Publish Message or Subject of one
//     such word fails. Attribute values (Attributes.entry.N.value) are
//     turned back into strings and are safe.
//   - SQS ReceiveMessage long polls return as soon as a message arrives.
//
// DynamoDB: condition and update expressions and TTL work; CreateTable
// ignores SSESpecification; there is no UpdateContinuousBackups (PITR is
// recorded only). Responses carry no CRC32 header (NewClients turns the
// SDK's check off).
//
// IAM and KMS: CreateRole, PutRolePolicy and AttachRolePolicy exist, but
// kumo knows no AWS-managed policy (arn:aws:iam::aws:policy/...), so
// attaching one fails; the sandbox skips those. Policies are stored, never
// enforced. KMS has CreateKey, CreateAlias, DescribeKey and key policies,
// but no EnableKeyRotation.
//
// CloudWatch Logs: CreateLogGroup and PutRetentionPolicy exist; nothing
// writes to the groups (the functions' output is kept by the sandbox).
//
// Amazon Connect and WAF: not emulated at all.
package sandbox
