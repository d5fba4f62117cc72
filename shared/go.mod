module github.com/a2p-alerts/a2p-alerts/shared

go 1.26.8
