module github.com/a2p-alerts/a2p-alerts/scripts

go 1.26.8

require github.com/a2p-alerts/a2p-alerts/shared v0.0.0

require golang.org/x/text v0.43.0 // indirect

replace github.com/a2p-alerts/a2p-alerts/shared => ../shared
