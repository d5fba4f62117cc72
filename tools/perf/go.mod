// benchstat, run by integration/cmd/bench (make bench) as `go tool benchstat`.
// A module of its own, outside the workspace, so that its dependencies
// change nothing else (like tools/go.mod for kumo).
module github.com/a2p-alerts/a2p-alerts/tools/perf

go 1.26.8

tool golang.org/x/perf/cmd/benchstat

require (
	github.com/aclements/go-moremath v0.0.0-20210112150236-f10218a38794 // indirect
	golang.org/x/perf v0.0.0-20260908200009-22c9c6c9d4da // indirect
)
