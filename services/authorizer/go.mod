module github.com/a2p-alerts/a2p-alerts/services/authorizer

go 1.26.8

require (
	github.com/a2p-alerts/a2p-alerts/shared v0.0.0
	github.com/aws/aws-lambda-go v1.55.1
)

// Resolved by go.work inside the workspace; this keeps builds outside it working.
replace github.com/a2p-alerts/a2p-alerts/shared => ../../shared
