// Package sandbox runs a2p-alerts offline: the real Pulumi program
// (infra/stack.Program, configured from Pulumi.local.yaml) and the real
// Lambda binaries against a real AWS emulator, kumo, in about a second,
// with no AWS account, no Pulumi AWS provider and no Docker. The
// integration tests, `make dev`, `make demo` and `make bench` all start it
// with Start, its one entry point.
//
// Start wires the packages below; each holds one concern:
//
//	proc        child processes: process groups, death with the parent,
//	            kept output (Linux only)
//	emulator    kumo as a child process, and SDK clients for it
//	provision   Deploy: the program under Pulumi's mocks, each resource
//	            created in kumo; NotEmulated, the one list of what kumo
//	            cannot host
//	lambdahost  each deployed function's bootstrap as a process, behind
//	            the Runtime API proxy; Build, the zips for this machine
//	standin     test code for AWS features kumo lacks (the Connect stub)
//	observe     what leaves the system: the SNS tap, the X-Ray collector
//
// A sketch:
//
//	sb, err := sandbox.Start(ctx, sandbox.Options{})
//	defer sb.Close()
//	fmt.Println(sb.Timings) // build, emulator, deploy, functions, total
//	req, _ := http.NewRequest(http.MethodPost, sb.URL, body)
//	req.Header.Set("Authorization", sb.Token)
//	resp, err := sb.HTTPClient().Do(req)
//	got, err := sb.Tap.WaitFor(ctx, 1, nil) // the SMS or email it sent
//
// The stage's invokeUrl (and so sb.URL) is the emulator's virtual host,
// http://<api id>.execute-api.localhost:<port>/<stage>, which curl
// resolves by itself and HTTPClient dials for Go.
package sandbox
