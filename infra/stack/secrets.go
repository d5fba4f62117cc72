package stack

import (
	"fmt"

	"github.com/pulumi/pulumi/sdk/v3/go/pulumi"
)

// secret marks v as a secret: Pulumi encrypts it in the state and masks it
// in previews and diffs. Contact phone numbers and email addresses, and
// everything holding them, go through here.
func secret(v pulumi.StringInput) pulumi.StringOutput {
	o := pulumi.ToSecret(v)
	out, ok := o.(pulumi.StringOutput)
	if !ok {
		// ToSecret keeps a StringInput's type: only a change in the SDK
		// gets here, and every test run would hit it.
		panic(fmt.Sprintf("ToSecret gave %T, want pulumi.StringOutput", o))
	}
	return out
}
