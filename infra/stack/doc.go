// Package stack is the a2p-alerts infrastructure as a Pulumi program in Go.
//
// Program loads and validates the stack's configuration and checks the
// function packages (LoadConfig, CheckArtifacts: nothing is registered
// when either fails), tags every resource (tagEveryResource), then builds
// one component per concern and exports the stack outputs:
//
//   - Roles (a2p:iam:Roles): one Lambda execution role per function,
//     created first so that the topic policies can name the processor's
//     role.
//   - Messaging (a2p:messaging:Topics): the KMS key, and per contact the SMS
//     and email topics, subscriptions and topic policies.
//   - Voice (a2p:voice:Connect): the Amazon Connect contact flow and,
//     optionally, the instance and a claimed phone number. Only when some
//     contact is called.
//   - Data (a2p:data:Tables): the contacts, idempotency and alerts tables,
//     the alerts table's own KMS key, and one item per configured contact.
//   - Async (a2p:async:Queue): the asynchronous path (Prefer:
//     respond-async): the event bus the processor puts accepted alerts
//     on, the rule and target to the alert queue, the alert queue and its
//     dead-letter queue (redrive after asyncMaxReceiveCount receives),
//     their policies (only the rule sends) and their KMS key.
//   - APIKeys (a2p:api:Keys): one API Gateway key per API client, which
//     the authorizer returns to select the client's usage plan.
//   - Functions (a2p:functions:Lambdas): log groups, least-privilege inline
//     role policies and the Lambda functions (names.Functions: the
//     authorizer, the processor, the read-only status function, the
//     worker and the dead-letter handler, the last two with the event
//     source mappings of their queues).
//   - API (a2p:api:RestApi): the REST API, POST /notification and
//     GET /notification/{message_id} behind one authorizer, model (for
//     documentation), gateway responses, deployment, stage, throttling,
//     one usage plan per client and the optional WAF.
//   - Alarms (a2p:operations:Alarms): the operations topic and the
//     CloudWatch alarms that notify it.
//
// Every physical name starts with "<project>-<stack>". Contact phone
// numbers and email addresses are secrets wherever they reach the state.
//
// To add a route, add its settings to restSettings (gateway.go) and build
// its resources from them in a step of NewAPI (API.createRoute,
// API.createStatusRoute), with its ids in createStage's trigger map, so
// that the deployment trigger covers it; a route behind the authorizer is
// also added to restSettings.authorizedRoutes and names.AuthorizedRoutes
// (TestAuthorizedRoutesMatchTheAPI). To add a function, add its name to
// names.Functions and scripts/lambdazip, its role to Roles and its
// resources to Functions (newStatus is the smallest example). To add an
// alarm, add an alarmSpec (alarms.go).
//
// Program returns a Stack holding every component, so unit tests (under
// pulumi.WithMocks) and the offline sandbox can inspect what was built.
package stack
