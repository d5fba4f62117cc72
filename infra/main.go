// Command infra is the a2p-alerts Pulumi program. Pulumi.yaml at the
// project root runs it (main: infra/); the program itself is package stack.
package main

import (
	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"

	"github.com/a2p-alerts/a2p-alerts/infra/stack"
)

func main() {
	pulumi.Run(func(ctx *pulumi.Context) error {
		_, err := stack.Program(ctx)
		return err
	})
}
