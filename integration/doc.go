// Package integration holds the end-to-end tests of a2p-alerts: every test
// drives the deployed stack through HTTP POST /notification on the API
// Gateway invoke URL, as a clinical system would, and checks what reached
// each channel.
//
// By default TestMain starts one embedded sandbox for the whole package
// (sandbox.Start: the real infra program deployed into the kumo emulator,
// the real authorizer and processor binaries, an SNS tap, a Connect stub
// and an X-Ray collector). There nothing skips. Run from the repository
// root (make bin/kumo builds the emulator once):
//
//	go test -count=1 ./integration
//
// Setting A2P_STACK_OUTPUTS (the JSON of `pulumi stack output --json`, or a
// file holding it) and A2P_API_TOKEN runs the same tests against an
// external deployment instead, such as LocalStack; A2P_TARGET_ENDPOINT
// names its AWS endpoint, which lets the tests tap its SNS topics. Tests
// that need an observer the external target lacks (the Connect stub, the
// X-Ray collector, fault injection) skip and say what is missing.
//
// The package has no non-test code besides this file.
package integration
