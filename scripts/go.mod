module github.com/a2p-alerts/a2p-alerts/scripts

go 1.26.8

require github.com/a2p-alerts/a2p-alerts/shared v0.0.0

replace github.com/a2p-alerts/a2p-alerts/shared => ../shared
