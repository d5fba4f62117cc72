module github.com/a2p-alerts/a2p-alerts/shared

go 1.26.8

require golang.org/x/text v0.43.0
