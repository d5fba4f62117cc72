// Package stack is the a2p-alerts infrastructure as a Pulumi program in Go.
//
// Program loads and validates the stack's configuration (LoadConfig), then
// builds one component per concern and exports the stack outputs:
//
//   - Roles (a2p:iam:Roles): the two Lambda execution roles, created first
//     so that the topic policies can name the processor's role.
//   - Messaging (a2p:messaging:Topics): the KMS key, and per contact the SMS
//     and email topics, subscriptions and topic policies.
//   - Voice (a2p:voice:Connect): the Amazon Connect contact flow and,
//     optionally, the instance and a claimed phone number. Only when some
//     contact is called.
//   - Data (a2p:data:Tables): the contacts and idempotency tables and one
//     item per configured contact.
//   - Functions (a2p:functions:Lambdas): log groups, least-privilege inline
//     role policies and the two Lambda functions.
//   - API (a2p:api:RestApi): the REST API, its authorizer, model, validator,
//     deployment, stage, throttling and optional WAF.
//
// Program returns a Stack holding every component, so unit tests (under
// pulumi.WithMocks) and the offline sandbox can inspect what was built.
package stack
